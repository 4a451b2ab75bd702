// Chart.js for the server-rendered pages: every <div class="chart" data-chart='<spec JSON>'> becomes a chart drawn
// on a <canvas> inside it, sized by its box (give .chart a height; app.css sets 300px) and following its size.
// A changed data-chart re-renders the chart. The spec is the server's, not a library's option object:
//   { "type": "bar" | "line", "categories": ["受理", …], "series": [{ "name": "本大厅", "data": [3, …] }, …],
//     "unit": "%", "max": 100, "labels": true, "rotate": 30 }
// (unit, max, labels — each bar's value written above it — and rotate — the category labels' angle — are optional).
// The page's <h2> titles each chart. Only what these charts need is bundled (bar and line, the category and linear
// scales, tooltip, legend): Chart.js is tree-shaken, ECharts' smallest bar chart alone was 490 KB.
import {
  BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip,
} from 'chart.js';

Chart.register(BarController, BarElement, CategoryScale, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip);
Chart.defaults.font.family = '"PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC", sans-serif';
Chart.defaults.locale = 'zh-CN';
Chart.defaults.animation = false; // figures for reading, not a show: drawn at once, also on a slow machine

const COLOURS = ['#5470c6', '#91cc75', '#fac858', '#ee6666', '#73c0de', '#3ba272'];

const charts = new Map(); // element -> Chart

function specOf(element) {
  try {
    return JSON.parse(element.dataset.chart || '{}');
  } catch (error) {
    console.error('[workflows] data-chart is not JSON', element, error);
    element.dataset.chartError = 'invalid-json';
    return null;
  }
}

// each bar's value above it ("33.3%"), for the rate charts read at a glance
const valueLabels = {
  id: 'workflowsValueLabels',
  afterDatasetsDraw(chart) {
    if (!chart.config.options.workflowsLabels) return;
    const { ctx } = chart;
    const unit = chart.config.options.workflowsUnit || '';
    ctx.save();
    ctx.font = `12px ${Chart.defaults.font.family}`;
    ctx.fillStyle = '#333';
    ctx.textAlign = 'center';
    ctx.textBaseline = 'bottom';
    chart.data.datasets.forEach((dataset, index) => {
      chart.getDatasetMeta(index).data.forEach((bar, at) => ctx.fillText(`${dataset.data[at]}${unit}`, bar.x, bar.y - 2));
    });
    ctx.restore();
  },
};

function configOf(spec) {
  const line = spec.type === 'line';
  const unit = spec.unit || '';
  return {
    type: line ? 'line' : 'bar',
    data: {
      labels: spec.categories || [],
      datasets: (spec.series || []).map((series, index) => ({
        label: series.name,
        data: series.data,
        backgroundColor: COLOURS[index % COLOURS.length],
        borderColor: COLOURS[index % COLOURS.length],
        tension: line ? 0.2 : 0,
        maxBarThickness: 48,
      })),
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      interaction: { mode: 'index', intersect: false },
      layout: { padding: { top: spec.labels ? 18 : 4 } },
      scales: {
        x: { ticks: { maxRotation: spec.rotate ?? 0, minRotation: spec.rotate ?? 0, autoSkip: !spec.rotate } },
        y: { beginAtZero: true, max: spec.max, ticks: { precision: 0, callback: (value) => `${value}${unit}` } },
      },
      plugins: {
        legend: { display: (spec.series || []).length > 1 },
        tooltip: { callbacks: { label: (item) => `${item.dataset.label}：${item.formattedValue}${unit}` } },
      },
      workflowsLabels: Boolean(spec.labels),
      workflowsUnit: unit,
    },
    plugins: [valueLabels],
  };
}

function initChart(element) {
  if (charts.has(element)) return charts.get(element);
  const spec = specOf(element);
  if (!spec) return null;
  const canvas = document.createElement('canvas');
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-label', (spec.series || []).map((series) => series.name).join('、'));
  element.replaceChildren(canvas);
  const chart = new Chart(canvas, configOf(spec));
  charts.set(element, chart);
  element.dataset.chartReady = 'true';
  return chart;
}

export function initCharts(root = document) {
  const found = [];
  if (root.matches && root.matches('.chart[data-chart]')) found.push(root);
  if (root.querySelectorAll) found.push(...root.querySelectorAll('.chart[data-chart]'));
  return found.map(initChart).filter(Boolean);
}

new MutationObserver((records) => {
  for (const record of records) {
    const chart = charts.get(record.target);
    const spec = chart && specOf(record.target);
    if (!spec) continue;
    const { data, options } = configOf(spec);
    chart.data = data;
    chart.options = options;
    chart.update();
  }
}).observe(document.documentElement, { attributes: true, attributeFilter: ['data-chart'], subtree: true });

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', () => initCharts());
else initCharts();

window.workflowsCharts = { init: initCharts, Chart, charts };

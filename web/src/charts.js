// ECharts for the server-rendered pages: every <div class="chart" data-chart='<ECharts option JSON>'> becomes a
// chart (zh-CN locale), sized by its box (give .chart a height; app.css sets 300px), resized with the window and
// the box. A changed data-chart re-renders the chart.
// Only what the statistics page draws is bundled (echarts/core + bar and line charts, title, tooltip, legend, grid,
// canvas): a chart type or component not registered below is silently not drawn, so register it here first.
import * as echarts from 'echarts/core';
import { BarChart, LineChart } from 'echarts/charts';
import { GridComponent, LegendPlainComponent, TitleComponent, TooltipComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';

echarts.use([BarChart, LineChart, GridComponent, LegendPlainComponent, TitleComponent, TooltipComponent, CanvasRenderer]);

const charts = new Map(); // element -> instance

function optionOf(element) {
  try {
    return JSON.parse(element.dataset.chart || '{}');
  } catch (error) {
    console.error('[workflows] data-chart is not JSON', element, error);
    element.dataset.chartError = 'invalid-json';
    return null;
  }
}

const FONT = '"PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC", sans-serif';

function initChart(element) {
  if (charts.has(element)) return charts.get(element);
  const option = optionOf(element);
  if (!option) return null;
  const chart = echarts.init(element, null, { locale: 'ZH', renderer: 'canvas' });
  chart.setOption({ textStyle: { fontFamily: FONT }, ...option });
  charts.set(element, chart);
  element.dataset.chartReady = 'true';
  if (typeof ResizeObserver === 'function') new ResizeObserver(() => chart.resize()).observe(element);
  return chart;
}

export function initCharts(root = document) {
  const found = [];
  if (root.matches && root.matches('.chart[data-chart]')) found.push(root);
  if (root.querySelectorAll) found.push(...root.querySelectorAll('.chart[data-chart]'));
  return found.map(initChart).filter(Boolean);
}

function forget() {
  for (const [element, chart] of charts) {
    if (!element.isConnected) {
      chart.dispose();
      charts.delete(element);
    }
  }
}

window.addEventListener('resize', () => {
  forget();
  charts.forEach((chart) => chart.resize());
});

new MutationObserver((records) => {
  for (const record of records) {
    const chart = charts.get(record.target);
    const option = chart && optionOf(record.target);
    if (option) chart.setOption({ textStyle: { fontFamily: FONT }, ...option }, true);
  }
}).observe(document.documentElement, { attributes: true, attributeFilter: ['data-chart'], subtree: true });

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', () => initCharts());
else initCharts();

window.workflowsCharts = { init: initCharts, echarts, charts };

// The case page's diagram: a NavigatedViewer (zoom with the wheel + Ctrl, pan by dragging) that marks where the case is.
//
// Page contract (rendered by Flask):
//   <div id="case-diagram" data-bpmn-url="…" data-current='["Task_review"]'
//        data-completed='["StartEvent_apply","Task_accept"]'></div>
// Every element with the class `case-diagram` is initialised too (e.g. two diagrams of a 转移接续 case).
// Markers: `current` on current elements, `completed` on completed ones and on sequence flows whose source and
// target are both completed or current. Colours are also written into the diagram's DI before import, so arrow heads
// follow; the CSS classes carry the thick stroke and are what tests look for.
import 'bpmn-js/dist/assets/diagram-js.css';
import 'bpmn-js/dist/assets/bpmn-js.css';
import 'bpmn-js/dist/assets/bpmn-font/css/bpmn.css';
import './viewer.css';

import NavigatedViewer from 'bpmn-js/lib/NavigatedViewer';
import camundaModdle from 'camunda-bpmn-moddle/resources/camunda.json';
import TranslateModule from '../shared/translate.js';

const COLOURS = {
  current: { stroke: '#d9480f', fill: '#fff4e6' },
  completed: { stroke: '#2b8a3e', fill: '#ebfbee' },
};

function parseIds(text) {
  if (!text) return [];
  try {
    const value = JSON.parse(text);
    return Array.isArray(value) ? value.map(String) : [];
  } catch (error) {
    console.error('[workflows] data-current / data-completed is not a JSON list', text);
    return [];
  }
}

function paint(di, colours) {
  di.set('bioc:stroke', colours.stroke);
  di.set('bioc:fill', colours.fill);
  di.set('color:border-color', colours.stroke);
  di.set('color:background-color', colours.fill);
}

/** Every flow element of the diagram's processes, those inside sub-processes included. */
function flowElements(definitions) {
  const found = [];
  const visit = (container) => (container.flowElements || []).forEach((element) => {
    found.push(element);
    if (element.flowElements) visit(element);
  });
  (definitions.rootElements || []).filter((root) => root.$type === 'bpmn:Process').forEach(visit);
  return found;
}

/** Which ids get which marker: { current: Set, completed: Set } (flows included). */
export function markedIds(definitions, current, completed) {
  const currentSet = new Set(current);
  const completedSet = new Set(completed.filter((id) => !currentSet.has(id)));
  const reached = (id) => currentSet.has(id) || completedSet.has(id);
  flowElements(definitions).forEach((element) => {
    if (element.$type === 'bpmn:SequenceFlow' && element.sourceRef && element.targetRef
        && reached(element.sourceRef.id) && reached(element.targetRef.id)) completedSet.add(element.id);
  });
  return { current: currentSet, completed: completedSet };
}

/** The limits' plumbing: timer boundary events and event sub-processes with everything their branches reach
 * (escalate, 督办, their ends). Drawn faint unless the case stands or went there, so the main path reads first. */
export function plumbingIds(definitions) {
  const plumbing = new Set();
  const follow = (element) => {
    if (!element || plumbing.has(element.id)) return;
    plumbing.add(element.id);
    (element.outgoing || []).forEach((flow) => {
      plumbing.add(flow.id);
      follow(flow.targetRef);
    });
    (element.flowElements || []).forEach(follow);
  };
  for (const element of flowElements(definitions)) {
    const timer = (element.eventDefinitions || []).some((definition) => definition.$type === 'bpmn:TimerEventDefinition');
    if ((element.$type === 'bpmn:BoundaryEvent' && timer) || (element.$type === 'bpmn:SubProcess' && element.triggeredByEvent)) {
      follow(element);
    }
  }
  return plumbing;
}

function focusOn(viewer, ids) {
  const canvas = viewer.get('canvas');
  const registry = viewer.get('elementRegistry');
  const element = ids.map((id) => registry.get(id)).find(Boolean);
  if (!element) return;
  canvas.zoom(1);
  const { width, height } = canvas.viewbox();
  canvas.viewbox({ x: element.x + element.width / 2 - width / 2, y: element.y + element.height / 2 - height / 2, width, height });
}

// 放大 / 缩小 / 全图 / 当前环节: the diagram is often too small to read when fitted (Ctrl + wheel zooms too)
function addControls(root, viewer, current) {
  const bar = document.createElement('div');
  bar.className = 'case-diagram-controls';
  const canvas = viewer.get('canvas');
  const controls = [
    ['zoom-in', '＋', '放大', () => canvas.zoom(canvas.zoom() * 1.25)],
    ['zoom-out', '－', '缩小', () => canvas.zoom(canvas.zoom() / 1.25)],
    ['fit', '全图', '显示整个流程图', () => canvas.zoom('fit-viewport', 'auto')],
  ];
  if (current.length) controls.push(['current', '当前环节', '放大并定位到当前环节', () => focusOn(viewer, current)]);
  for (const [action, text, title, run] of controls) {
    const button = document.createElement('button');
    button.type = 'button';
    button.dataset.viewerAction = action;
    button.textContent = text;
    button.title = title;
    button.addEventListener('click', run);
    bar.append(button);
  }
  root.append(bar);
}

export async function createViewer(root) {
  const data = root.dataset;
  const viewer = new NavigatedViewer({
    container: root,
    additionalModules: [TranslateModule],
    moddleExtensions: { camunda: camundaModdle },
  });
  const api = { viewer, ready: null };
  root.workflowsViewer = api;
  root.dataset.state = 'loading';

  api.ready = (async () => {
    try {
      const response = await fetch(data.bpmnUrl, {
        credentials: 'same-origin', headers: { Accept: 'application/xml, text/xml, */*' },
      });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const xml = await response.text();

      // colour the DI first, then import the definitions
      const moddle = viewer.get('moddle');
      const { rootElement: definitions } = await moddle.fromXML(xml, 'bpmn:Definitions');
      const marks = markedIds(definitions, parseIds(data.current), parseIds(data.completed));
      (definitions.diagrams || []).forEach((diagram) => (diagram.plane.planeElement || []).forEach((di) => {
        const id = di.bpmnElement && di.bpmnElement.id;
        if (marks.current.has(id)) paint(di, COLOURS.current);
        else if (marks.completed.has(id)) paint(di, COLOURS.completed);
      }));
      const { warnings } = await viewer.importDefinitions(definitions);

      const canvas = viewer.get('canvas');
      const registry = viewer.get('elementRegistry');
      for (const [marker, ids] of Object.entries(marks)) {
        ids.forEach((id) => registry.get(id) && canvas.addMarker(id, marker));
      }
      plumbingIds(definitions).forEach((id) => {
        if (registry.get(id) && !marks.current.has(id) && !marks.completed.has(id)) canvas.addMarker(id, 'limit-plumbing');
      });
      const current = [...marks.current].filter((id) => registry.get(id));
      // where the case stands, at a zoom that reads (the whole diagram fitted makes labels ~3 px high)
      const show = () => (current.length ? focusOn(viewer, current) : canvas.zoom('fit-viewport', 'auto'));
      api.show = show;
      show();
      addControls(root, viewer, current);
      root.dataset.state = 'ready';
      root.dispatchEvent(new CustomEvent('viewer:imported', { bubbles: true, detail: { warnings } }));
      const first = [...marks.current][0];
      if (first && registry.get(first)) root.dataset.focus = first;
    } catch (error) {
      console.error('[workflows] case diagram', error);
      root.dataset.state = 'error';
      const p = document.createElement('p');
      p.className = 'case-diagram-error';
      p.textContent = `流程图无法显示：${error.message}`;
      root.append(p);
      root.dispatchEvent(new CustomEvent('viewer:error', { bubbles: true, detail: { message: error.message } }));
    }
  })();

  // keep it fitted when the box changes size (window resize, a collapsed side bar …)
  if (typeof ResizeObserver === 'function') {
    let last = root.clientWidth;
    new ResizeObserver(() => {
      if (root.dataset.state !== 'ready' || root.clientWidth === last) return;
      last = root.clientWidth;
      viewer.get('canvas').resized();
      if (api.show) api.show();
    }).observe(root);
  }
  return api;
}

function start() {
  const roots = new Set([document.getElementById('case-diagram'), ...document.querySelectorAll('.case-diagram')]);
  roots.forEach((root) => root && root.dataset.bpmnUrl && !root.workflowsViewer && createViewer(root));
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
else start();
document.addEventListener('htmx:load', start);
window.workflowsViewer = { createViewer, start };

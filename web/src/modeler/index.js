// The designer's modeler page: bpmn-js Modeler + Camunda properties panel + 医保引擎 group + bpmnlint.
//
// Page contract (rendered by Flask):
//   <div id="modeler" data-bpmn-url="…" data-publish-url="/api/processes" data-handlers-url="/api/handlers"
//        data-csrf-token="…" data-process-key="item_…">
//     <div class="modeler-toolbar">
//       <button type="button" data-action="lint">检查</button>
//       <button type="button" data-action="publish">发布</button>
//       <button type="button" data-action="download">下载</button>
//       <button type="button" data-action="test">测试</button>   (with data-tests-url and data-run-tests-url on
//                                                                  #modeler: the 测试 panel, test-panel.js)
//     </div>
//     <div class="modeler-canvas"></div><div class="modeler-properties"></div>
//     <div class="modeler-messages" role="status"></div>
//   </div>
// The buttons and the messages may also sit outside #modeler (they are looked up in the page).
import 'bpmn-js/dist/assets/diagram-js.css';
import 'bpmn-js/dist/assets/bpmn-js.css';
import 'bpmn-js/dist/assets/bpmn-font/css/bpmn.css';
import '@bpmn-io/properties-panel/dist/assets/properties-panel.css';
import 'bpmn-js-bpmnlint/dist/assets/css/bpmn-js-bpmnlint.css';
import './modeler.css';

import Modeler from 'bpmn-js/lib/Modeler';
import {
  BpmnPropertiesPanelModule,
  BpmnPropertiesProviderModule,
  CamundaPlatformPropertiesProviderModule,
} from 'bpmn-js-properties-panel';
import CamundaBehaviorsModule from 'camunda-bpmn-js-behaviors/lib/camunda-platform';
import camundaModdle from 'camunda-bpmn-moddle/resources/camunda.json';
import LintingModule from 'bpmn-js-bpmnlint';
import bpmnlintConfig from 'virtual:bpmnlint-recommended';

import TranslateModule, { toChinese } from '../shared/translate.js';
import { guardUnsaved } from '../shared/unsaved.js';
import { askChangeNote } from './publish-dialog.js';
import { createTestPanel } from './test-panel.js';
import WorkflowsPropertiesModule from './provider.jsx';

const ERROR_CATEGORIES = new Set(['error', 'rule-error']);

// Below this zoom a task's name is too small to read (a 100 × 80 task drawn 24 × 20 px at the fitted zoom of a
// wide diagram): the diagram then opens at this zoom from its start, to be scrolled, rather than fitted.
export const LEGIBLE_ZOOM = 0.8;

/** Fit the whole diagram into the part of the canvas right of the palette (bpmn-js's fit-viewport ignores it),
 * or, when that would make it illegible, show its left part at LEGIBLE_ZOOM. */
export function fitBesidePalette(modeler) {
  const canvas = modeler.get('canvas');
  const palette = canvas.getContainer().querySelector('.djs-palette');
  const left = palette ? palette.offsetLeft + palette.offsetWidth : 0;
  const { inner, outer } = canvas.viewbox();
  if (!inner.width || !inner.height || !outer.width) return canvas.zoom('fit-viewport', 'auto');
  const pad = 20;
  const fitted = Math.min((outer.width - left - 2 * pad) / inner.width, (outer.height - 2 * pad) / inner.height, 1);
  const scale = Math.max(fitted, LEGIBLE_ZOOM);
  const x = fitted >= LEGIBLE_ZOOM ? left + (outer.width - left - inner.width * scale) / 2 : left + pad;
  const y = inner.height * scale <= outer.height ? (outer.height - inner.height * scale) / 2 : pad;
  canvas.viewbox({ x: inner.x - x / scale, y: inner.y - y / scale, width: outer.width / scale, height: outer.height / scale });
}

function emit(root, name, detail) {
  root.dispatchEvent(new CustomEvent(name, { detail, bubbles: true }));
}

function elementLabel(modeler, id) {
  const element = modeler.get('elementRegistry').get(id);
  const name = element && element.businessObject && element.businessObject.name;
  return name ? `${name}（${id}）` : id;
}

/** Flat list of bpmnlint's reports: { id, rule, category, message }. */
export function flattenReports(reports) {
  return Object.entries(reports || {}).flatMap(([rule, found]) =>
    (found || []).map((report) => ({ ...report, rule, id: report.actualElementId || report.id })));
}

export function createModeler(root) {
  const data = root.dataset;
  const canvasEl = root.querySelector('.modeler-canvas');
  const propertiesEl = root.querySelector('.modeler-properties');
  const messagesEl = root.querySelector('.modeler-messages') || document.querySelector('.modeler-messages');
  const button = (action) =>
    root.querySelector(`[data-action="${action}"]`) || document.querySelector(`[data-action="${action}"]`);

  const modeler = new Modeler({
    container: canvasEl,
    propertiesPanel: { parent: propertiesEl, layout: { groups: { workflows: { open: true } } } },
    additionalModules: [
      BpmnPropertiesPanelModule,
      BpmnPropertiesProviderModule,
      CamundaPlatformPropertiesProviderModule,
      CamundaBehaviorsModule,
      LintingModule,
      WorkflowsPropertiesModule,
      TranslateModule,
    ],
    moddleExtensions: { camunda: camundaModdle },
    linting: { bpmnlint: bpmnlintConfig, active: false },
    workflows: { handlersUrl: data.handlersUrl },
  });

  const linting = modeler.get('linting');
  const unsaved = guardUnsaved();
  // an edit, its undo or redo (import clears the stack: trigger 'clear')
  modeler.on('commandStack.changed', ({ trigger }) => { if (trigger !== 'clear') unsaved.changed(); });

  // the canvas box changes size with the window and while lint results are listed: tell diagram-js
  if (typeof ResizeObserver === 'function') new ResizeObserver(() => modeler.get('canvas').resized()).observe(canvasEl);
  let lintShown = false; // the messages list shows lint results and follows the diagram's changes

  // ---- messages -------------------------------------------------------------------------------------------------

  // the element a failed publish named keeps a red outline until the diagram changes
  let flagged = null;
  function unflag() {
    if (flagged && modeler.get('elementRegistry').get(flagged)) modeler.get('canvas').removeMarker(flagged, 'publish-error');
    flagged = null;
  }
  modeler.on('commandStack.changed', unflag);

  function flag(id) {
    unflag();
    if (!modeler.get('elementRegistry').get(id)) return;
    modeler.get('canvas').addMarker(id, 'publish-error');
    flagged = id;
  }

  function locate(id) {
    const element = id && modeler.get('elementRegistry').get(id);
    if (!element) return false;
    modeler.get('selection').select(element);
    const canvas = modeler.get('canvas');
    if (element !== canvas.getRootElement()) canvas.scrollToElement(element, { top: 100, bottom: 100, left: 100, right: 100 });
    return true;
  }

  function showMessage(kind, text, issues) {
    lintShown = false;
    if (!messagesEl) return;
    messagesEl.replaceChildren();
    messagesEl.dataset.kind = kind;
    if (text) {
      const p = document.createElement('p');
      p.className = `msg msg-${kind}`;
      p.textContent = text;
      messagesEl.append(p);
    }
    if (issues && issues.length) messagesEl.append(issueList(issues));
    root.classList.toggle('modeler-listing', Boolean(issues && issues.length));
  }

  function issueList(issues) {
    const ul = document.createElement('ul');
    ul.className = 'lint-list';
    const sorted = issues.slice().sort((a, b) =>
      Number(!ERROR_CATEGORIES.has(a.category)) - Number(!ERROR_CATEGORIES.has(b.category)));
    for (const issue of sorted) {
      const error = ERROR_CATEGORIES.has(issue.category);
      const li = document.createElement('li');
      li.className = error ? 'lint-error' : 'lint-warn';
      li.dataset.elementId = issue.id;
      li.dataset.rule = issue.rule;
      const kind = document.createElement('span');
      kind.className = 'lint-kind';
      kind.textContent = error ? '错误' : '警告';
      const where = document.createElement('button');
      where.type = 'button';
      where.className = 'lint-element';
      where.title = '在画布上定位';
      where.textContent = elementLabel(modeler, issue.id);
      where.addEventListener('click', () => locate(issue.id));
      const text = document.createElement('span');
      text.className = 'lint-text';
      text.textContent = toChinese(issue.message);
      const rule = document.createElement('code');
      rule.className = 'lint-rule';
      rule.textContent = issue.rule;
      li.append(kind, where, text, rule);
      ul.append(li);
    }
    return ul;
  }

  function summary(issues) {
    const errors = issues.filter((issue) => ERROR_CATEGORIES.has(issue.category)).length;
    const warnings = issues.length - errors;
    if (!issues.length) return { errors, warnings, text: '检查通过：没有发现问题。', kind: 'ok' };
    if (!errors) return { errors, warnings, text: `检查通过：没有错误，${warnings} 个警告。`, kind: 'ok' };
    return { errors, warnings, text: `检查发现 ${errors} 个错误、${warnings} 个警告。`, kind: 'error' };
  }

  // ---- actions --------------------------------------------------------------------------------------------------

  async function lint() {
    const issues = flattenReports(await linting.lint());
    linting.toggle(true); // overlays on the canvas
    const result = summary(issues);
    showMessage(result.kind, result.text, issues);
    lintShown = true;
    emit(root, 'modeler:linted', { errors: result.errors, warnings: result.warnings, issues });
    return { ...result, issues };
  }

  // While lint results are listed, keep the list in step with the diagram.
  modeler.on('linting.completed', ({ issues: byElement }) => {
    if (!lintShown) return;
    const issues = Object.values(byElement || {}).flat()
      .map((report) => ({ ...report, id: report.actualElementId || report.id }));
    const result = summary(issues);
    showMessage(result.kind, result.text, issues);
    lintShown = true;
  });

  function processKey() {
    if (data.processKey) return data.processKey;
    const definitions = modeler.getDefinitions();
    const process = definitions && definitions.rootElements.find((element) => element.$type === 'bpmn:Process');
    return (process && process.id) || 'diagram';
  }

  async function publish() {
    unflag();
    const result = await lint();
    if (result.errors) {
      showMessage('error', `流程图有 ${result.errors} 个错误，不能发布。请先在画布上修正（点击下面的元素可定位）。`,
        result.issues);
      emit(root, 'modeler:publish-refused', { errors: result.errors, issues: result.issues });
      return null;
    }
    const note = await askChangeNote(root, result.warnings);
    if (note === null) {
      showMessage('info', '未发布：已取消。');
      return null;
    }
    const { xml } = await modeler.saveXML({ format: true });
    const form = new FormData();
    const name = `${processKey()}.bpmn`;
    form.append('file', new Blob([xml], { type: 'application/xml' }), name);
    form.append('note', note);
    showMessage('info', '正在发布…');
    let response;
    try {
      response = await fetch(data.publishUrl || '/api/processes', {
        method: 'POST',
        body: form,
        credentials: 'same-origin',
        headers: { 'X-CSRFToken': data.csrfToken || '', Accept: 'application/json' },
      });
    } catch (error) {
      showMessage('error', `发布失败：无法连接服务器（${error.message}）。`);
      emit(root, 'modeler:publish-failed', { status: 0, message: error.message });
      return null;
    }
    let body = null;
    try { body = await response.json(); } catch (e) { body = null; }
    if (response.status === 201 || response.ok) {
      const version = body && body.version;
      const text = version != null ? `已发布为第 ${version} 版` : '已发布';
      showMessage('ok', result.warnings ? `${text}（另有 ${result.warnings} 个警告）。` : `${text}。`);
      unsaved.saved();
      modeler.get('selection').select([]);
      emit(root, 'modeler:published', { version, response: body });
      return body;
    }
    const error = (body && body.error) || {};
    const message = error.message || (response.status >= 500
      ? `发布失败：服务器出错（HTTP ${response.status}），请稍后再试。`
      : `发布失败（HTTP ${response.status}）。`);
    const located = error.element_id ? locate(error.element_id) : false;
    if (located) flag(error.element_id);
    showMessage('error', error.element_id && !located ? `${message}（元素 ${error.element_id}）` : message);
    if (messagesEl && error.element_id) messagesEl.dataset.elementId = error.element_id;
    emit(root, 'modeler:publish-failed', { status: response.status, message, elementId: error.element_id || null });
    return null;
  }

  async function download() {
    const { xml } = await modeler.saveXML({ format: true });
    const url = URL.createObjectURL(new Blob([xml], { type: 'application/xml;charset=utf-8' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = `${processKey()}.bpmn`;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
    showMessage('ok', `已下载 ${a.download}。`);
    emit(root, 'modeler:downloaded', { fileName: a.download });
  }

  function guarded(action, run) {
    const el = button(action);
    if (!el) return;
    el.addEventListener('click', async (event) => {
      event.preventDefault();
      if (el.disabled) return;
      el.disabled = true;
      root.setAttribute('aria-busy', 'true');
      try {
        await run();
      } catch (error) {
        console.error(error);
        showMessage('error', `操作失败：${error.message}`);
      } finally {
        el.disabled = false;
        root.removeAttribute('aria-busy');
      }
    });
  }
  guarded('lint', lint);
  guarded('publish', publish);
  guarded('download', download);
  const tests = data.testsUrl ? createTestPanel(root, modeler, { locate, showMessage }) : null;
  if (tests) guarded('test', () => tests.toggle());

  // ---- load -----------------------------------------------------------------------------------------------------

  async function load() {
    root.dataset.state = 'loading';
    showMessage('info', '正在加载流程图…');
    try {
      let warnings = [];
      if (data.bpmnUrl) {
        const response = await fetch(data.bpmnUrl, {
          credentials: 'same-origin', headers: { Accept: 'application/xml, text/xml, */*' },
        });
        if (!response.ok) throw new Error(`加载流程图失败（HTTP ${response.status}）`);
        ({ warnings } = await modeler.importXML(await response.text()));
      } else {
        ({ warnings } = await modeler.createDiagram());
      }
      fitBesidePalette(modeler);
      unsaved.saved();
      root.dataset.state = 'ready';
      showMessage('info', warnings.length
        ? `流程图已加载，导入时有 ${warnings.length} 条警告（见浏览器控制台）。`
        : '流程图已加载。点击元素可在右侧编辑属性；“检查”运行规则检查，“发布”部署为新版本。');
      if (warnings.length) console.warn('[workflows] import warnings', warnings);
      emit(root, 'modeler:imported', { warnings });
    } catch (error) {
      root.dataset.state = 'error';
      showMessage('error', error.message.startsWith('加载') ? error.message : `流程图无法导入：${error.message}`);
      emit(root, 'modeler:error', { message: error.message });
    }
  }

  const api = { modeler, lint, publish, download, locate, load, tests, fit: () => fitBesidePalette(modeler) };
  root.workflowsModeler = api;
  window.workflowsModeler = api;
  api.ready = load();
  return api;
}

function start() {
  const root = document.getElementById('modeler');
  if (root && !root.workflowsModeler) createModeler(root);
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
else start();

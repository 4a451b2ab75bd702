// The designer's decision-table page (禁办情形): dmn-js's decision-table editor, entries in Python, 发布 to the server.
//
// Page contract (rendered by Flask):
//   <div id="dmn-editor" data-dmn-url="…" data-publish-url="…" data-csrf-token="…">
//     <div class="dmn-editor-table"></div>
//   </div>
//   <button type="button" data-action="publish">发布</button>
//   <div class="dmn-editor-messages" role="status"></div>
// GET data-dmn-url answers the DMN XML; PUT data-publish-url takes it (application/xml) and answers the process
// versions it published ({ published: [{ process_key, name, version, … }] }, none when the table is unchanged), or
// { error: { message, fields, element_id } }.
// Events on #dmn-editor: dmn-editor:imported, dmn-editor:published { versions }, dmn-editor:publish-failed.
import 'dmn-js-shared/assets/css/dmn-js-shared.css';
import 'dmn-js-decision-table/assets/css/dmn-js-decision-table.css';
import 'dmn-js-decision-table/assets/css/dmn-js-decision-table-controls.css';
import 'dmn-js/dist/assets/dmn-font/css/dmn.css';
import './dmn-editor.css';

import EditingManager from 'dmn-js-shared/lib/base/EditingManager';
import DecisionTableEditor from 'dmn-js-decision-table/lib/Editor';
import { HIT_POLICIES } from 'dmn-js-decision-table/lib/features/hit-policy/HitPolicies';
import simpleModeModule from 'dmn-js-decision-table/lib/features/simple-mode';
import simpleBooleanEditModule from 'dmn-js-decision-table/lib/features/simple-boolean-edit';
import simpleDateEditModule from 'dmn-js-decision-table/lib/features/simple-date-edit';
import simpleDateTimeEditModule from 'dmn-js-decision-table/lib/features/simple-date-time-edit';
import simpleDurationEditModule from 'dmn-js-decision-table/lib/features/simple-duration-edit';
import simpleNumberEditModule from 'dmn-js-decision-table/lib/features/simple-number-edit';
import simpleStringEditModule from 'dmn-js-decision-table/lib/features/simple-string-edit';
import simpleTimeEditModule from 'dmn-js-decision-table/lib/features/simple-time-edit';
import { is } from 'dmn-js-shared/lib/util/ModelUtil';

import { guardUnsaved } from '../shared/unsaved.js';
import TranslateModule, { relabelHardCoded } from './translate.js';

// The engine (SpiffWorkflow) evaluates FIRST and UNIQUE only (UNIQUE as first match): offer no other hit policy.
const SUPPORTED = HIT_POLICIES.filter((entry) => ['FIRST', 'UNIQUE'].includes(entry.value.hitPolicy));
HIT_POLICIES.splice(0, HIT_POLICIES.length, ...SUPPORTED);

// The "simple mode" pop-ups write FEEL (`"A","B"`, `[1..10]`) that the Python evaluation silently never matches.
const FEEL_ONLY = new Set([simpleModeModule, simpleBooleanEditModule, simpleDateEditModule, simpleDateTimeEditModule,
  simpleDurationEditModule, simpleNumberEditModule, simpleStringEditModule, simpleTimeEditModule]);

class PythonDecisionTableEditor extends DecisionTableEditor {
  getModules() {
    return super.getModules().filter((module) => !FEEL_ONLY.has(module));
  }
}

/** dmn-js with one view: a decision's table (no DRD, literal expression or boxed expression editors). */
export class DecisionTableModeler extends EditingManager {
  _getViewProviders() {
    return [{
      id: 'decisionTable',
      constructor: PythonDecisionTableEditor,
      opens: (element) => is(element, 'dmn:Decision') && is(element.decisionLogic, 'dmn:DecisionTable'),
    }];
  }
}

// Cells are plain text in Python (SpiffWorkflow's DMN engine), not FEEL: no FEEL editor or FEEL syntax checks.
export const PYTHON = { options: [{ value: 'python', label: 'Python' }], defaults: { editor: 'python' } };

function emit(root, name, detail) {
  root.dispatchEvent(new CustomEvent(name, { detail, bubbles: true }));
}

function listItems(texts) {
  const ul = document.createElement('ul');
  for (const text of texts) {
    const li = document.createElement('li');
    li.textContent = text;
    ul.append(li);
  }
  return ul;
}

/** The lines a failed publish shows: its message, then each field's message not already in it. */
export function errorLines(status, body) {
  const error = (body && body.error) || {};
  const message = error.message || (status >= 500
    ? `发布失败：服务器出错（HTTP ${status}），请稍后再试。`
    : `发布失败（HTTP ${status}）。`);
  const details = Object.values(error.fields || {}).map(String).filter((text) => text && text !== message);
  return { message, details, elementId: error.element_id || null };
}

export function versionLine(version) {
  return `${version.name}（${version.process_key}）第 ${version.version} 版`;
}

export function createDmnEditor(root) {
  const data = root.dataset;
  const messagesEl = document.querySelector('.dmn-editor-messages');
  const publishButton = document.querySelector('[data-action="publish"]');

  const editor = new DecisionTableModeler({
    container: root.querySelector('.dmn-editor-table'),
    common: { expressionLanguages: PYTHON },
    decisionTable: { additionalModules: [TranslateModule] },
  });

  function showMessage(kind, text, items) {
    if (!messagesEl) return;
    messagesEl.replaceChildren();
    messagesEl.dataset.kind = kind;
    const p = document.createElement('p');
    p.className = `msg msg-${kind}`;
    p.textContent = text;
    messagesEl.append(p);
    if (items && items.length) messagesEl.append(listItems(items));
  }

  // the cell, rule or column a failed publish named is outlined in red until the table changes
  function flag(id) {
    const value = CSS.escape(id);
    const named = `[data-element-id="${value}"], [data-row-id="${value}"], [data-col-id="${value}"]`;
    for (const cell of root.querySelectorAll(named)) cell.classList.add('publish-error');
  }
  /** Where the element a failed publish named sits, in the designer's words: 第 2 条规则，“禁办情形”列. */
  function where(id) {
    const viewer = editor.getActiveViewer();
    const element = viewer && viewer.get('elementRegistry').get(id);
    if (!element) return null;
    const { rows, cols } = viewer.get('sheet').getRoot();
    const row = element.row || (rows.includes(element) && element);
    const col = element.col || (cols.includes(element) && element);
    const column = col && (col.businessObject.label || col.businessObject.name || col.id);
    const parts = [row && `第 ${rows.indexOf(row) + 1} 条规则`, column && `“${column}”列`].filter(Boolean);
    return parts.length ? parts.join('，') : null;
  }
  function unflag() {
    for (const cell of root.querySelectorAll('.publish-error')) cell.classList.remove('publish-error');
  }

  async function publish() {
    unflag();
    const { xml } = await editor.saveXML({ format: true });
    showMessage('info', '正在发布…');
    let response;
    try {
      response = await fetch(data.publishUrl, {
        method: 'PUT',
        body: xml,
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/xml', 'X-CSRFToken': data.csrfToken || '', Accept: 'application/json' },
      });
    } catch (error) {
      showMessage('error', `发布失败：无法连接服务器（${error.message}）。`);
      emit(root, 'dmn-editor:publish-failed', { status: 0, message: error.message });
      return null;
    }
    let body = null;
    try { body = await response.json(); } catch (e) { body = null; }
    if (response.ok && body && Array.isArray(body.published)) {
      const versions = body.published;
      showMessage('ok', versions.length ? '已发布，以下流程生成了新版本（新办件按新版本办理）：' : '决策表没有改动，未生成新版本。',
        versions.map(versionLine));
      unsaved.saved();
      emit(root, 'dmn-editor:published', { versions });
      return versions;
    }
    const { message, details, elementId } = errorLines(response.status, body);
    const place = elementId && where(elementId);
    showMessage('error', message, place ? [`出错位置：${place}（已用红框标出）`, ...details] : details);
    if (elementId) {
      flag(elementId);
      if (messagesEl) messagesEl.dataset.elementId = elementId;
    }
    emit(root, 'dmn-editor:publish-failed', { status: response.status, message, details, elementId });
    return null;
  }

  if (publishButton) {
    publishButton.addEventListener('click', async (event) => {
      event.preventDefault();
      if (publishButton.disabled) return;
      publishButton.disabled = true;
      root.setAttribute('aria-busy', 'true');
      try {
        await publish();
      } catch (error) {
        console.error(error);
        showMessage('error', `操作失败：${error.message}`);
      } finally {
        publishButton.disabled = false;
        root.removeAttribute('aria-busy');
      }
    });
  }

  const unsaved = guardUnsaved();
  editor.on('viewer.created', ({ viewer }) => viewer.on('elements.changed', () => {
    unflag();
    unsaved.changed();
  }));

  async function load() {
    root.dataset.state = 'loading';
    showMessage('info', '正在加载决策表…');
    try {
      const response = await fetch(data.dmnUrl, { credentials: 'same-origin', headers: { Accept: 'application/xml' } });
      if (!response.ok) throw new Error(`加载决策表失败（HTTP ${response.status}）`);
      const { warnings } = await editor.importXML(await response.text());
      if (!editor.getActiveViewer()) throw new Error('文件中没有决策表');
      root.dataset.state = 'ready';
      unsaved.saved();
      showMessage('info', '决策表已加载。点击单元格直接修改；右键单击规则可添加、删除或移动；改好后点“发布”。');
      if (warnings.length) console.warn('[workflows] DMN import warnings', warnings);
      emit(root, 'dmn-editor:imported', { warnings });
    } catch (error) {
      root.dataset.state = 'error';
      showMessage('error', error.message.startsWith('加载') ? error.message : `决策表无法导入：${error.message}`);
    }
  }

  const api = { editor, publish, load };
  root.workflowsDmnEditor = api;
  window.workflowsDmnEditor = api;
  api.ready = load();
  return api;
}

function start() {
  const root = document.getElementById('dmn-editor');
  if (!root || root.workflowsDmnEditor) return;
  relabelHardCoded();
  createDmnEditor(root);
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
else start();

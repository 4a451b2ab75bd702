// The modeler's 测试 panel: run the draft on the canvas against the process's tests (in memory on the server, no
// case is opened), step through each test's path, colour the flows some test took and those none did, and save the
// tests with the process (each publish runs them: a publish they fail is refused, naming the step).
//
// Page contract: a button [data-action="test"] toggles the panel; #modeler carries data-tests-url
// (GET/PUT /api/processes/<key>/tests) and data-run-tests-url (POST /api/process-tests/run).
function element(tag, attributes = {}, text = '') {
  const node = document.createElement(tag);
  Object.entries(attributes).forEach(([name, value]) => node.setAttribute(name, value));
  if (text) node.textContent = text;
  return node;
}

function build() {
  const panel = element('section', { id: 'modeler-tests', class: 'modeler-tests', 'aria-label': '流程测试', hidden: '' });
  panel.innerHTML = `
    <div class="modeler-tests-bar">
      <strong>流程测试</strong>
      <span class="modeler-tests-hint">按测试用例在内存中运行当前草稿，不建案件、不调用外部系统；发布时运行已保存的用例。</span>
      <button type="button" class="btn btn-primary" data-test-action="run">运行</button>
      <button type="button" class="btn" data-test-action="save">保存用例</button>
      <a class="btn" data-test-action="export">导出 YAML</a>
      <label class="btn">导入文件<input type="file" accept=".yaml,.yml,.json" data-test-action="import" hidden></label>
    </div>
    <div class="modeler-tests-body">
      <label class="modeler-tests-editor">测试用例（JSON：名称、申请数据、步骤、期望）
        <textarea name="tests" rows="6" spellcheck="false"></textarea></label>
      <div class="modeler-tests-results" role="status" aria-live="polite"></div>
    </div>`;
  return panel;
}

export function createTestPanel(root, modeler, { locate, showMessage }) {
  const data = root.dataset;
  const panel = build();
  root.after(panel);
  const textarea = panel.querySelector('textarea');
  const results = panel.querySelector('.modeler-tests-results');
  const canvas = modeler.get('canvas');
  const registry = modeler.get('elementRegistry');
  let marked = [];
  let loaded = false;

  function clearMarkers() {
    marked.forEach(([id, marker]) => registry.get(id) && canvas.removeMarker(id, marker));
    marked = [];
  }
  function mark(ids, marker) {
    ids.filter((id) => registry.get(id)).forEach((id) => { canvas.addMarker(id, marker); marked.push([id, marker]); });
  }
  modeler.on('commandStack.changed', clearMarkers); // colours belong to the diagram they were run on

  const headers = (extra = {}) => ({ 'X-CSRFToken': data.csrfToken || '', Accept: 'application/json', ...extra });

  async function answer(response) {
    let body = null;
    try { body = await response.json(); } catch (e) { body = null; }
    if (response.ok) return body;
    const error = (body && body.error) || {};
    const fields = Object.entries(error.fields || {}).map(([name, text]) => `${name}：${text}`).join('；');
    throw new Error([error.message || `HTTP ${response.status}`, fields].filter(Boolean).join('：'));
  }

  async function load() {
    const body = await answer(await fetch(data.testsUrl, { credentials: 'same-origin', headers: headers() }));
    textarea.value = JSON.stringify(body.tests, null, 2);
    loaded = true;
  }

  function tests() {
    try {
      return JSON.parse(textarea.value || '[]');
    } catch (error) {
      throw new Error(`测试用例不是有效的 JSON：${error.message}`);
    }
  }

  function showCoverage(coverage) {
    mark(coverage.taken, 'test-taken');
    mark(coverage.missed, 'test-missed');
    mark(coverage.missed_branches, 'test-missed-branch');
    const line = element('p', { class: 'modeler-tests-coverage' },
      `连线覆盖 ${coverage.taken.length}/${coverage.taken.length + coverage.missed.length}；未走过的网关分支：`);
    if (!coverage.missed_branches.length) line.append('无');
    coverage.missed_branches.forEach((id) => {
      const go = element('button', { type: 'button', class: 'lint-element', 'data-element-id': id }, id);
      go.addEventListener('click', () => locate(id));
      line.append(go, ' ');
    });
    return line;
  }

  // One test's path, step by step: the elements passed so far (green) and where it stands (amber).
  function stepper(test) {
    const box = element('span', { class: 'modeler-tests-stepper' });
    const label = element('span', { class: 'modeler-tests-step' });
    let index = test.trace.length - 1;
    const show = () => {
      clearMarkers();
      const trace = test.trace[index];
      mark(trace.passed, 'test-passed');
      mark(trace.waiting, 'test-waiting');
      if (!test.passed && index === test.trace.length - 1 && test.element_id) mark([test.element_id], 'test-failed');
      label.textContent = `第 ${trace.step} 步（${trace.label}）后：停在 ${trace.waiting.join('、') || '结束'}`;
    };
    const previous = element('button', { type: 'button', class: 'btn', 'data-test-action': 'previous' }, '上一步');
    const next = element('button', { type: 'button', class: 'btn', 'data-test-action': 'next' }, '下一步');
    previous.addEventListener('click', () => { index = Math.max(0, index - 1); show(); });
    next.addEventListener('click', () => { index = Math.min(test.trace.length - 1, index + 1); show(); });
    box.append(previous, next, label);
    return { box, show };
  }

  function showReport(report) {
    clearMarkers();
    results.replaceChildren();
    const failed = report.tests.filter((test) => !test.passed).length;
    results.dataset.state = failed ? 'failed' : 'passed';
    results.append(element('p', { class: `msg msg-${failed ? 'error' : 'ok'}` }, failed
      ? `${report.tests.length} 个测试中 ${failed} 个未通过。`
      : `${report.tests.length} 个测试全部通过。`));
    const list = element('ul', { class: 'modeler-tests-list' });
    report.tests.forEach((test) => {
      const item = element('li', { class: test.passed ? 'test-ok' : 'test-fail', 'data-test-name': test.name });
      item.append(element('span', { class: 'test-verdict' }, test.passed ? '通过' : '未通过'), ' ',
        element('span', { class: 'test-name' }, test.name));
      if (!test.passed) item.append(element('span', { class: 'test-problem' }, `：${test.summary}`));
      if (test.trace.length) {
        const { box, show } = stepper(test);
        const view = element('button', { type: 'button', class: 'btn', 'data-test-action': 'path' }, '查看路径');
        view.addEventListener('click', () => { item.append(box); show(); if (test.element_id) locate(test.element_id); });
        item.append(' ', view);
      }
      list.append(item);
    });
    results.append(list, showCoverage(report.coverage));
    const first = report.tests.find((test) => !test.passed);
    if (first && first.element_id) { mark([first.element_id], 'test-failed'); locate(first.element_id); }
  }

  async function run() {
    const { xml } = await modeler.saveXML({ format: true });
    results.replaceChildren(element('p', { class: 'msg msg-info' }, '正在运行测试…'));
    const body = JSON.stringify({ xml, file_name: `${data.processKey}.bpmn`, tests: tests() });
    showReport(await answer(await fetch(data.runTestsUrl, {
      method: 'POST', body, credentials: 'same-origin', headers: headers({ 'Content-Type': 'application/json' }),
    })));
  }

  async function save(body, type) {
    const saved = await answer(await fetch(data.testsUrl, {
      method: 'PUT', body, credentials: 'same-origin', headers: headers({ 'Content-Type': type }),
    }));
    textarea.value = JSON.stringify(saved.tests, null, 2);
    showMessage('ok', `已保存 ${saved.tests.length} 个测试用例；发布时将逐一运行。`);
  }

  const actions = {
    run,
    save: () => save(JSON.stringify({ tests: tests() }), 'application/json'),
  };
  panel.querySelectorAll('button[data-test-action]').forEach((button) => {
    const action = actions[button.dataset.testAction];
    button.addEventListener('click', async () => {
      button.disabled = true;
      try { await action(); } catch (error) {
        results.replaceChildren(element('p', { class: 'msg msg-error', role: 'alert' }, error.message));
      } finally { button.disabled = false; }
    });
  });
  panel.querySelector('[data-test-action="export"]').href = `${data.testsUrl}?format=yaml`;
  panel.querySelector('input[data-test-action="import"]').addEventListener('change', async (event) => {
    const file = event.target.files[0];
    if (!file) return;
    const json = file.name.endsWith('.json');
    try { await save(await file.text(), json ? 'application/json' : 'application/yaml'); } catch (error) {
      results.replaceChildren(element('p', { class: 'msg msg-error', role: 'alert' }, error.message));
    }
    event.target.value = '';
  });

  return {
    async toggle() {
      panel.hidden = !panel.hidden;
      if (!panel.hidden && !loaded) await load();
      if (panel.hidden) clearMarkers();
      return !panel.hidden;
    },
    run,
    clear: clearMarkers,
  };
}

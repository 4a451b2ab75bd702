// The decision-table editor (dist/dmn-editor.js, the 决策表 page) and the tables it edits: the bundle carries what
// the page uses, and every decision table in bpmn/decisions/ opens in dmn-js's model as the editor will open it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { DmnModdle } from 'dmn-moddle';

const dist = new URL('../dist/', import.meta.url);
const manifest = JSON.parse(readFileSync(new URL('manifest.json', dist), 'utf8'));
const read = (name) => readFileSync(new URL(manifest[name], dist), 'utf8'); // by the name a page asks for

test('dmn-editor.js carries the page contract and the Chinese wording', () => {
  const bundle = read('dmn-editor.js');
  for (const part of ['#dmn-editor', '.dmn-editor-table', '.dmn-editor-messages', '[data-action="publish"]',
    'X-CSRFToken', 'PUT', 'application/xml', 'dmn-editor:published', 'dmn-editor:publish-failed']) {
    assert.ok(bundle.includes(part.replace(/^#/, '')), `${part} not in dmn-editor.js`);
  }
  for (const label of ['命中策略', '添加规则', '删除规则', '首个命中（FIRST）', '已发布，以下流程生成了新版本', '决策表已加载']) {
    assert.ok(bundle.includes(label), `${label} not in dmn-editor.js`);
  }
  assert.ok(bundle.includes('"python"') || bundle.includes("'python'"), 'cells are not Python by default');
});

test('dmn-editor.css styles the decision table with the dmn icon font', () => {
  const css = read('dmn-editor.css').replace(/\s|["']/g, '');
  for (const part of ['.dmn-decision-table-container', '.tjs-container', '.context-menu', '@font-face{font-family:dmn',
    '#dmn-editortd.publish-error']) {
    assert.ok(css.includes(part), `${part} not in dmn-editor.css`);
  }
});

const folder = new URL('../../bpmn/decisions/', import.meta.url);
const files = existsSync(folder) ? readdirSync(folder).filter((name) => name.endsWith('.dmn')).sort() : [];

test('there are decision tables to check', () => assert.ok(files.length >= 1, 'no bpmn/decisions/*.dmn'));

for (const file of files) {
  test(file, async () => {
    const { rootElement: definitions, warnings } = await new DmnModdle().fromXML(
      readFileSync(new URL(file, folder), 'utf8'), 'dmn:Definitions');
    assert.deepEqual(warnings.map((warning) => warning.message), []);
    const decisions = definitions.drgElement.filter((element) => element.$type === 'dmn:Decision');
    assert.equal(decisions.length, 1, 'one decision per file');
    const table = decisions[0].decisionLogic;
    assert.equal(table && table.$type, 'dmn:DecisionTable', 'the decision is a decision table');
    assert.ok(['FIRST', 'UNIQUE'].includes(table.hitPolicy), `hit policy ${table.hitPolicy}`);
    assert.ok(table.rule.length >= 1, 'the table has rules');
    for (const rule of table.rule) {
      assert.equal(rule.inputEntry.length, table.input.length, `${rule.id}: one entry per input`);
      assert.equal(rule.outputEntry.length, table.output.length, `${rule.id}: one entry per output`);
    }
  });
}

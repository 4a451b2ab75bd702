// Our bpmnlint rules (src/lint/): a user task naming no role is warned about; one in a role lane, or with
// candidateGroups naming a role (or an expression giving them), is not. Run on the conformance diagrams.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { BpmnModdle } from 'bpmn-moddle';
import { Linter } from 'bpmnlint';
import userTaskRole from '../src/lint/user-task-role.js';

const require = createRequire(import.meta.url);
const camunda = require('camunda-bpmn-moddle/resources/camunda.json');
const StaticResolver = require('bpmnlint/lib/resolver/static-resolver');

const fixtures = new URL('../../tests/fixtures/conformance/', import.meta.url);

async function warnings(file, edit = (xml) => xml) {
  const moddle = new BpmnModdle({ camunda });
  const { rootElement } = await moddle.fromXML(edit(readFileSync(new URL(file, fixtures), 'utf8')));
  const resolver = new StaticResolver({ 'rule:bpmnlint-plugin-yibao/user-task-role': userTaskRole });
  const linter = new Linter({ config: { rules: { 'yibao/user-task-role': 'warn' } }, resolver });
  const reports = await linter.lint(rootElement);
  return (reports['yibao/user-task-role'] || []).map((report) => `${report.id} ${report.category}: ${report.message}`);
}

test('a user task with no role lane and no role group is warned about', async () => {
  assert.deepEqual(await warnings('lanes_without_roles.bpmn'), [
    'Task_accept warn: 用户任务未指定岗位（岗位泳道或 camunda:candidateGroups）：将交由本大厅任一岗位办理']);
  assert.equal((await warnings('candidate_users.bpmn')).length, 1);
});

test('a role lane, a role group or groups given by an expression name the role', async () => {
  assert.deepEqual(await warnings('task_attributes.bpmn'), []);
  assert.deepEqual(await warnings('lanes_without_roles.bpmn', (xml) => xml.replace('name="前台"', 'name="受理员"')), []);
  assert.deepEqual(await warnings('lanes_without_roles.bpmn',
    (xml) => xml.replace('name="受理">', 'name="受理" camunda:candidateGroups="${groups}">')), []);
});

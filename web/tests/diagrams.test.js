// Every diagram in bpmn/ imports into bpmn-js's model (bpmn-moddle with the Camunda extension) without a
// warning, has a shape or edge for every element, and passes bpmnlint's recommended rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { BpmnModdle } from 'bpmn-moddle';
import { Linter } from 'bpmnlint';

const require = createRequire(import.meta.url);
const camunda = require('camunda-bpmn-moddle/resources/camunda.json');
const NodeResolver = require('bpmnlint/lib/resolver/node-resolver');

const folder = new URL('../../bpmn/', import.meta.url);
const files = readdirSync(folder).filter((name) => name.endsWith('.bpmn')).sort();

function elementsOf(definitions) {
  const found = [];
  const visit = (element) => {
    found.push(element);
    (element.flowElements || []).forEach(visit);
    (element.laneSets || []).forEach((set) => (set.lanes || []).forEach(visit));
  };
  definitions.rootElements.forEach((root) => {
    if (root.$type === 'bpmn:Process') visit(root);
    if (root.$type === 'bpmn:Collaboration') (root.participants || []).forEach((p) => found.push(p));
  });
  return found.filter((element) => element.$type !== 'bpmn:Process');
}

test('there are diagrams to check', () => assert.ok(files.length >= 30, `only ${files.length} diagrams`));

for (const file of files) {
  test(file, async () => {
    const moddle = new BpmnModdle({ camunda });
    const { rootElement: definitions, warnings } = await moddle.fromXML(readFileSync(new URL(file, folder), 'utf8'));
    assert.deepEqual(warnings.map((warning) => warning.message), []);

    const drawn = new Set(definitions.diagrams[0].plane.planeElement.map((di) => di.bpmnElement && di.bpmnElement.id));
    const undrawn = elementsOf(definitions).map((element) => element.id).filter((id) => !drawn.has(id));
    assert.deepEqual(undrawn, [], 'elements without a shape or edge');

    // A linter per diagram: some rules keep what they saw between runs.
    const linter = new Linter({ config: { extends: 'bpmnlint:recommended' }, resolver: new NodeResolver() });
    const reports = await linter.lint(definitions);
    const problems = Object.entries(reports).flatMap(([rule, found]) =>
      found.filter((report) => report.category !== 'warn').map((report) => `${rule}: ${report.id} ${report.message}`));
    assert.deepEqual(problems, []);
  });
}

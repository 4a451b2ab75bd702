// bpmnlint rule "yibao/user-task-role": a user task that names no role — neither in a lane named after a role nor
// by camunda:candidateGroups — is warned about on the canvas. The server deploys it (a diagram drawn elsewhere names
// none) and gives the task to every clerk of the hall, which the designer should mean rather than get by accident.
// Kept in step with src/workflows/domain/roles.py (TASK_ROLES, ROLE_NAMES).
import { is } from 'bpmnlint-utils';

export const TASK_ROLES = {
  acceptor: '受理员', reviewer: '审核员', finance: '财务', supervisor: '科室负责人', hospital: '定点医院',
};
const ROLE_WORDS = new Set([...Object.keys(TASK_ROLES), ...Object.values(TASK_ROLES)]);

function attribute(node, name) {
  const value = typeof node.get === 'function' ? node.get(`camunda:${name}`) : undefined;
  return value || (node.$attrs || {})[`camunda:${name}`] || '';
}

function namesRole(text) {
  return String(text || '').split(',').some((word) => ROLE_WORDS.has(word.trim()));
}

function lanesOf(container) {
  const lanes = [];
  const visit = (set) => (set.lanes || []).forEach((lane) => {
    lanes.push(lane);
    if (lane.childLaneSet) visit(lane.childLaneSet);
  });
  (container.laneSets || []).forEach(visit);
  if (container.childLaneSet) visit(container.childLaneSet);
  return lanes;
}

function laneNames(node) {
  let container = node.$parent;
  while (container && !is(container, 'bpmn:Process')) container = container.$parent;
  if (!container) return [];
  return lanesOf(container)
    .filter((lane) => (lane.flowNodeRef || []).some((ref) => ref === node || ref.id === node.id))
    .map((lane) => lane.name);
}

export default function userTaskRole() {
  function check(node, reporter) {
    if (!is(node, 'bpmn:UserTask')) return;
    const groups = attribute(node, 'candidateGroups');
    if (namesRole(groups) || laneNames(node).some(namesRole)) return;
    if (/[$#]\{/.test(groups)) return; // the role comes from an expression, in the case
    reporter.report(node.id, '用户任务未指定岗位（岗位泳道或 camunda:candidateGroups）：将交由本大厅任一岗位办理');
  }
  return { check };
}

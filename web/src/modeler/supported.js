// What of Camunda 7's vocabulary this engine honours. The properties panel shows only that; a file that carries
// settings the engine ignores (listeners, async continuations, job retries, Camunda Forms, input/output mappings …)
// gets a group "不受支持的设置" naming each, so that nobody believes a listener will run.
import { getBusinessObject, is } from 'bpmn-js/lib/util/ModelUtil';

// Groups of bpmn-js-properties-panel's Camunda Platform provider that edit what the engine ignores.
export const HIDDEN_GROUPS = new Set([
  'CamundaPlatform__AsynchronousContinuations',
  'CamundaPlatform__JobExecution',
  'CamundaPlatform__ExecutionListener',
  'CamundaPlatform__TaskListener',
  'CamundaPlatform__FieldInjection',
  'CamundaPlatform__HistoryCleanup',
  'CamundaPlatform__Tasklist',
  'CamundaPlatform__CandidateStarter',
  'CamundaPlatform__BusinessKey',
  'CamundaPlatform__Input',
  'CamundaPlatform__Output',
  'CamundaPlatform__ConnectorInput',
  'CamundaPlatform__ConnectorOutput',
  'CamundaPlatform__InMapping',
  'CamundaPlatform__OutMapping',
  'CamundaPlatform__InMappingPropagation',
  'CamundaPlatform__OutMappingPropagation',
  'CamundaPlatform__Errors',
  'CamundaPlatform__Form', // Camunda Forms / form keys: the engine renders camunda:formData only (医保引擎 adds it)
]);

/** Whether the panel shows the group `id` for `element`. A business-rule task keeps 实现 (its decisionRef), a
 * send task too (its camunda:expression is the message's payload); a service task's handler is chosen in the
 * 医保引擎 group instead (class, expression and connector are ignored). */
export function isShown(id, element) {
  if (id === 'CamundaPlatform__Implementation') return is(element, 'bpmn:BusinessRuleTask') || is(element, 'bpmn:SendTask');
  return !HIDDEN_GROUPS.has(id);
}

const IGNORED_ATTRIBUTES = {
  'camunda:asyncBefore': '异步继续（之前）',
  'camunda:asyncAfter': '异步继续（之后）',
  'camunda:jobPriority': '作业优先级',
  'camunda:formKey': '表单键（嵌入或外部表单）',
  'camunda:formRef': 'Camunda 表单引用',
  'camunda:class': 'Java 类',
  'camunda:expression': '表达式实现',
  'camunda:delegateExpression': '委托表达式',
  'camunda:historyTimeToLive': '历史清理期限',
  'camunda:candidateStarterGroups': '可发起的组',
  'camunda:candidateStarterUsers': '可发起的用户',
};

const IGNORED_EXTENSIONS = {
  'camunda:ExecutionListener': '执行监听器',
  'camunda:TaskListener': '任务监听器',
  'camunda:FailedJobRetryTimeCycle': '作业重试周期',
  'camunda:InputOutput': '输入/输出映射',
  'camunda:Connector': '连接器',
  'camunda:Field': '字段注入',
  'camunda:In': '调用活动的输入变量映射',
  'camunda:Out': '调用活动的输出变量映射',
  'camunda:ErrorEventDefinition': '外部任务错误定义',
};

/** The settings `element` carries that the engine ignores: [{ name, label }], in file order. */
export function ignoredSettings(element) {
  const businessObject = getBusinessObject(element);
  const found = Object.entries(IGNORED_ATTRIBUTES)
    .filter(([name]) => {
      if (name === 'camunda:expression' && is(element, 'bpmn:SendTask')) return false; // the message's payload
      const value = businessObject.get(name);
      return value !== undefined && value !== false && value !== '';
    })
    .map(([name, label]) => ({ name, label }));
  const extensions = (businessObject.get('extensionElements') || { get: () => [] }).get('values') || [];
  for (const extension of extensions) {
    const label = IGNORED_EXTENSIONS[extension.$type];
    if (label && !found.some((setting) => setting.name === extension.$type)) found.push({ name: extension.$type, label });
  }
  return found;
}

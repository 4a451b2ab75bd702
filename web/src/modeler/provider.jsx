// The properties panel's group "医保引擎": what our engine reads, in the words of our users.
//  - service task: 处理程序 (handler) select, writing camunda:type="external" and camunda:topic
//  - lane: 角色 select of the five role names, writing the lane's name
//  - user / service task: 环节 (stage) text field, writing the Camunda property `stage`
//  - user task / start event: 使用表单字段 (camunda:formData), the one kind of form the engine renders
// It also hides the Camunda groups the engine ignores, names the ignored settings a file carries (supported.js),
// and hands every group the panel's translator (the groups' own buttons are English otherwise).
import {
  CheckboxEntry, SelectEntry, TextFieldEntry, isCheckboxEntryEdited, isSelectEntryEdited, isTextFieldEntryEdited,
} from '@bpmn-io/properties-panel';
import { useService } from 'bpmn-js-properties-panel';
import { getBusinessObject, is } from 'bpmn-js/lib/util/ModelUtil';
import { ROLES, STAGES } from '../shared/roles.js';
import { ignoredSettings, isShown } from './supported.js';

const LOW_PRIORITY = 400; // after the BPMN (1000) and Camunda Platform (500) providers: our group goes beside theirs

export const GROUP_LABEL = '医保引擎';
export const HANDLER_LABEL = '处理程序（handler）';
export const ROLE_LABEL = '角色（泳道名称）';
export const STAGE_LABEL = '环节 (stage)';
export const FORM_LABEL = '使用表单字段（camunda:formData）';
export const IGNORED_LABEL = '不受支持的设置';

// ---- the handler names, fetched once from data-handlers-url ---------------------------------------------------

export class HandlerList {
  constructor(config, eventBus) {
    this._eventBus = eventBus;
    this.handlers = [];
    this.status = 'idle'; // idle | loading | loaded | failed
    const url = config && config.handlersUrl;
    if (url) this.load(url);
  }

  load(url) {
    this.status = 'loading';
    return fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then((response) => {
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        return response.json();
      })
      .then((list) => {
        this.handlers = (Array.isArray(list) ? list : [])
          .filter((handler) => handler && typeof handler.name === 'string')
          .map((handler) => ({ name: handler.name, title: handler.title || handler.name }));
        this.status = 'loaded';
      })
      .catch((error) => {
        console.error('[workflows] handlers', error);
        this.status = 'failed';
      })
      .finally(() => this._eventBus.fire('propertiesPanel.providersChanged'));
  }
}
HandlerList.$inject = ['config.workflows', 'eventBus'];

// ---- the Camunda property `stage` -------------------------------------------------------------------------------

function camundaProperties(businessObject) {
  const extensionElements = businessObject.get('extensionElements');
  const values = (extensionElements && extensionElements.get('values')) || [];
  return values.find((value) => is(value, 'camunda:Properties'));
}

function stageProperty(businessObject) {
  const properties = camundaProperties(businessObject);
  return properties && (properties.get('values') || []).find((property) => property.get('name') === 'stage');
}

export function getStage(element) {
  const property = stageProperty(getBusinessObject(element));
  return (property && property.get('value')) || '';
}

function setStageCommands(element, value, bpmnFactory) {
  const businessObject = getBusinessObject(element);
  const commands = [];
  const update = (moddleElement, properties) =>
    commands.push({ cmd: 'element.updateModdleProperties', context: { element, moddleElement, properties } });
  let extensionElements = businessObject.get('extensionElements');
  let properties = camundaProperties(businessObject);
  const existing = stageProperty(businessObject);

  if (!value) { // empty: remove the property, and camunda:properties when nothing is left in it
    if (!existing) return commands;
    const rest = properties.get('values').filter((property) => property !== existing);
    update(properties, { values: rest });
    if (!rest.length) {
      const others = extensionElements.get('values').filter((v) => v !== properties);
      if (others.length) update(extensionElements, { values: others });
      else update(businessObject, { extensionElements: undefined });
    }
    return commands;
  }
  if (existing) {
    update(existing, { value });
    return commands;
  }
  if (!extensionElements) {
    extensionElements = bpmnFactory.create('bpmn:ExtensionElements', { values: [] });
    extensionElements.$parent = businessObject;
    update(businessObject, { extensionElements });
  }
  if (!properties) {
    properties = bpmnFactory.create('camunda:Properties', { values: [] });
    properties.$parent = extensionElements;
    update(extensionElements, { values: [properties, ...extensionElements.get('values')] });
  }
  const property = bpmnFactory.create('camunda:Property', { name: 'stage', value });
  property.$parent = properties;
  update(properties, { values: [property, ...properties.get('values')] });
  return commands;
}

function StageEntry(props) {
  const { element, id } = props;
  const bpmnFactory = useService('bpmnFactory');
  const commandStack = useService('commandStack');
  const debounce = useService('debounceInput');
  return (
    <TextFieldEntry
      element={element}
      id={id}
      label={STAGE_LABEL}
      description={`本步骤所属的办理环节：${STAGES.join('、')}，或事项的环节时限名称；督办任务填“督办”。`}
      getValue={() => getStage(element)}
      setValue={(value) => {
        const commands = setStageCommands(element, (value || '').trim(), bpmnFactory);
        if (commands.length) commandStack.execute('properties-panel.multi-command-executor', commands);
      }}
      debounce={debounce}
    />
  );
}

// ---- the handler of a service task ------------------------------------------------------------------------------

const OTHER_IMPLEMENTATIONS = {
  'camunda:class': undefined,
  'camunda:expression': undefined,
  'camunda:delegateExpression': undefined,
  'camunda:resultVariable': undefined,
};

function getTopic(element) {
  const businessObject = getBusinessObject(element);
  return businessObject.get('camunda:type') === 'external' ? businessObject.get('camunda:topic') || '' : '';
}

function HandlerEntry(props) {
  const { element, id } = props;
  const handlerList = useService('workflowsHandlers');
  const commandStack = useService('commandStack');
  const getOptions = () => {
    const topic = getTopic(element);
    const placeholder = handlerList.status === 'loading' ? '（正在加载处理程序…）'
      : handlerList.status === 'failed' ? '（处理程序列表加载失败）' : '（请选择）';
    const options = [{ value: '', label: placeholder }];
    handlerList.handlers.forEach((handler) => options.push({ value: handler.name, label: `${handler.title}（${handler.name}）` }));
    if (topic && !handlerList.handlers.some((handler) => handler.name === topic)) {
      options.push({ value: topic, label: handlerList.status === 'loaded' ? `${topic}（未登记的处理程序）` : topic });
    }
    return options;
  };
  return (
    <SelectEntry
      element={element}
      id={id}
      label={HANDLER_LABEL}
      description="服务任务由平台登记的处理程序执行：写入 camunda:type（external）与 camunda:topic。参数写在“扩展属性”里。"
      getValue={() => getTopic(element)}
      setValue={(value) => {
        const moddleElement = getBusinessObject(element);
        const properties = value
          ? { ...OTHER_IMPLEMENTATIONS, 'camunda:type': 'external', 'camunda:topic': value }
          : { 'camunda:type': undefined, 'camunda:topic': undefined };
        commandStack.execute('element.updateModdleProperties', { element, moddleElement, properties });
      }}
      getOptions={getOptions}
    />
  );
}

// ---- the role of a lane -----------------------------------------------------------------------------------------

function RoleEntry(props) {
  const { element, id } = props;
  const modeling = useService('modeling');
  const getOptions = () => {
    const name = getBusinessObject(element).get('name') || '';
    const options = [{ value: '', label: '（请选择角色）' }, ...ROLES.map((role) => ({ value: role.name, label: role.name }))];
    if (name && !ROLES.some((role) => role.name === name)) options.push({ value: name, label: `${name}（不是平台的角色）` });
    return options;
  };
  return (
    <SelectEntry
      element={element}
      id={id}
      label={ROLE_LABEL}
      description="泳道名称就是办理该步骤的角色；流程图最后一个泳道是“科室负责人”（督办）。"
      getValue={() => getBusinessObject(element).get('name') || ''}
      setValue={(value) => modeling.updateProperties(element, { name: value || undefined })}
      getOptions={getOptions}
    />
  );
}

// ---- the form fields of a user task or start event ----------------------------------------------------------------

function formData(businessObject) {
  const extensionElements = businessObject.get('extensionElements');
  return ((extensionElements && extensionElements.get('values')) || []).find((value) => is(value, 'camunda:FormData'));
}

function FormFieldsEntry(props) {
  const { element, id } = props;
  const bpmnFactory = useService('bpmnFactory');
  const commandStack = useService('commandStack');
  const businessObject = getBusinessObject(element);
  const setValue = (on) => {
    const extensionElements = businessObject.get('extensionElements');
    const values = (extensionElements && extensionElements.get('values')) || [];
    const existing = formData(businessObject);
    if (!on) {
      if (!existing) return;
      const rest = values.filter((value) => value !== existing);
      const context = rest.length
        ? { element, moddleElement: extensionElements, properties: { values: rest } }
        : { element, moddleElement: businessObject, properties: { extensionElements: undefined } };
      commandStack.execute('element.updateModdleProperties', context);
      return;
    }
    if (existing) return;
    const commands = [];
    let container = extensionElements;
    if (!container) {
      container = bpmnFactory.create('bpmn:ExtensionElements', { values: [] });
      container.$parent = businessObject;
      commands.push({ cmd: 'element.updateModdleProperties',
        context: { element, moddleElement: businessObject, properties: { extensionElements: container } } });
    }
    const form = bpmnFactory.create('camunda:FormData', { fields: [] });
    form.$parent = container;
    commands.push({ cmd: 'element.updateModdleProperties',
      context: { element, moddleElement: container, properties: { values: [...values, form] } } });
    commandStack.execute('properties-panel.multi-command-executor', commands);
  };
  return (
    <CheckboxEntry
      element={element}
      id={id}
      label={FORM_LABEL}
      description="勾选后在“表单字段”中添加字段；平台按字段的类型和约束校验提交的数据。"
      getValue={() => Boolean(formData(businessObject))}
      setValue={setValue}
    />
  );
}

// ---- the settings a file carries that the engine ignores ----------------------------------------------------------

function IgnoredSettingEntry(props) {
  const { setting } = props;
  return (
    <div class="bio-properties-panel-entry workflows-ignored" data-setting={setting.name}>
      <p>{setting.label}（<code>{setting.name}</code>）：本引擎不执行此设置，发布后不起作用，可删除。</p>
    </div>
  );
}

function IgnoredGroup(element) {
  const entries = ignoredSettings(element).map((setting) => ({
    id: `workflows-ignored-${setting.name.replace(':', '-')}`, component: IgnoredSettingEntry, setting,
  }));
  return entries.length ? { id: 'workflows-ignored', label: IGNORED_LABEL, entries } : null;
}

// ---- the provider -----------------------------------------------------------------------------------------------

function isEngineTask(element) {
  return is(element, 'bpmn:UserTask') || is(element, 'bpmn:ServiceTask');
}

export function WorkflowsGroup(element) {
  const entries = [];
  if (is(element, 'bpmn:Lane')) {
    entries.push({ id: 'workflows-role', component: RoleEntry, isEdited: isSelectEntryEdited });
  }
  if (is(element, 'bpmn:ServiceTask')) {
    entries.push({ id: 'workflows-handler', component: HandlerEntry, isEdited: isSelectEntryEdited });
  }
  if (isEngineTask(element)) {
    entries.push({ id: 'workflows-stage', component: StageEntry, isEdited: isTextFieldEntryEdited });
  }
  if (is(element, 'bpmn:UserTask') || is(element, 'bpmn:StartEvent')) {
    entries.push({ id: 'workflows-form', component: FormFieldsEntry, isEdited: isCheckboxEntryEdited });
  }
  return entries.length ? { id: 'workflows', label: GROUP_LABEL, entries } : null;
}

/** `group` with the panel's translator on it and on its entries (the panel hands their props on). */
function translated(group, translate) {
  const entries = group.entries && group.entries.map((entry) => ({ ...entry, translate }));
  return entries ? { ...group, entries, translate } : { ...group, translate };
}

export class WorkflowsPropertiesProvider {
  constructor(propertiesPanel, translate) {
    this._translate = translate;
    propertiesPanel.registerProvider(LOW_PRIORITY, this);
  }

  getGroups(element) {
    return (groups) => {
      const result = groups.filter((group) => isShown(group.id, element));
      const general = result.findIndex((candidate) => candidate.id === 'general');
      const ours = [WorkflowsGroup(element), IgnoredGroup(element)].filter(Boolean);
      result.splice(general >= 0 ? general + 1 : 0, 0, ...ours);
      return result.map((group) => translated(group, this._translate));
    };
  }
}
WorkflowsPropertiesProvider.$inject = ['propertiesPanel', 'translate'];

export default {
  __init__: ['workflowsPropertiesProvider'],
  workflowsPropertiesProvider: ['type', WorkflowsPropertiesProvider],
  workflowsHandlers: ['type', HandlerList],
};

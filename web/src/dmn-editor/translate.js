// zh-CN for dmn-js's decision-table editor (no community translation exists). Anything not listed stays English.
import { fillIn } from '../shared/translate.js';

const TYPE_WORDS = {
  'string': '文本（string）', 'boolean': '是否（boolean）', 'number': '数字（number）', 'integer': '整数（integer）',
  'long': '整数（long）', 'double': '小数（double）', 'date': '日期（date）', 'time': '时间（time）',
  'dateTime': '日期时间（dateTime）', 'dayTimeDuration': '时长（dayTimeDuration）',
  'yearMonthDuration': '年月时长（yearMonthDuration）', 'Any': '任意（Any）',
};

export const dictionary = {
  // table head and rules
  'When': '当', 'And': '且', 'Then': '则', 'Annotation': '备注', 'Annotations': '备注',
  'Hit policy': '命中策略', 'Hit policy:': '命中策略：',
  'Decision name': '决策名称', 'Decision name: ': '决策名称：',
  'Input': '输入', 'Output': '输出', 'Input label': '输入名称', 'Input label: ': '输入名称：',
  'Input expression': '输入表达式', 'Input expression: ': '输入表达式：', 'Expression': '表达式',
  'Enter expression': '填写表达式', 'Input type': '输入类型', 'Input values': '输入取值',
  'Output label': '输出名称', 'Output label: ': '输出名称：', 'Output name': '输出变量名', 'Output name: ': '输出变量名：',
  'Output type': '输出类型', 'Output values': '输出取值', 'Type': '类型',
  'Edit input': '编辑输入', 'Edit output': '编辑输出', 'Edit': '编辑', 'Resize': '调整宽度',
  'Predefined values': '预设取值', 'Add predefined values': '添加预设取值', 'Clear predefined values': '清除预设取值',
  '"value", "value", ...': '"取值", "取值", …', '"value"': '"取值"',
  'Add values': '添加取值', 'No values': '无取值', 'Values': '取值', 'Value': '值',
  'Strings must be in double quotes': '文字须用英文双引号括起',
  'Expression language': '表达式语言', 'Expression language: {expressionLanguageLabel}': '表达式语言：{expressionLanguageLabel}',
  'Change cell expression language': '更改单元格的表达式语言',
  'Editing not supported for set expression language': '该表达式语言不支持在此编辑',

  // context menu
  'Add rule': '添加规则', 'Add rule above': '在上方添加规则', 'Add rule below': '在下方添加规则',
  'Remove rule': '删除规则', 'Copy rule': '复制规则', 'Cut rule': '剪切规则', 'Move rule': '移动规则',
  'Paste rule above': '粘贴到上方', 'Paste rule below': '粘贴到下方',
  'Add input': '添加输入', 'Add output': '添加输出',
  'Add input column left': '在左侧添加输入列', 'Add input column right': '在右侧添加输入列',
  'Add output column left': '在左侧添加输出列', 'Add output column right': '在右侧添加输出列',
  'Remove input column': '删除输入列', 'Remove output column': '删除输出列',
  'Copy input column': '复制输入列', 'Copy output column': '复制输出列',
  'Cut input column': '剪切输入列', 'Cut output column': '剪切输出列',
  'Paste input column left': '粘贴到左侧', 'Paste input column right': '粘贴到右侧',
  'Paste output column left': '粘贴到左侧', 'Paste output column right': '粘贴到右侧',
  'Add cell description': '添加单元格说明', 'Remove cell description': '删除单元格说明',

  // data types, as the 类型 choice offers them (the header shows the same words: see HARD_CODED)
  ...TYPE_WORDS,

  // hit policies (the editor offers Unique and First only: see index.js)
  'Unique': '唯一（UNIQUE）', 'First': '首个命中（FIRST）',
  'No overlap is possible and all rules are disjoint. Only a single rule can be matched': '规则互不重叠，最多命中一条',
  'Rules may overlap. The first matching rule will be chosen': '规则可以重叠，取自上而下第一条命中的规则',
};

export function translate(template, replacements) {
  const text = Object.prototype.hasOwnProperty.call(dictionary, template) ? dictionary[template] : template;
  return fillIn(text, replacements);
}

// dmn-js writes a few words straight into the page, past its translate service: two attributes, and a column's
// data type under its name. They are rewritten as they appear; the type's text node keeps its identity, so the
// editor's own later updates of it still land (and are rewritten again).
const HARD_CODED = { title: { 'Move Input': '移动输入列', 'Move Output': '移动输出列' },
  'aria-label': { 'Decision table context menu': '决策表右键菜单' } };
const TYPE_CELLS = '.input-variable, .output-variable';

function relabel(element) {
  for (const [name, words] of Object.entries(HARD_CODED)) {
    const chinese = words[element.getAttribute(name)];
    if (chinese) element.setAttribute(name, chinese);
  }
  if (element.matches(TYPE_CELLS)) element.childNodes.forEach(relabelType);
}

function relabelType(node) {
  const inTypeCell = node.nodeType === Node.TEXT_NODE && node.parentElement && node.parentElement.matches(TYPE_CELLS);
  const chinese = inTypeCell && TYPE_WORDS[node.nodeValue];
  if (chinese) node.nodeValue = chinese;
}

/** Keep the hard-coded words of dmn-js under `root` (and its menus, drawn in `document.body`) in Chinese. */
export function relabelHardCoded(target = document.body) {
  const selector = [...Object.keys(HARD_CODED).map((name) => `[${name}]`), TYPE_CELLS].join(',');
  const sweep = (node) => {
    if (node.nodeType !== Node.ELEMENT_NODE) return;
    if (node.matches(selector)) relabel(node);
    node.querySelectorAll(selector).forEach(relabel);
  };
  sweep(target);
  new MutationObserver((changes) => changes.forEach((change) => {
    if (change.type === 'attributes') relabel(change.target);
    else if (change.type === 'characterData') relabelType(change.target);
    change.addedNodes.forEach((node) => (node.nodeType === Node.TEXT_NODE ? relabelType(node) : sweep(node)));
  })).observe(target, { subtree: true, childList: true, characterData: true, attributes: true,
    attributeFilter: Object.keys(HARD_CODED) });
}

export default { translate: ['value', translate] };

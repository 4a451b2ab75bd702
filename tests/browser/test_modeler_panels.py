"""The modeler as a designer from the Camunda Modeler meets it (issue: the screens): every word of the properties
panel in Chinese for each kind of element of a real item diagram, with every group opened; no group for what the
engine ignores (listeners, async continuations, job execution, Camunda Forms), and a file that carries such a
setting says so; a diagram that opens legible; unsaved edits that warn before the page is left, in the modeler
and in the 决策表 editor."""
from __future__ import annotations

import re

import pytest

from .conftest import shot, sign_in

PROCESS = "item_002036006001"  # 门诊费用报销: user, service and business-rule tasks, gateways, timers, lanes
KINDS = ("bpmn:Participant", "bpmn:Lane", "bpmn:StartEvent", "bpmn:UserTask", "bpmn:ServiceTask",
         "bpmn:BusinessRuleTask", "bpmn:ExclusiveGateway", "bpmn:EventBasedGateway", "bpmn:SequenceFlow",
         "bpmn:IntermediateCatchEvent", "bpmn:EndEvent")
# Latin that belongs in a Chinese panel: names of BPMN attributes and values, shown in parentheses or as code,
# and the names of languages and standards.
ALLOWED = re.compile(r"（[^）]*）|\([^)]*\)|\$\{[^}]*\}|\d{4}-\d\d-\d\dT[\d:]+|\bcamunda:\w+|\b(BPMN|DMN|ISO|ID|JUEL|Python|Java|FEEL)\b")
ENGLISH = re.compile(r"[A-Za-z]{3,}")

SELECT = """([kind, index]) => {
  const modeler = window.workflowsModeler.modeler;
  const found = modeler.get('elementRegistry').filter((element) => element.type === kind
    && (kind !== 'bpmn:SequenceFlow' || element.businessObject.conditionExpression));
  if (!found.length) return false;
  modeler.get('selection').select(found[index || 0]);
  return true;
}"""
# The panel's words as a user meets them: text, titles, placeholders and labels of what is displayed, leaving out
# what comes from the file (form field ids as list items' titles, code)
PANEL_WORDS = """() => {
  const words = [];
  const walk = (node) => {
    if (node.nodeType === Node.TEXT_NODE) { if (node.textContent.trim()) words.push(node.textContent.trim()); return; }
    if (node.nodeType !== Node.ELEMENT_NODE || node.tagName === 'CODE') return;
    if (node.classList.contains('bio-properties-panel-collapsible-entry-header-title')) return;
    if (getComputedStyle(node).display === 'none') return;
    for (const name of ['title', 'placeholder', 'aria-label']) if (node.getAttribute(name)) words.push(node.getAttribute(name));
    node.childNodes.forEach(walk);
  };
  walk(document.querySelector('.modeler-properties'));
  return words;
}"""


@pytest.fixture
def modeler(page, server):
    sign_in(page, server, "sheji")
    page.goto(f"{server}/processes/{PROCESS}/modeler")
    page.locator('#modeler[data-state="ready"]').wait_for()
    return page


def select(page, kind: str, index: int = 0) -> None:
    assert page.evaluate(SELECT, [kind, index]), f"the diagram has no {kind}"
    page.locator(".modeler-properties .bio-properties-panel-header").wait_for()


OPEN_CLOSED = """() => {
  const closed = [...document.querySelectorAll('.modeler-properties .bio-properties-panel-group-header:not(.open),'
    + ' .modeler-properties .bio-properties-panel-collapsible-entry-header:not([aria-expanded="true"])')];
  closed.forEach((header) => header.click());
  return closed.length;
}"""


def open_every_group(page) -> None:
    for _ in range(4):  # list groups open into items that are sections of their own
        if not page.evaluate(OPEN_CLOSED):
            return
        page.wait_for_timeout(50)


def english_in_panel(page) -> list[str]:
    return [words for words in page.evaluate(PANEL_WORDS) if ENGLISH.search(ALLOWED.sub("", words))]


def group_labels(page) -> list[str]:
    return page.locator(".modeler-properties .bio-properties-panel-group-header-title").all_inner_texts()


def test_every_word_of_the_panels_is_chinese(modeler):
    english = {}
    for kind in KINDS:
        select(modeler, kind)
        open_every_group(modeler)
        for words in english_in_panel(modeler):
            english.setdefault(words, kind)
        if kind == "bpmn:UserTask":
            shot(modeler, "modeler-user-task-panel")
    assert english == {}


def test_groups_of_what_the_engine_ignores_are_hidden_and_a_file_carrying_them_says_so(modeler):
    select(modeler, "bpmn:UserTask")
    labels = group_labels(modeler)
    assert {"常规", "医保引擎", "表单字段", "办理人"} <= set(labels), labels
    for ignored in ("任务监听器", "执行监听器", "异步继续", "作业执行", "表单", "输入", "输出", "不受支持的设置"):
        assert ignored not in labels, labels

    modeler.evaluate("""() => {  // as a file from the Camunda Modeler would carry them
      const modeler = window.workflowsModeler.modeler;
      const task = modeler.get('selection').get()[0];
      const moddle = modeler.get('moddle');
      const extensions = task.businessObject.extensionElements;
      extensions.get('values').push(moddle.create('camunda:TaskListener', { event: 'create', class: 'a.B' }));
      modeler.get('modeling').updateProperties(task, { 'camunda:asyncBefore': true });
    }""")
    ignored = modeler.locator('.modeler-properties [data-group-id="group-workflows-ignored"]')
    ignored.locator(".bio-properties-panel-group-header").click()
    text = ignored.inner_text()
    assert "不受支持的设置" in text and "异步继续（之前）" in text and "任务监听器" in text
    assert "本引擎不执行此设置" in text
    shot(modeler, "modeler-ignored-settings")


def test_a_user_task_gets_form_fields_from_the_engine_group(modeler):
    select(modeler, "bpmn:UserTask")
    engine = modeler.locator('.modeler-properties [data-group-id="group-workflows"]')
    uses_form = engine.get_by_label("使用表单字段（camunda:formData）")
    assert uses_form.is_checked()
    uses_form.uncheck()
    modeler.wait_for_function("() => !document.querySelector('[data-group-id=\"group-CamundaPlatform__FormData\"]')")
    uses_form.check()
    modeler.locator('.modeler-properties [data-group-id="group-CamundaPlatform__FormData"]').wait_for()


def test_the_diagram_opens_with_legible_tasks(modeler):
    box = modeler.locator('#modeler .djs-element.djs-shape[data-element-id="Task_accept"]').bounding_box()
    assert box is not None and box["width"] >= 75 and box["height"] >= 60  # a 100 × 80 task at ≥ 0.75
    assert modeler.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")  # no side scroll
    shot(modeler, "modeler-opened")


def test_unsaved_edits_warn_before_the_modeler_is_left(modeler, server):
    asked = []

    def stay(dialog):
        asked.append(dialog.type)
        dialog.dismiss()

    modeler.on("dialog", stay)
    modeler.get_by_role("link", name="返回流程列表").click()  # nothing changed: no question
    modeler.wait_for_url(f"{server}/processes#{PROCESS}")
    assert asked == []

    modeler.go_back()
    modeler.locator('#modeler[data-state="ready"]').wait_for()
    select(modeler, "bpmn:UserTask")
    general = modeler.locator('.modeler-properties [data-group-id="group-general"]')
    general.locator(".bio-properties-panel-group-header").filter(has_text="常规").click()
    general.get_by_label("名称", exact=True).fill("窗口受理")
    modeler.get_by_role("link", name="返回流程列表").click()
    modeler.wait_for_timeout(500)
    assert asked == ["beforeunload"]
    assert modeler.url.endswith("/modeler")  # stayed, the edit kept
    assert modeler.locator('#modeler .djs-element text').filter(has_text="窗口受理").count() == 1


def test_unsaved_edits_warn_before_the_decision_editor_is_left(page, server):
    sign_in(page, server, "sheji")
    page.goto(f"{server}/decisions/prohibited_00203601002/editor")
    page.locator('#dmn-editor[data-state="ready"]').wait_for()
    asked = []
    page.on("dialog", lambda dialog: (asked.append(dialog.type), dialog.dismiss()))
    page.locator('#dmn-editor td[data-element-id="OutputEntry_1_prohibited_rule"] [contenteditable]').fill('"新的措辞"')
    page.get_by_role("link", name="返回决策表列表").click()
    page.wait_for_timeout(500)
    assert asked == ["beforeunload"]
    assert "/decisions/" in page.url


# The decision table editor's own words, leaving out what comes from the file: the table's name, the columns'
# names and expressions, the cells, and the page's line about the version (ids, who published); and the bpmn.io
# logo, which its licence keeps as it is
EDITOR_WORDS = """() => {
  const fromFile = '.decision-table-name, .input-label, .output-label, [contenteditable], #decision-revision, .decision-head small, code';
  const words = [];
  const walk = (node) => {
    if (node.nodeType === Node.TEXT_NODE) { if (node.textContent.trim()) words.push(node.textContent.trim()); return; }
    if (node.nodeType !== Node.ELEMENT_NODE || getComputedStyle(node).display === 'none') return;
    if (node.matches('.bjs-powered-by')) return;
    for (const name of ['title', 'placeholder', 'aria-label']) if (node.getAttribute(name)) words.push(node.getAttribute(name));
    if (!node.matches(fromFile)) node.childNodes.forEach(walk);
  };
  walk(document.querySelector('main'));
  document.querySelectorAll('body > .context-menu, .dmn-decision-table-container .context-menu').forEach(walk);
  return words;
}"""


def english_in_editor(page) -> list[str]:
    return [words for words in page.evaluate(EDITOR_WORDS) if ENGLISH.search(ALLOWED.sub("", words))]


def test_every_word_of_the_decision_table_editor_is_chinese(page, server):
    sign_in(page, server, "sheji")
    page.goto(f"{server}/decisions/prohibited_00203601002/editor")
    page.locator('#dmn-editor[data-state="ready"]').wait_for()
    english = {"table": english_in_editor(page)}
    page.locator('#dmn-editor td[data-element-id="OutputEntry_1_prohibited_rule"]').click(button="right")
    page.locator(".context-menu").first.wait_for()
    english["a rule's menu"] = english_in_editor(page)
    page.keyboard.press("Escape")
    page.locator("#dmn-editor th .edit-button").first.dispatch_event("click")  # shown on hover
    page.locator(".type-ref-edit, .input-edit, .dms-input").first.wait_for()
    english["a column's editor"] = english_in_editor(page)
    shot(page, "decision-editor-column")
    assert english == {"table": [], "a rule's menu": [], "a column's editor": []}

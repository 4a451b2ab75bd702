"""The designer (流程设计员) in a real browser: renames the 受理 task of 参保人员参保信息查询 in the modeler's
properties panel, checks and publishes the diagram as version 2; a clerk's new case then runs on version 2 and the
inbox shows the task by its new name."""
from __future__ import annotations

from workflows.services import cases

from support.cases import APPLICANT

from .conftest import shot, sign_in

ITEM = "002036002002"  # 参保人员参保信息查询: 受理, then the query service task
PROCESS = f"item_{ITEM}"
NEW_NAME = "窗口受理"


def test_a_designer_renames_a_task_publishes_and_new_cases_use_the_new_version(page, server, ctx, staff):
    sign_in(page, server, "sheji")
    page.get_by_role("navigation").get_by_role("link", name="流程设计").click()
    row = page.locator(f"tr#{PROCESS}")
    assert "参保人员参保信息查询" in row.inner_text() and "第 1 版" in row.inner_text()
    row.get_by_role("link", name="在线设计").click()

    modeler = page.locator('#modeler[data-state="ready"]')
    modeler.wait_for()
    messages = page.locator(".modeler-messages")
    messages.get_by_text("流程图已加载").wait_for()
    task = page.locator('#modeler .djs-element.djs-shape[data-element-id="Task_accept"]')
    shot(page, "modeler-loaded")

    task.click()  # select the 受理 task on the canvas; the properties panel shows it
    general = page.locator('.modeler-properties [data-group-id="group-general"]')
    page.locator(".modeler-properties .bio-properties-panel-header").get_by_text("受理", exact=True).wait_for()
    name = general.get_by_label("名称", exact=True)
    if not name.is_visible():  # the panel opens with 常规 folded (only 医保引擎 is configured open): unfold it
        general.locator(".bio-properties-panel-group-header").filter(has_text="常规").click()
    name.wait_for()
    assert name.input_value() == "受理"
    name.fill(NEW_NAME)
    task.locator("text").filter(has_text=NEW_NAME).wait_for()  # the canvas draws the new name
    shot(page, "modeler-renamed")

    page.get_by_role("button", name="检查", exact=True).click()
    messages.get_by_text("检查通过").wait_for()
    page.get_by_role("button", name="发布", exact=True).click()
    dialog = page.get_by_role("dialog", name="发布新版本")
    dialog.get_by_role("button", name="确认发布").click()  # without a change note: refused inside the dialog
    dialog.get_by_role("alert").get_by_text("请写明本次改了什么、为什么").wait_for()
    shot(page, "modeler-publish-note-missing")
    dialog.get_by_label("变更说明").fill("受理改名为窗口受理")
    dialog.get_by_role("button", name="确认发布").click()
    messages.get_by_text("已发布为第 2 版").wait_for()
    assert page.locator("#modeler-version").inner_text() == "2"  # the next edit builds on version 2
    shot(page, "modeler-published")

    page.get_by_role("link", name="返回流程列表").click()
    row = page.locator(f"tr#{PROCESS}")
    assert "第 2 版" in row.inner_text() and "sheji" in row.inner_text()
    history = row.locator("xpath=following-sibling::tr[1]")
    history.get_by_text("版本记录").click()
    assert [note.inner_text() for note in history.locator("td.change-note").all()] == ["受理改名为窗口受理", "—"]
    page.get_by_role("button", name="退出").click()

    number = cases.open_case(ctx, staff["shouli"], ITEM, APPLICANT, {}).case.number
    sign_in(page, server, "shouli")
    inbox_row = page.get_by_role("row").filter(has_text=number)
    assert NEW_NAME in inbox_row.inner_text()
    shot(page, "inbox-renamed-task")
    inbox_row.get_by_role("link", name=number).click()
    page.get_by_text("流程版本 2").wait_for()

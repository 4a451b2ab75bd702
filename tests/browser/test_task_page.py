"""The task page and the inbox as a clerk works them all day (issue: the screens), at 1366×768: the common step in one
screen, operations behind buttons with their forms in dialogs (a refusal reopens the dialog with the error inside and
nothing typed lost), 下一件 by key N; the inbox's 剩余 for a normal, a warned, an overdue and a paused case, the holder
by name, the 环节 filter by choice and the tabs with their own actions."""
from __future__ import annotations

from workflows.services import materials, notices, tasks

from support.cases import accept, at

from .conftest import shot, sign_in


def no_horizontal_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    assert page.evaluate("[...document.querySelectorAll('main')].every(m => m.scrollWidth <= m.clientWidth)")


def review_task(ctx, staff, number):
    return next(t for t in tasks.list_tasks(ctx, staff["shenhe"]) if t.case_number == number)


def test_the_review_step_fits_one_screen_and_an_operation_refused_reopens_with_what_was_typed(page, server, ctx,
                                                                                             staff, clock):
    first = accept(ctx, staff, clock, "2026-12-01 09:30")
    second = accept(ctx, staff, clock, "2026-12-01 10:00")
    clock.now = at("2026-12-02 09:00")
    sign_in(page, server, "shenhe")
    page.goto(f"{server}/tasks/{review_task(ctx, staff, first).id}")

    decide = page.get_by_role("button", name="审核通过")
    box = decide.bounding_box()
    assert box["y"] + box["height"] <= 768  # the case, its money, its materials and the decision, without scrolling
    for heading in ("案件", "待遇金额", "申请信息", "申请材料", "办理"):
        assert page.get_by_role("heading", name=heading, exact=True).bounding_box()["y"] < 768
    no_horizontal_scroll(page)
    assert page.locator("form.signer-form").is_hidden()  # operations are behind their buttons
    shot(page, "task-page-review")

    page.get_by_role("toolbar").get_by_role("button", name="加签").click()
    dialog = page.locator("dialog[open]")
    dialog.get_by_label("加签事由").fill("金额较大，请科长把关")
    dialog.get_by_role("button", name="加签", exact=True).click()  # no one chosen: refused by the server
    dialog = page.locator("dialog[open]")
    dialog.get_by_role("alert").wait_for()
    assert dialog.get_by_label("加签事由").input_value() == "金额较大，请科长把关"  # nothing typed is lost
    shot(page, "task-page-dialog-refused")
    dialog.get_by_label("加签人").select_option("kezhang")
    dialog.get_by_role("button", name="加签", exact=True).click()
    page.get_by_role("status").filter(has_text="已前加签孙科长").wait_for()
    assert page.locator("dialog[open]").count() == 0
    assert "待签署" in page.locator("table.signers").inner_text()

    page.keyboard.press("n")  # the next task, without the list
    page.get_by_role("link", name=second).wait_for()


def test_the_inbox_tells_the_time_left_of_each_case_and_who_holds_it(page, server, ctx, staff, clock):
    overdue = accept(ctx, staff, clock, "2026-11-13 09:30")  # 承诺 20 个工作日: due 2026-12-11 17:00
    warned = accept(ctx, staff, clock, "2026-11-23 09:30")  # due 2026-12-21 17:00, 黄牌 from 2026-12-16
    normal = accept(ctx, staff, clock, "2026-12-14 09:30")
    paused = accept(ctx, staff, clock, "2026-12-14 10:00")
    clock.now = at("2026-12-16 10:00")
    materials.mark_materials(ctx, staff["shenhe"], paused, {1: "missing"})  # 医院收费票据
    notices.return_for_correction(ctx, staff["shenhe"], paused, "发票缺少医院印章")
    clock.now = at("2026-12-17 10:00")
    tasks.claim_task(ctx, staff["shenhe"], review_task(ctx, staff, warned).id)

    sign_in(page, server, "shenhe")
    page.goto(f"{server}/inbox")
    page.get_by_role("heading", name="待办").wait_for()

    def row(number):
        return page.locator("table.inbox tbody tr").filter(has_text=number)

    assert row(overdue).locator("td.time-left").inner_text().strip() == "已超期 4 个工作日"
    assert row(warned).locator("td.time-left").inner_text().strip() == "剩 2 个工作日"
    assert row(normal).locator("td.time-left").inner_text().strip().startswith("剩 ")
    assert row(paused).locator("td.time-left").inner_text().startswith("暂停（补正）")
    assert row(warned).locator("td.assignee").inner_text() == "李审核"  # the name, not the login
    assert row(overdue).locator("td.assignee").inner_text() == "未认领"
    no_horizontal_scroll(page)
    shot(page, "inbox-time-left")

    page.locator("details.filter-panel > summary").click()  # the folded panel
    assert page.get_by_label("环节").locator("option").all_inner_texts() == ["全部", "审核"]  # what exists
    page.get_by_label("环节").select_option("审核")
    page.get_by_role("button", name="筛选", exact=True).click()
    page.wait_for_url("**stage=*")  # the filtered page, not the one the click left
    assert page.locator("table.inbox tbody tr").count() == 4

    page.get_by_role("navigation").get_by_role("link", name="我认领的").click()
    page.get_by_role("heading", name="我认领的").wait_for()
    assert page.locator("table.inbox tbody tr").count() == 1
    page.locator("table.inbox tbody tr").get_by_role("checkbox").check()
    page.get_by_role("button", name="退回认领所选").click()
    page.get_by_role("status").filter(has_text="已退回认领 1 件").wait_for()
    assert page.get_by_role("button", name="认领所选").count() == 0  # this tab's action only

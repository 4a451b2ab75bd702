"""督办台 in a real browser (1366×768): the rows are compact, each action opens its dialog. A refused action (改派
to nobody) comes back with the dialog open, the error beside its field and the opinion and days as typed; what is
typed for one row stays with it while another row's dialog is used; the 改派 list offers the hall's reviewers only.
Then, a row a page, a 差评回访 recorded on the list's page 2 comes back to that page.

Two 抚顺 门诊费用报销 cases (承诺 20 个工作日), seen on 2026-12-22 09:00: one accepted 2026-11-23 09:30, red since
2026-12-21 17:00; the other accepted 2026-11-27 09:30, due 2026-12-25 17:00, yellow."""
from __future__ import annotations

from playwright.sync_api import expect

from workflows.services import public, statistics
from workflows.services.scheduler import fire_due_timers

from support.cases import OUTPATIENT, accept, at
from support.process_driver import drive, proof

from .conftest import shot, sign_in


def test_a_refused_action_shows_its_error_in_the_dialog_and_loses_nothing_typed(page, server, ctx, staff, clock,
                                                                                monkeypatch):
    red = accept(ctx, staff, clock, "2026-11-23 09:30")
    yellow = accept(ctx, staff, clock, "2026-11-27 09:30")
    for moment in ("2026-12-16 09:00", "2026-12-22 09:00"):
        clock.now = at(moment)
        fire_due_timers(ctx)

    sign_in(page, server, "kezhang")
    page.goto(f"{server}/desk")
    rows = page.locator("table.desk-escalations tbody tr")
    red_row, yellow_row = rows.filter(has_text=red), rows.filter(has_text=yellow)
    dialog = page.get_by_role("dialog")
    assert dialog.count() == 0 and red_row.locator("textarea, select, input").count() == 0  # no form in the rows
    assert red_row.bounding_box()["height"] < 80  # compact: one line of text per row
    shot(page, "desk-compact")

    red_row.get_by_role("button", name="督办").click()
    assert red in dialog.get_by_role("heading").inner_text()
    choices = dialog.get_by_label("改派给").locator("option").all_inner_texts()
    assert "李审核（shenhe）" in choices and not any("caiwu" in choice for choice in choices)  # reviewers only
    dialog.get_by_label("督办意见").fill("外省协查，需再等两周")
    dialog.get_by_role("button", name="取消").click()
    yellow_row.get_by_role("button", name="督办").click()  # another row: its own empty form
    assert yellow in dialog.get_by_role("heading").inner_text()
    assert dialog.get_by_label("督办意见").input_value() == ""
    dialog.get_by_role("button", name="取消").click()
    red_row.get_by_role("button", name="督办").click()  # back to the first: as it was left
    assert dialog.get_by_label("督办意见").input_value() == "外省协查，需再等两周"

    dialog.get_by_label("延期（工作日）").fill("5")
    dialog.get_by_role("button", name="改派", exact=True).click()  # but to whom? the server says so
    refused = dialog.locator(".field.has-error").filter(has=page.get_by_label("改派给"))
    refused.get_by_role("alert").filter(has_text="请选择改派给谁").wait_for()  # beside its field, in the dialog
    assert dialog.get_by_label("督办意见").input_value() == "外省协查，需再等两周"  # nothing typed lost
    assert dialog.get_by_label("延期（工作日）").input_value() == "5"
    assert red in dialog.get_by_role("heading").inner_text()
    page.get_by_role("status").filter(has_text="督办内容有误").wait_for()
    shot(page, "desk-dialog-refused")

    dialog.get_by_label("改派给").select_option("shenhe")
    dialog.get_by_role("button", name="改派", exact=True).click()
    page.get_by_role("status").filter(has_text=f"{red}：已改派").wait_for()
    assert dialog.count() == 0 and rows.filter(has_text=red).count() == 0
    assert rows.filter(has_text=yellow).count() == 1
    assert "审核：李审核" in page.locator("table.desk-cases tbody tr").filter(has_text=red).inner_text()

    rated = [drive(ctx, staff["clerk_210400_01"], OUTPATIENT).case.number for _ in range(2)]
    for number in rated:
        public.rate_service(ctx, proof(number), None, 2, "等了两个小时")
    monkeypatch.setattr(statistics, "DESK_ROWS", 1)
    page.goto(f"{server}/desk")
    followups = page.locator("#followups")
    assert followups.get_by_role("heading").inner_text() == "差评回访（2）"
    followups.get_by_role("link", name="下一页").click()
    page.wait_for_url("**followups_page=2")
    row = followups.locator("table tbody tr")
    expect(row).to_have_count(1)  # waits out the navigation: count() alone could read the page half loaded
    assert rated[1] in row.inner_text()
    row.get_by_label("回访情况").fill("已电话致歉")
    row.get_by_label("整改措施").fill("高峰期增开窗口")
    row.get_by_role("button", name="记录回访").click()
    page.get_by_role("status").filter(has_text=f"{rated[1]}：已记录差评回访").wait_for()
    assert "followups_page=2" in page.url  # the page it was sent from
    assert followups.get_by_role("heading").inner_text() == "差评回访（1）"

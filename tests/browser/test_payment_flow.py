"""A reimbursement's money in a real browser: the reviewer lowers the proposed 核定金额, is asked for the reason
without losing what was typed, gives it; the finance clerk sees the approved amount, the opinion, the reason and
the account before 确认拨付, and the case's history states what was paid."""
from __future__ import annotations

from workflows.services import cases, tasks

from support.cases import APPLICANT, OUTPATIENT

from .conftest import shot, sign_in

CLAIM = {"expense_total": "860.00", "bank_account": "6222020712001234567"}


def test_a_lowered_amount_is_reasoned_shown_to_payment_and_paid(page, server, ctx, staff):
    progress = cases.open_case(ctx, staff["shouli"], OUTPATIENT, APPLICANT, CLAIM)
    number = progress.case.number
    [review] = tasks.complete_task(ctx, staff["shouli"], progress.open_tasks[0].id, {"decision": "accept"}).open_tasks

    sign_in(page, server, "shenhe")
    page.goto(f"{server}/tasks/{review.id}")
    page.get_by_text("(860.00 − 自费 0.00 − 起付线 0.00) × 50% = 430.00，封顶 3000.00").wait_for()
    assert page.get_by_label("核定金额（元）").input_value() == "430.00"
    page.get_by_label("核定金额（元）").fill("300.00")
    page.get_by_label("办理意见").fill("票据部分不合规")
    page.get_by_role("button", name="审核通过", exact=True).click()
    page.get_by_text("核定金额低于核算金额 430.00 元，请填写核减理由").wait_for()
    assert page.get_by_label("核定金额（元）").input_value() == "300.00"  # nothing typed lost
    assert page.get_by_label("办理意见").input_value() == "票据部分不合规"
    shot(page, "review-reason-required")
    page.get_by_label("核减理由").fill("260 元为非定点药店购药")
    page.get_by_role("button", name="审核通过", exact=True).click()
    page.get_by_text(f"{number} 已办理").wait_for()
    page.get_by_role("button", name="退出").click()

    [pay] = tasks.list_tasks(ctx, staff["caiwu"])
    sign_in(page, server, "caiwu")
    page.goto(f"{server}/tasks/{pay.id}")
    summary = page.locator(".payment-summary")
    for shown in ("860.00 元", "300.00 元", "李审核", "票据部分不合规", "260 元为非定点药店购药", "6222020712001234567"):
        assert shown in summary.inner_text(), shown
    shot(page, "payment-task")
    page.get_by_role("button", name="确认拨付", exact=True).click()
    page.get_by_text(f"{number} 已办理").wait_for()

    page.goto(f"{server}/cases/{number}")
    page.get_by_text("系统完成“拨付资金”：拨付 300.00 元").wait_for()

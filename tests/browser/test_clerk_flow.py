"""A case worked to 办结 by three clerks in a real browser."""
from __future__ import annotations

from playwright.sync_api import expect

from workflows.services import cases

from support.cases import APPLICANT, DATA, OUTPATIENT

from .conftest import shot, sign_in


def test_three_clerks_work_a_case_to_completion(page, server, ctx, staff):
    number = cases.open_case(ctx, staff["shouli"], OUTPATIENT, APPLICANT, DATA).case.number
    for username, decision, opinion in (("shouli", "受理", "材料齐全"), ("shenhe", "审核通过", "符合报销条件"),
                                        ("caiwu", "确认拨付", "已核对账户")):
        sign_in(page, server, username)
        row = page.get_by_role("row").filter(has_text=number)
        row.get_by_role("checkbox").check()
        page.get_by_role("button", name="认领所选").click()
        page.get_by_text("已认领 1 件").wait_for()
        shot(page, f"inbox-{username}")
        row.get_by_role("link", name="办理").click()
        page.get_by_label("办理意见").fill(opinion)
        shot(page, f"task-{username}")
        page.get_by_role("button", name=decision, exact=True).click()
        page.get_by_text(f"{number} 已办理").wait_for()
        page.get_by_role("button", name="退出").click()

    sign_in(page, server, "shouli")
    page.goto(f"{server}/cases/{number}")
    expect(page.locator("p.status")).to_contain_text("结果：已办结")
    page.locator("#case-diagram svg[data-element-id]").wait_for()  # the diagram drawn by bpmn-js
    shot(page, "case-closed")
    assert page.locator("#case-diagram .djs-element.completed").count() >= 4

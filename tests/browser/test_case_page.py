"""The case page as a clerk reads it (issue: the screens): the diagram opens zoomed to where the case stands, with
labels that read, the limits' timers and escalation branches drawn faint; the application data by its labels,
masked for a role that does not need it in full; a link to the open task for those who may take it."""
from __future__ import annotations

from workflows.services import cases, tasks

from support.cases import APPLICANT, DATA, OUTPATIENT

from .conftest import shot, sign_in


def case_at_review(ctx, staff) -> str:
    progress = cases.open_case(ctx, staff["shouli"], OUTPATIENT, APPLICANT, DATA)
    tasks.complete_task(ctx, staff["shouli"], progress.open_tasks[0].id, {"decision": "accept"})
    return progress.case.number


def test_the_reviewer_sees_the_case_where_it_stands_and_opens_its_task(page, server, ctx, staff):
    number = case_at_review(ctx, staff)
    sign_in(page, server, "shenhe")
    page.goto(f"{server}/cases/{number}")
    diagram = page.locator('#case-diagram[data-state="ready"]')
    diagram.wait_for()

    review = page.locator('#case-diagram .djs-element.current[data-element-id="Task_review"]')
    box, frame = review.bounding_box(), diagram.bounding_box()
    assert box["width"] >= 90  # drawn at full size: its label reads
    assert frame["x"] <= box["x"] and box["x"] + box["width"] <= frame["x"] + frame["width"]  # in view
    assert frame["y"] <= box["y"] and box["y"] + box["height"] <= frame["y"] + frame["height"]
    faint = page.locator("#case-diagram .djs-element.limit-plumbing")
    assert faint.count() > 0 and page.locator("#case-diagram .limit-plumbing.current").count() == 0
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")

    application = page.locator("dl.application")
    assert "医疗费用总额（元）" in application.inner_text() and "800.00" in application.inner_text()
    assert "6222020712001234567" in application.inner_text()  # 审核 needs the account in full
    shot(page, "case-page-at-review")

    page.get_by_role("link", name="办理“审核”").click()
    page.wait_for_url("**/tasks/*")
    page.get_by_role("button", name="审核通过", exact=True).wait_for()


def test_a_role_that_cannot_take_the_task_gets_no_link_and_sees_the_account_masked(page, server, ctx, staff):
    number = case_at_review(ctx, staff)
    sign_in(page, server, "kezhang")  # 科长: no 审核 of his own; phone numbers in full, bank accounts masked
    page.goto(f"{server}/cases/{number}")
    page.locator('#case-diagram[data-state="ready"]').wait_for()
    assert page.get_by_role("link", name="办理“审核”").count() == 0
    shown = page.locator("dl.application").inner_text()
    assert "医疗费用总额（元）" in shown
    assert "6222020712001234567" not in shown

"""上报 on the task page: a task whose diagram has an escalation boundary event offers it in a dialog, with the
escalation codes the diagram catches as the choices; refused without a choice (the error inside the dialog, the
note typed kept), then done: the case takes the boundary event's path (non-interrupting: 科长阅知 beside 审核).
A task with no escalation boundary has no such button."""
from __future__ import annotations

from workflows.services import cases, tasks

from .conftest import shot, sign_in
from .test_task_assignment_flow import APPLICANT, ITEM, deploy_fixture
from .test_task_error_flow import refused_without_a_code


def test_a_clerk_escalates_as_the_diagram_catches_and_the_case_takes_its_path(page, server, ctx, staff, clock):
    deploy_fixture(ctx, staff, "escalation_user_task.bpmn")
    progress = cases.open_case(ctx, staff["shouli"], ITEM, APPLICANT, {})
    number, [accept] = progress.case.number, progress.open_tasks
    sign_in(page, server, "shouli")
    page.goto(f"{server}/tasks/{accept.id}")
    page.get_by_role("toolbar").get_by_role("button", name="转办").wait_for()
    assert page.get_by_role("button", name="上报", exact=True).count() == 0  # 受理 has no escalation boundary
    [review] = tasks.complete_task(ctx, staff["shouli"], accept.id, {}).open_tasks

    sign_in(page, server, "shenhe")
    page.goto(f"{server}/tasks/{review.id}")
    dialog = refused_without_a_code(page, "上报", "上报事项", "上报", ["上报科长（REPORT）", "移交稽核（TRANSFER）"],
                                    "金额较大，请科长知悉", "升级码")
    shot(page, "task-escalation-refused")

    dialog.get_by_label("上报事项").select_option("REPORT")
    dialog.get_by_role("button", name="上报", exact=True).click()
    page.get_by_role("status").filter(has_text=f"已上报；{number} 按升级边界事件继续办理").wait_for()
    assert sorted(t.name for t in cases.case_details(ctx, staff["kezhang"], number).tasks if t.state == "ready") == [
        "审核", "科长阅知"]
    page.goto(f"{server}/cases/{number}")
    assert "报告升级“REPORT”（金额较大，请科长知悉）" in page.locator("#history").inner_text()

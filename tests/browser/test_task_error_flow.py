"""报告业务错误 on the task page: a task whose diagram has an error boundary event offers it in a dialog, with the
error codes the diagram catches as the choices; refused without a choice (the error inside the dialog, the note
typed kept), then done: the case takes the boundary event's path. A task with no error boundary has no such button."""
from __future__ import annotations

from workflows.services import cases, tasks

from support.cases import accept

from .conftest import shot, sign_in
from .test_task_assignment_flow import APPLICANT, ITEM, deploy_fixture


def test_a_clerk_reports_a_business_error_the_diagram_catches(page, server, ctx, staff, clock):
    deploy_fixture(ctx, staff, "error_boundary_user_task.bpmn")
    progress = cases.open_case(ctx, staff["shouli"], ITEM, APPLICANT, {})
    number, [task] = progress.case.number, progress.open_tasks

    sign_in(page, server, "shouli")
    page.goto(f"{server}/tasks/{task.id}")
    dialog = refused_without_a_code(page, "报告业务错误", "业务错误", "报告", ["未参保（NOT_INSURED）"], "经核查未参保",
                                    "错误码")
    shot(page, "task-bpmn-error-refused")

    dialog.get_by_label("业务错误").select_option("NOT_INSURED")
    dialog.get_by_role("button", name="报告", exact=True).click()
    page.get_by_role("status").filter(has_text=f"已报告业务错误；{number} 按错误边界事件继续办理，当前环节：告知参保").wait_for()
    assert [t.name for t in tasks.list_tasks(ctx, staff["shouli"]) if t.case_number == number] == ["告知参保"]
    page.goto(f"{server}/cases/{number}")
    assert "报告业务错误“NOT_INSURED”（经核查未参保）" in page.locator("#history").inner_text()


def refused_without_a_code(page, opener: str, label: str, button: str, offered: list[str], note: str, refusal: str):
    """Open the dialog `opener` on the task page, see the codes `offered` (what the diagram catches), type the note
    and send without a code: refused inside the dialog (`refusal`), the note kept. Returns the dialog."""
    page.get_by_role("toolbar").get_by_role("button", name=opener, exact=True).click()
    dialog = page.locator("dialog[open]")
    choices = dialog.get_by_label(label).locator("option").all_inner_texts()
    assert [choice for choice in choices if choice] == offered
    dialog.get_by_label("说明（记入办理记录）").fill(note)
    dialog.get_by_role("button", name=button, exact=True).click()  # no code chosen: refused by the server
    dialog = page.locator("dialog[open]")
    dialog.locator(".field-error").filter(has_text=refusal).wait_for()
    assert dialog.get_by_label("说明（记入办理记录）").input_value() == note  # nothing typed is lost
    return dialog


def test_a_task_whose_diagram_catches_no_error_offers_no_such_button(page, server, ctx, staff, clock):
    number = accept(ctx, staff, clock, "2026-12-01 09:30")
    review = next(t for t in tasks.list_tasks(ctx, staff["shenhe"]) if t.case_number == number)
    sign_in(page, server, "shenhe")
    page.goto(f"{server}/tasks/{review.id}")
    page.get_by_role("toolbar").get_by_role("button", name="加签").wait_for()
    assert page.get_by_role("button", name="报告业务错误").count() == 0

"""流程操作 on the task and case pages (_case_operations.html): 退回, 撤回, 撤件, 终止, 中止/恢复 and 重试; the
applicant's 撤件 on the public progress page; the 已中止 mark in the inbox.

The forms carry `next`, the page they sit on. A refused form (a reason missing, the case changed meanwhile)
shows that page again with the message and the reason typed; done, the user goes where the work now is.
"""
from __future__ import annotations

from flask import flash, g, redirect, request, url_for

from workflows.domain.errors import Conflict, InvalidInput, NotFound
from workflows.domain.model import FAILED
from workflows.domain.throttling import TooManyAttempts
from workflows.services import case_operations, time_limits
from workflows.services.access import require_role

from .base import blueprint, ctx, local_path, render_again, signed_in
from .public import PROOF_FIELDS, locked_answer, not_found_answer, progress_answer, proof_of, typed_proof



def _reason() -> str:
    return request.form.get("reason", "")


def _act(form: str, back: str, action):
    """Run `action()`, which returns (what to tell the user, where to go then[, the flash's category]). Bad input
    or a changed case: the page again with why, beside the form `form`, and the reason typed kept (a wrong person
    gets the error page: 403, 404)."""
    try:
        message, target, *category = action()
    except (InvalidInput, Conflict) as error:
        flash(str(error), "error")
        status = 422 if isinstance(error, InvalidInput) else 409
        draft = {"form": form, "reason": _reason(), "errors": getattr(error, "field_errors", {}), "message": str(error),
                 "target_task_id": request.form.get("target_task_id"), "values": request.form.to_dict()}
        return render_again(back, status, case_ops_draft=draft, case_ops_back=back)
    flash(message, *(category or ["ok"]))
    return redirect(target, 303)


def _back(number: str) -> str:
    return local_path(request.form.get("next", "")) or url_for("web.case_page", number=number)


@blueprint.post("/tasks/<task_id>/return")
@signed_in
def return_task(task_id):
    """退回: the holder sends the case back to the chosen earlier step; then on to the inbox."""
    back = local_path(request.form.get("next", "")) or url_for("web.task_page", task_id=task_id)

    def action():
        progress = case_operations.return_task(ctx(), g.user, task_id, request.form.get("target_task_id", ""),
                                               _reason())
        return f"{progress.case.number} 已退回到“{progress.case.stage}”", url_for("web.inbox")

    return _act("return", back, action)


@blueprint.post("/tasks/<task_id>/withdraw")
@signed_in
def withdraw_task(task_id):
    """撤回 one's own completed task: it is open again, and the user goes to it."""
    def action():
        progress = case_operations.withdraw_task(ctx(), g.user, task_id, _reason())
        mine = next((t for t in progress.open_tasks if t.assignee == g.user.username), None)
        return (f"已撤回，{progress.case.number} 回到“{progress.case.stage}”",
                url_for("web.task_page", task_id=mine.id) if mine
                else url_for("web.case_page", number=progress.case.number))

    return _act("withdraw", local_path(request.form.get("next", "")) or url_for("web.inbox"), action)


def case_action(number: str, form: str, run):
    """An operation on the case as a whole: `run()` returns what to tell the user (and, optionally, the flash's
    category); then back to the case page."""
    def action():
        done = run()
        message, *category = done if isinstance(done, tuple) else (done,)
        return (f"{number}：{message}", url_for("web.case_page", number=number), *category)

    return _act(form, _back(number), action)


@blueprint.post("/cases/<number>/withdrawal")
@signed_in
def withdraw_case(number):
    return case_action(number, "withdraw_case", lambda: case_operations.withdraw_case(
        ctx(), g.user, number, _reason()) and "已撤件")


@blueprint.post("/cases/<number>/termination")
@signed_in
def terminate_case(number):
    return case_action(number, "terminate", lambda: case_operations.terminate_case(
        ctx(), g.user, number, _reason()) and "已终止办理")


@blueprint.post("/cases/<number>/suspension")
@signed_in
def suspend_case(number):
    """中止 from the case page (as from the desk): a supervisor's decision, so the role is checked first."""
    require_role(g.user, "supervisor")

    def suspend():
        if case_operations.is_suspended(ctx(), g.user, number):
            raise Conflict("案件已中止")
        time_limits.pause_clock(ctx(), g.user, number, "suspension", _reason())
        return "已中止，恢复前不能办理"

    return case_action(number, "suspend", suspend)


@blueprint.post("/cases/<number>/resumption")
@signed_in
def resume_case(number):
    require_role(g.user, "supervisor")

    def resume():
        if not case_operations.is_suspended(ctx(), g.user, number):
            raise Conflict("案件没有中止")  # the case page ends a 中止, never a clerk's 补正 pause
        time_limits.resume_clock(ctx(), g.user, number)
        return "已恢复办理"

    return case_action(number, "resume", resume)


@blueprint.post("/cases/<number>/retry")
@signed_in
def retry_case(number):
    def retry():
        progress = case_operations.retry_case(ctx(), g.user, number, _reason())
        if progress.case.status == FAILED:
            return "重试仍未成功，出错原因见下", "error"
        return "已重试，案件继续办理"

    return case_action(number, "retry", retry)


@blueprint.app_template_global()
def case_operations_of(number: str, task_id: str | None = None):
    """What the signed-in user may do on the case's workflow, for the page it is shown on."""
    return case_operations.available_operations(ctx(), g.user, number, task_id)


# --- the applicant ---------------------------------------------------------------------------------------------

@blueprint.post("/public/withdrawal")
def public_withdraw():
    """撤件 by the applicant on the progress page, proven (and throttled) as for the query."""
    typed = typed_proof()
    try:
        case_operations.withdraw_by_applicant(ctx(), proof_of(typed), request.remote_addr, _reason())
    except TooManyAttempts as error:
        return locked_answer(typed, error)
    except InvalidInput as error:
        if set(error.field_errors) & set(PROOF_FIELDS):
            return progress_answer(typed)
        return progress_answer(typed, withdrawal={"reason": _reason(), "errors": error.field_errors}, status=422)
    except NotFound:
        return not_found_answer(typed)  # the same neutral 未查到 as the query (and counted once)
    except Conflict as error:
        return progress_answer(typed, withdrawal={"message": str(error)}, status=409)
    return progress_answer(typed, withdrawal={"done": "您的申请已撤回（撤件），本办件不再办理"})

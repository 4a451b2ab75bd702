"""Task operations on the task page (转办, 委派, 加签/减签, 催办, 督办 and its reply), what people must act on in
the inbox, the 督办 list on the desk, and one's own 外出/休假代理 page.

A refused operation shows the task page again with the message, the field errors beside the form's fields and
what was typed kept (`g.operation_draft`); a done one flashes what happened and goes where the person acts next.
"""
from __future__ import annotations

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for

from workflows.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from workflows.domain.model import REQUEST_KINDS, SIGN_DECISIONS
from workflows.services import substitutes, task_operations, tasks, users

from .base import blueprint, ctx, signed_in

STATUS = {InvalidInput: 422, Conflict: 409, Forbidden: 403}


def _form() -> dict:
    values = request.form.to_dict()
    values.pop("csrf_token", None)
    return values


def _act(task_id: str, form: str, run, say, to_inbox: bool = False):
    """Run an operation (`run(values)`), tell the person `say` (text, or made from what `run` returned) and go on to
    the task page (or the inbox, for whom the task is no longer theirs to work); if refused, the task page again
    with the message and the form `form` as it was typed."""
    values = _form()
    try:
        result = run(values)
    except NotFound:
        abort(404)
    except (InvalidInput, Conflict, Forbidden) as error:
        flash(str(error), "error")
        g.operation_draft = {"form": form, "values": values, "errors": getattr(error, "field_errors", {}),
                             "message": str(error)}
        response = current_app.make_response(current_app.view_functions["web.task_page"](task_id=task_id))
        response.status_code = STATUS[type(error)]
        return response
    flash(say(result) if callable(say) else say, "ok")
    return redirect(url_for("web.inbox") if to_inbox else url_for("web.task_page", task_id=task_id), 303)


def _name(username: str) -> str:
    return users.get_user(ctx(), username).full_name


def _completed(done: str):
    """What to say after an action that may have released a held submission: the step done, and where it went."""
    def say(outcome: task_operations.Outcome) -> str:
        case = outcome.progress.case if outcome.progress else None
        return f"{done}；{case.number} 已流转，当前环节：{case.stage}" if case else done
    return say


@blueprint.post("/tasks/<task_id>/transfer")
@signed_in
def transfer(task_id):
    return _act(task_id, "transfer", lambda v: task_operations.transfer_task(
        ctx(), g.user, task_id, v.get("assignee"), v.get("reason")),
        lambda task: f"已转办给{_name(task.assignee)}", to_inbox=True)


@blueprint.post("/tasks/<task_id>/delegate")
@signed_in
def delegate(task_id):
    return _act(task_id, "delegate", lambda v: task_operations.delegate_task(
        ctx(), g.user, task_id, v.get("delegate"), v.get("reason")),
        lambda request: f"已委派给{_name(request.assignee)}")


@blueprint.post("/tasks/<task_id>/signers")
@signed_in
def add_signer(task_id):
    return _act(task_id, "signer", lambda v: task_operations.add_signer(
        ctx(), g.user, task_id, v.get("signer"), v.get("kind"), v.get("reason")),
        lambda request: f"已{REQUEST_KINDS[request.kind]}{_name(request.assignee)}")


@blueprint.post("/tasks/<task_id>/requests/<int:request_id>")
@signed_in
def act_on_request(task_id, request_id):
    """A delegation or signature of the task: 办理 (resolve) or 收回 (recall) a delegation, 签署 (sign) or 减签
    (remove) a signer — the form's `action` says which."""
    steps = {
        "resolve": (lambda v: task_operations.resolve_delegation(ctx(), g.user, request_id, v.get("opinion")),
                    "已提交办理意见", True),
        "recall": (lambda v: task_operations.recall_delegation(ctx(), g.user, request_id, v.get("reason", "")),
                   "已收回委派", False),
        "sign": (lambda v: task_operations.sign(ctx(), g.user, request_id, v.get("decision"), v.get("opinion")),
                 _completed(f"已签署：{SIGN_DECISIONS.get(request.form.get('decision'), '')}"), True),
        "remove": (lambda v: task_operations.remove_signer(ctx(), g.user, request_id, v.get("reason", "")),
                   _completed("已减签"), False),
    }
    if request.form.get("action") not in steps:
        abort(400)
    run, say, to_inbox = steps[request.form["action"]]
    return _act(task_id, f"request-{request_id}", run, say, to_inbox=to_inbox)


@blueprint.post("/tasks/<task_id>/urge")
@signed_in
def urge(task_id):
    return _act(task_id, "urge", lambda v: task_operations.urge_task(ctx(), g.user, task_id, v.get("message", "")),
                lambda told: f"已催办{'、'.join(_name(username) for username in told)}")


@blueprint.post("/tasks/<task_id>/supervise")
@signed_in
def supervise(task_id):
    return _act(task_id, "supervise", lambda v: task_operations.supervise_task(
        ctx(), g.user, task_id, v.get("instruction")), "已督办，待办理人回复")


@blueprint.post("/tasks/<task_id>/supervisions/<int:supervision_id>/reply")
@signed_in
def reply(task_id, supervision_id):
    return _act(task_id, f"reply-{supervision_id}", lambda v: task_operations.reply_supervision(
        ctx(), g.user, supervision_id, v.get("reply")), _completed("已回复督办"))


@blueprint.post("/tasks/<task_id>/bpmn-error")
@signed_in
def report_error(task_id):
    """报告业务错误: the case takes the task's error boundary event for the chosen code (the task ends with it)."""
    return _thrown(task_id, "bpmn-error", tasks.report_task_error, "已报告业务错误", "错误边界事件")


@blueprint.post("/tasks/<task_id>/escalation")
@signed_in
def report_escalation(task_id):
    """上报: the case takes the task's escalation boundary event for the chosen code (beside the task, or instead of
    it when the event interrupts)."""
    return _thrown(task_id, "escalation", tasks.report_task_escalation, "已上报", "升级边界事件")


def _thrown(task_id: str, form: str, report, done: str, event: str):
    """A code the clerk throws at the task (dialog `form`), reported by the use case `report`; then the inbox."""
    return _act(task_id, form, lambda v: report(ctx(), g.user, task_id, v.get("code", ""), v.get("message") or None),
                lambda progress: f"{done}；{progress.case.number} 按{event}继续办理，当前环节：{progress.case.stage}",
                to_inbox=True)


# --- what the inbox, the task page and the desk show ------------------------------------------------------------

@blueprint.app_template_global()
def operations_of(task_id: str) -> task_operations.TaskOperations:
    return task_operations.task_operations(ctx(), g.user, task_id)


@blueprint.app_template_global()
def refused_operation(form: str) -> str | None:
    """Why the form `form` was just refused on this page ("" when its fields say it), else None: its dialog opens."""
    draft = g.get("operation_draft") or {}
    if draft.get("form") != form:
        return None
    return "" if draft["errors"] else draft["message"]


@blueprint.app_template_global()
def operation_draft(form: str) -> tuple[dict, dict]:
    """(values typed, field errors) of the refused form `form` on this page, else empty."""
    draft = g.get("operation_draft") or {}
    return (draft["values"], draft["errors"]) if draft.get("form") == form else ({}, {})


@blueprint.app_template_global()
def awaiting_me() -> task_operations.Awaiting:
    return task_operations.awaiting(ctx(), g.user)


@blueprint.app_context_processor
def operation_names():
    return {"REQUEST_KINDS": REQUEST_KINDS, "SIGN_DECISIONS": SIGN_DECISIONS, "SUBSTITUTE_KINDS": substitutes.KINDS}


# --- 外出/休假代理 --------------------------------------------------------------------------------------------------

@blueprint.get("/me/substitute")
@signed_in
def substitute_page():
    return _render_substitutes()


def _render_substitutes(values: dict | None = None, errors: dict | None = None, status: int = 200):
    return render_template("substitute.html", found=substitutes.my_substitutions(ctx(), g.user),
                           values=values or {}, errors=errors or {}, period_label=substitutes.period_label), status


@blueprint.post("/me/substitute")
@signed_in
def name_substitute():
    values = _form()
    try:
        period = substitutes.name_substitute(ctx(), g.user, values.get("substitute"), values.get("kind"),
                                             values.get("reason", ""), values.get("starts_at"),
                                             values.get("ends_at"))
    except InvalidInput as error:
        flash(str(error), "error")
        return _render_substitutes(values, error.field_errors, 422)
    flash(f"已设置代理：{substitutes.period_label(period)}", "ok")
    return redirect(url_for("web.substitute_page"), 303)


@blueprint.post("/me/substitute/<int:substitution_id>/end")
@signed_in
def end_substitution(substitution_id):
    try:
        substitutes.end_substitution(ctx(), g.user, substitution_id)
    except NotFound:
        abort(404)
    except Conflict as error:
        flash(str(error), "error")
        return _render_substitutes(status=409)
    flash("已结束代理", "ok")
    return redirect(url_for("web.substitute_page"), 303)

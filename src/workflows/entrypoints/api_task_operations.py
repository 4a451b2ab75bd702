"""REST routes of task operations between people: 转办, 委派, 加签/减签, 催办, 督办 and its reply, and one's own
外出/休假代理 (substitute) periods."""
from __future__ import annotations

from flask import g, jsonify

from workflows.domain.model import REQUEST_KINDS, SIGN_DECISIONS
from workflows.services import substitutes, task_operations

from . import views
from .api_base import authenticated, blueprint, body, ctx, paging


def request_view(request) -> dict:
    return {"id": request.id, "task_id": request.task_id, "kind": request.kind,
            "kind_name": REQUEST_KINDS.get(request.kind, request.kind), "requested_by": request.requested_by,
            "assignee": request.assignee, "reason": request.reason, "substitute_note": request.substitute_note,
            "status": request.status, "decision": request.decision,
            "decision_name": SIGN_DECISIONS.get(request.decision), "opinion": request.opinion,
            "requested_at": views.moment(request.requested_at), "done_at": views.moment(request.done_at),
            "withdrawn_by": request.withdrawn_by}


def supervision_view(supervision) -> dict:
    return {"id": supervision.id, "task_id": supervision.task_id, "case_number": supervision.case_number,
            "supervisor": supervision.supervisor, "instruction": supervision.instruction,
            "created_at": views.moment(supervision.created_at), "reply": supervision.reply,
            "replied_by": supervision.replied_by, "replied_at": views.moment(supervision.replied_at)}


def substitution_view(period) -> dict:
    return {"id": period.id, "username": period.username, "substitute": period.substitute, "kind": period.kind,
            "kind_name": substitutes.KINDS.get(period.kind, period.kind), "reason": period.reason,
            "starts_at": views.moment(period.starts_at), "ends_at": views.moment(period.ends_at),
            "ended_at": views.moment(period.ended_at), "created_at": views.moment(period.created_at)}


def _outcome_view(outcome: task_operations.Outcome, view) -> dict:
    """The request or 督办, and `completed`: the case after the step completed with it, or null."""
    return {**view(outcome.record),
            "completed": views.progress_view(outcome.progress) if outcome.progress else None}


@blueprint.get("/tasks/<task_id>/operations")
@authenticated
def get_task_operations(task_id):
    found = task_operations.task_operations(ctx(), g.user, task_id)
    return jsonify({"task": views.task_view(found.task), "requests": [request_view(r) for r in found.requests],
                    "supervisions": [supervision_view(s) for s in found.supervisions],
                    "submission": {"submitted_by": found.submission.submitted_by, "data": found.submission.data,
                                   "submitted_at": views.moment(found.submission.submitted_at)}
                    if found.submission else None})


@blueprint.post("/tasks/<task_id>/transfer")
@authenticated
def transfer_task(task_id):
    data = body()
    task = task_operations.transfer_task(ctx(), g.user, task_id, data.get("assignee"), data.get("reason"))
    return jsonify(views.task_view(task))


@blueprint.post("/tasks/<task_id>/delegations")
@authenticated
def delegate_task(task_id):
    data = body()
    request = task_operations.delegate_task(ctx(), g.user, task_id, data.get("delegate"), data.get("reason"))
    return jsonify(request_view(request)), 201


@blueprint.post("/tasks/<task_id>/signers")
@authenticated
def add_signer(task_id):
    data = body()
    request = task_operations.add_signer(ctx(), g.user, task_id, data.get("signer"), data.get("kind"),
                                         data.get("reason"))
    return jsonify(request_view(request)), 201


@blueprint.post("/task-requests/<int:request_id>/resolve")
@authenticated
def resolve_delegation(request_id):
    request = task_operations.resolve_delegation(ctx(), g.user, request_id, body().get("opinion"))
    return jsonify(request_view(request))


@blueprint.post("/task-requests/<int:request_id>/recall")
@authenticated
def recall_delegation(request_id):
    request = task_operations.recall_delegation(ctx(), g.user, request_id, body().get("reason", ""))
    return jsonify(request_view(request))


@blueprint.post("/task-requests/<int:request_id>/sign")
@authenticated
def sign_request(request_id):
    data = body()
    outcome = task_operations.sign(ctx(), g.user, request_id, data.get("decision"), data.get("opinion"))
    return jsonify(_outcome_view(outcome, request_view))


@blueprint.post("/task-requests/<int:request_id>/remove")
@authenticated
def remove_signer(request_id):
    outcome = task_operations.remove_signer(ctx(), g.user, request_id, body().get("reason", ""))
    return jsonify(_outcome_view(outcome, request_view))


@blueprint.post("/tasks/<task_id>/urge")
@authenticated
def urge_task(task_id):
    notified = task_operations.urge_task(ctx(), g.user, task_id, body().get("message", ""))
    return jsonify({"notified": notified})


@blueprint.post("/tasks/<task_id>/supervisions")
@authenticated
def supervise_task(task_id):
    supervision = task_operations.supervise_task(ctx(), g.user, task_id, body().get("instruction"))
    return jsonify(supervision_view(supervision)), 201


@blueprint.post("/supervisions/<int:supervision_id>/reply")
@authenticated
def reply_supervision(supervision_id):
    outcome = task_operations.reply_supervision(ctx(), g.user, supervision_id, body().get("reply"))
    return jsonify(_outcome_view(outcome, supervision_view))


@blueprint.get("/supervisions")
@authenticated
def hall_supervisions():
    found = task_operations.hall_supervisions(ctx(), g.user, *paging())
    return jsonify([{**supervision_view(s), "task": views.task_view(t)} for s, t in found.supervisions])


@blueprint.get("/me/awaiting")
@authenticated
def awaiting_me():
    found = task_operations.awaiting(ctx(), g.user)
    return jsonify({"requests": [{**request_view(r), "task": views.task_view(t)} for r, t in found.requests],
                    "supervisions": [{**supervision_view(s), "task": views.task_view(t)}
                                     for s, t in found.supervisions]})


@blueprint.get("/me/substitutions")
@authenticated
def my_substitutions():
    found = substitutes.my_substitutions(ctx(), g.user)
    return jsonify({"own": [substitution_view(p) for p in found.own],
                    "covering": [substitution_view(p) for p in found.covering],
                    "candidates": [views.user_view(user) for user in found.candidates]})


@blueprint.post("/me/substitutions")
@authenticated
def name_substitute():
    data = body()
    period = substitutes.name_substitute(ctx(), g.user, data.get("substitute"), data.get("kind"),
                                         data.get("reason", ""), data.get("starts_at"), data.get("ends_at"))
    return jsonify(substitution_view(period)), 201


@blueprint.post("/me/substitutions/<int:substitution_id>/end")
@authenticated
def end_substitution(substitution_id):
    return jsonify(substitution_view(substitutes.end_substitution(ctx(), g.user, substitution_id)))

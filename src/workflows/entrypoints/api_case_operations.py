"""REST routes of operations on a case's workflow: 退回 (with the steps it may go back to), 撤回, 撤件, 终止 and the
retry of a failed step. 中止 and its end are POST /api/cases/<n>/pause (kind suspension) and /resume."""
from __future__ import annotations

from flask import g, jsonify

from workflows.services import case_operations

from . import views
from .api_base import authenticated, blueprint, body, ctx


def return_target_view(target: case_operations.ReturnTarget) -> dict:
    return {"task_id": target.task_id, "name": target.name, "stage": target.stage,
            "completed_by": target.completed_by, "completed_by_name": target.completed_by_name,
            "completed_at": views.moment(target.completed_at),
            "allowed": target.refusal is None, "refusal": target.refusal}


@blueprint.get("/tasks/<task_id>/return-targets")
@authenticated
def return_targets(task_id):
    return jsonify([return_target_view(t) for t in case_operations.return_targets(ctx(), g.user, task_id)])


@blueprint.post("/tasks/<task_id>/return")
@authenticated
def return_task(task_id):
    data = body()
    progress = case_operations.return_task(ctx(), g.user, task_id, data.get("target_task_id"), data.get("reason"))
    return jsonify(views.progress_view(progress))


@blueprint.post("/tasks/<task_id>/withdraw")
@authenticated
def withdraw_task(task_id):
    progress = case_operations.withdraw_task(ctx(), g.user, task_id, body().get("reason"))
    return jsonify(views.progress_view(progress))


@blueprint.post("/cases/<number>/withdrawal")
@authenticated
def withdraw_case(number):
    progress = case_operations.withdraw_case(ctx(), g.user, number, body().get("reason"))
    return jsonify(views.progress_view(progress))


@blueprint.post("/cases/<number>/termination")
@authenticated
def terminate_case(number):
    progress = case_operations.terminate_case(ctx(), g.user, number, body().get("reason"))
    return jsonify(views.progress_view(progress))


@blueprint.post("/cases/<number>/retry")
@authenticated
def retry_case(number):
    progress = case_operations.retry_case(ctx(), g.user, number, body().get("reason"))
    return jsonify(views.progress_view(progress))

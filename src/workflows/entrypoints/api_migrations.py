"""REST routes of 迁移 (migration plans of running cases to another process version: make, approve, list with
the cases that can move and why not, run) and 跳转 (move a case's token): services/case_migration.py and
services/token_moves.py."""
from __future__ import annotations

from flask import g, jsonify

from workflows.domain.case_migration import PLAN_STATUS_NAMES
from workflows.domain.errors import InvalidInput
from workflows.services import case_migration, token_moves

from . import views
from .api_base import authenticated, blueprint, body, ctx, paging


def plan_view(plan) -> dict:
    return {"id": plan.id, "process_key": plan.process_key, "source_version_id": plan.source_version_id,
            "target_version_id": plan.target_version_id, "mapping": plan.mapping, "reason": plan.reason,
            "requested_by": plan.requested_by, "requested_at": views.moment(plan.requested_at),
            "approved_by": plan.approved_by, "approved_at": views.moment(plan.approved_at),
            "approved_hall": plan.approved_hall, "status": plan.status, "status_name": PLAN_STATUS_NAMES[plan.status]}


def details_view(details: case_migration.PlanDetails) -> dict:
    return {**plan_view(details.plan), "source_version": details.source.version,
            "target_version": details.target.version,
            "cases": [{"number": c.number, "stage": c.stage, "at": list(c.at), "movable": c.refusal is None,
                       "refusal": c.refusal} for c in details.candidates]}


@blueprint.get("/migration-plans")
@authenticated
def list_migration_plans():
    return jsonify([plan_view(p) for p in case_migration.list_plans(ctx(), g.user, *paging())])


@blueprint.post("/migration-plans")
@authenticated
def request_migration():
    data = body()
    plan = case_migration.request_migration(ctx(), g.user, data.get("process_key"), data.get("source_version"),
                                            data.get("target_version"), data.get("mapping"), data.get("reason"))
    return jsonify(plan_view(plan)), 201


@blueprint.get("/migration-plans/<int:plan_id>")
@authenticated
def show_migration_plan(plan_id):
    return jsonify(details_view(case_migration.plan_details(ctx(), g.user, plan_id, *paging())))


@blueprint.post("/migration-plans/<int:plan_id>/approve")
@authenticated
def approve_migration_plan(plan_id):
    return jsonify(plan_view(case_migration.approve_plan(ctx(), g.user, plan_id)))


@blueprint.post("/migration-plans/<int:plan_id>/run")
@authenticated
def run_migration_plan(plan_id):
    numbers = body().get("cases")
    if numbers is not None and not isinstance(numbers, list):
        raise InvalidInput("请选择要迁移的办件", {"cases": "办件编号的数组；不填即全部可迁移的办件"})
    outcomes = case_migration.run_plan(ctx(), g.user, plan_id, numbers)
    return jsonify([{"number": o.number, "migrated": o.migrated, "error": o.error} for o in outcomes])


@blueprint.get("/cases/<number>/token-moves")
@authenticated
def token_move_options(number):
    return jsonify([{"element_id": s.element_id, "name": s.name,
                     "targets": [{"element_id": t.element_id, "name": t.name, "stage": t.stage,
                                  "effects": list(t.effects)} for t in s.targets]}
                    for s in token_moves.move_options(ctx(), g.user, number)])


@blueprint.post("/cases/<number>/token-moves")
@authenticated
def move_token(number):
    data = body()
    progress = token_moves.move_token(ctx(), g.user, number, data.get("from"), data.get("to"), data.get("reason"),
                                      data.get("compensation_note"))
    return jsonify(views.progress_view(progress))

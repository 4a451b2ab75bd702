"""REST routes of 迁移 (migration plans of running cases to another process version: make, approve, list with
the cases that can move and why not, run) and 跳转 (move a case's token): services/case_migration.py and
services/token_moves.py."""
from __future__ import annotations

from flask import g, jsonify, url_for

from workflows.domain.case_migration import PLAN_STATUS_NAMES
from workflows.domain.errors import InvalidInput
from workflows.services import case_migration, migration_runs, token_moves

from . import views
from .api_base import authenticated, blueprint, body, ctx, paging


def plan_view(plan) -> dict:
    return {"id": plan.id, "process_key": plan.process_key, "source_version_id": plan.source_version_id,
            "target_version_id": plan.target_version_id, "mapping": plan.mapping, "reason": plan.reason,
            "requested_by": plan.requested_by, "requested_at": views.moment(plan.requested_at),
            "approved_by": plan.approved_by, "approved_at": views.moment(plan.approved_at),
            "approved_hall": plan.approved_hall, "status": plan.status, "status_name": PLAN_STATUS_NAMES[plan.status]}


def details_view(details: case_migration.PlanDetails, progress: migration_runs.RunProgress | None) -> dict:
    return {**plan_view(details.plan), "source_version": details.source.version,
            "target_version": details.target.version,
            "cases": [{"number": c.number, "stage": c.stage, "at": list(c.at), "movable": c.refusal is None,
                       "refusal": c.refusal} for c in details.candidates],
            "run": progress and run_view(progress)}


def outcome_view(outcome) -> dict:
    return {"number": outcome.number, "migrated": outcome.migrated, "error": outcome.error}


def run_view(progress: migration_runs.RunProgress) -> dict:
    run = progress.run
    return {"id": run.id, "plan_id": run.plan_id, "started_by": run.started_by,
            "started_at": views.moment(run.started_at), "finished_at": views.moment(run.finished_at),
            "running": run.running, "total": run.total, "migrated": progress.migrated, "failed": progress.failed,
            "left": progress.left, "failures": [outcome_view(o) for o in progress.failures]}


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
    details = case_migration.plan_details(ctx(), g.user, plan_id, *paging())
    return jsonify(details_view(details, migration_runs.run_progress(ctx(), g.user, plan_id)))


@blueprint.post("/migration-plans/<int:plan_id>/approve")
@authenticated
def approve_migration_plan(plan_id):
    return jsonify(plan_view(case_migration.approve_plan(ctx(), g.user, plan_id)))


@blueprint.post("/migration-plans/<int:plan_id>/run")
@authenticated
def run_migration_plan(plan_id):
    numbers = body().get("cases")
    if numbers is None:  # every case: in the background, followed at the run's address
        run = migration_runs.start_run(ctx(), g.user, plan_id)
        progress = migration_runs.run_progress(ctx(), g.user, plan_id, run.id)
        where = url_for("api.show_migration_run", plan_id=plan_id, run_id=run.id)
        return jsonify(run_view(progress)), 202, {"Location": where}
    if not isinstance(numbers, list):
        raise InvalidInput("请选择要迁移的办件", {"cases": "办件编号的数组；不填即全部可迁移的办件"})
    return jsonify([outcome_view(o) for o in case_migration.run_plan(ctx(), g.user, plan_id, numbers)])


@blueprint.get("/migration-plans/<int:plan_id>/runs/<int:run_id>")
@authenticated
def show_migration_run(plan_id, run_id):
    return jsonify(run_view(migration_runs.run_progress(ctx(), g.user, plan_id, run_id, *paging())))


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

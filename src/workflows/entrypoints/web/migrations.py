"""案件迁移 (migration plans: make one, approve it, see which cases can move and why not, run it on the ticked ones
or, in the background, on all, its progress polled by the plan's page) and 跳转 (the dialog on the case page that
moves a case's token): services/case_migration.py, services/migration_runs.py and services/token_moves.py."""
from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for

from workflows.domain.errors import Conflict, InvalidInput
from workflows.services import case_migration, migration_runs, processes, token_moves

from .base import blueprint, ctx, page_of, signed_in
from .case_operations import case_action

PLAN_ROWS = 100  # 迁移计划 a page, the newest first; read at the call: a test makes the page small
CASE_ROWS = 50  # a plan's open cases a page, the oldest first; read at the call likewise


def _mapping(text: str) -> dict[str, str]:
    """One `源元素id=目标元素id` a line; a line that is not is refused naming it."""
    mapping = {}
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        old, sep, new = (part.strip() for part in line.partition("="))
        if not sep or not old or not new:
            raise InvalidInput("映射有误", {"mapping": f"“{line.strip()}”应写作 源元素id=目标元素id"})
        mapping[old] = new
    return mapping


def _version(name: str):
    text = request.form.get(name, "").strip()
    return int(text) if text.isdigit() and len(text) < 10 else text


def _refused(error) -> None:
    flash("；".join(error.field_errors.values()) if getattr(error, "field_errors", None) else str(error), "error")


@blueprint.get("/migrations")
@signed_in
def migrations_page():
    plans, number, more = page_of(lambda limit, offset: case_migration.list_plans(ctx(), g.user, limit, offset),
                                  "page", PLAN_ROWS)
    keys = [p.process_key for p in processes.list_processes(ctx(), g.user.agency_code)]
    return render_template("migrations.html", plans=plans, number=number, more=more, process_keys=keys)


@blueprint.post("/migrations")
@signed_in
def request_migration_page():
    form = request.form
    try:
        plan = case_migration.request_migration(ctx(), g.user, form.get("process_key", ""), _version("source_version"),
                                                _version("target_version"), _mapping(form.get("mapping", "")),
                                                form.get("reason", ""))
    except InvalidInput as error:
        _refused(error)
        return redirect(url_for("web.migrations_page"), 303)
    flash(f"迁移计划 {plan.id} 已提出" + ("" if plan.approved_by else "，待科室负责人批准"), "ok")
    return redirect(url_for("web.migration_page", plan_id=plan.id), 303)


@blueprint.get("/migrations/<int:plan_id>")
@signed_in
def migration_page(plan_id):
    details = None

    def read(limit, offset):
        nonlocal details  # the plan is read with its page of cases
        details = case_migration.plan_details(ctx(), g.user, plan_id, limit, offset)
        return details.candidates

    candidates, number, more = page_of(read, "page", CASE_ROWS)
    return render_template("migration.html", details=details, candidates=candidates, number=number, more=more,
                           progress=migration_runs.run_progress(ctx(), g.user, plan_id))


@blueprint.get("/migrations/<int:plan_id>/run-progress")
@signed_in
def migration_run_progress(plan_id):
    """The plan page's progress panel alone, which the page polls while the run goes on."""
    return render_template("_migration_run.html", progress=migration_runs.run_progress(ctx(), g.user, plan_id))


@blueprint.post("/migrations/<int:plan_id>/approve")
@signed_in
def approve_migration_page(plan_id):
    try:
        case_migration.approve_plan(ctx(), g.user, plan_id)
        flash(f"迁移计划 {plan_id} 已批准", "ok")
    except Conflict as error:
        _refused(error)
    return redirect(url_for("web.migration_page", plan_id=plan_id), 303)


@blueprint.post("/migrations/<int:plan_id>/run")
@signed_in
def run_migration_page(plan_id):
    try:
        if request.form.get("which") == "all":
            run = migration_runs.start_run(ctx(), g.user, plan_id)
            flash(f"已开始在后台迁移全部 {run.total} 件在办案件，进度见本页", "ok")
        else:
            _flash_outcomes(case_migration.run_plan(ctx(), g.user, plan_id, request.form.getlist("case")))
    except (InvalidInput, Conflict) as error:
        _refused(error)
    return redirect(url_for("web.migration_page", plan_id=plan_id), 303)


def _flash_outcomes(outcomes) -> None:
    if not outcomes:
        flash("没有选择要迁移的办件", "error")
    for outcome in outcomes:
        flash(f"{outcome.number} 已迁移" if outcome.migrated else f"未迁移：{outcome.error}",
              "ok" if outcome.migrated else "error")


@blueprint.app_template_global()
def token_moves_of(number: str):
    """Where the signed-in 科室负责人 or administrator may move the case's token (empty for anyone else)."""
    if not (g.user.has_role("supervisor") or g.user.has_role("admin")):
        return []
    return token_moves.move_options(ctx(), g.user, number)


@blueprint.post("/cases/<number>/token-move")
@signed_in
def move_token_page(number):
    source, _, target = request.form.get("move", "").partition(">")

    def move():
        progress = token_moves.move_token(ctx(), g.user, number, source, target, request.form.get("reason", ""),
                                          request.form.get("compensation_note"))
        return f"已跳转，现处于“{progress.case.stage}”"

    return case_action(number, "token_move", move)

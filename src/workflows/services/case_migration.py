"""迁移: move running cases of an item's process from one version to another (issue 13).

A designer states the plan (source and target version, a mapping for the elements the target lacks, why); a 科室负责人 of a
hall holding its open cases approves it for that hall's cases (an administrator's plan needs no approval and covers
every hall); then it runs on one case, a selection, or every case that can move (in the background:
services/migration_runs.py), each case in its own transaction with its row locked: the workflow is moved with
SpiffWorkflow's diff (adapters/workflow_migration.py), the inbox rows follow their tasks (renamed, re-routed to the
target's role), and the history says who, why, and who approved. A case that cannot move is refused with the reason
and left exactly as it was; so is one another migration moved first.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from workflows.adapters.workflow_migration import WorkflowMigration
from workflows.domain import case_migration as rules
from workflows.domain import pages
from workflows.domain.case_migration import MigrationCheck, MigrationOutcome, MigrationPlan
from workflows.domain.errors import Conflict, InvalidInput, NotFound, WorkflowsError
from workflows.domain.model import CLOSED, Case, ProcessVersion, User

from .context import Context
from .history import add_history
from .progress import CaseCommand, Progress
from .retries import retried

log = logging.getLogger(__name__)
MAX_CASES = 1000  # cases an explicit list names at most


@dataclass(frozen=True)
class Candidate:
    """An open case of the source version, and whether it can move."""

    number: str
    stage: str
    at: tuple[str, ...]  # the names of where it stands
    refusal: str | None  # why it cannot move, None when it can


@dataclass(frozen=True)
class PlanDetails:
    plan: MigrationPlan
    source: ProcessVersion
    target: ProcessVersion
    candidates: list[Candidate]
    approved_hall_name: str | None  # the hall whose cases the approval covers (None: not approved, or every hall)


def _version(uow, actor: User, process_key: str, version) -> ProcessVersion:
    if not isinstance(version, int) or isinstance(version, bool):
        raise InvalidInput("版本号有误", {"version": "应为该流程已部署的版本号（整数）"})
    found = next((v for v in uow.processes.versions(process_key)
                  if v.version == version and v.agency_code in (None, actor.agency_code)), None)
    if found is None:
        raise InvalidInput(f"流程 {process_key} 没有版本 {version}", {"version": "请选择该流程已部署的版本"})
    return found


def plan_of(uow, actor: User, plan_id) -> MigrationPlan:
    plan = uow.migration_plans.get(plan_id)
    if plan is None or plan.agency_code != actor.agency_code:
        raise NotFound("迁移计划不存在")
    return plan


def require_viewer(actor: User) -> None:
    if not any(actor.has_role(role) for role in ("designer", "admin", "supervisor")):
        rules.require_may_request(actor)


def request_migration(ctx: Context, actor: User, process_key: str, source_version, target_version, mapping,
                      reason) -> MigrationPlan:
    """A designer's (or administrator's) plan; an administrator's is approved as it is made."""
    rules.require_may_request(actor)
    text = rules.clean_reason(reason, "迁移")
    if not isinstance(process_key, str) or not 0 < len(process_key) <= 100:
        raise InvalidInput("请选择流程", {"process_key": "流程标识，如 item_002036006001"})
    with ctx.uow() as uow:
        source, target = (_version(uow, actor, process_key, v) for v in (source_version, target_version))
        if source.id == target.id:
            raise InvalidInput("源版本与目标版本相同", {"target_version": "请选择另一个版本"})
        elements = [set(ctx.definition(uow, v.id).spec.task_specs) for v in (source, target)]
        cleaned = rules.clean_mapping(mapping, *elements)
        now = ctx.now()
        admin = actor.has_role("admin")
        plan = MigrationPlan(agency_code=actor.agency_code, process_key=process_key, source_version_id=source.id,
                             target_version_id=target.id, mapping=cleaned, reason=text,
                             requested_by=actor.username, requested_at=now,
                             approved_by=actor.username if admin else None, approved_at=now if admin else None,
                             approved_hall=None)
        uow.migration_plans.add(plan)
        uow.commit()
        return plan


@retried
def approve_plan(ctx: Context, actor: User, plan_id: int) -> MigrationPlan:
    """A 科室负责人 of a hall holding the plan's open cases approves it for that hall's cases."""
    rules.require_supervisor(actor)
    with ctx.uow() as uow:
        plan = plan_of(uow, actor, plan_id)
        names = _hall_names(ctx, uow, plan.agency_code)
        halls = uow.migration_plans.open_halls(plan.agency_code, plan.source_version_id)
        plan.approve(actor, ctx.now(), {code: names.get(code, code) for code in sorted(halls)})
        uow.commit()
        return plan


def _hall_names(ctx: Context, uow, agency_code: str) -> dict[str, str]:
    agency = ctx.catalog(uow).agency(agency_code)
    return {hall.code: hall.name for hall in agency.halls} if agency else {}


def list_plans(ctx: Context, actor: User, limit: int = 100, offset: int = 0) -> list[MigrationPlan]:
    """A page of the agency's plans, the newest first."""
    require_viewer(actor)
    with ctx.uow(write=False) as uow:
        return uow.migration_plans.of_agency(actor.agency_code, min(limit, pages.MAX_PAGE), offset)


def plan_details(ctx: Context, actor: User, plan_id: int, limit: int = pages.MAX_PAGE,
                 offset: int = 0) -> PlanDetails:
    """The plan, and a page of the open cases of its source version (the oldest first) with whether each can move
    and why not."""
    require_viewer(actor)
    with ctx.uow(write=False) as uow:
        plan = plan_of(uow, actor, plan_id)
        target = ctx.definition(uow, plan.target_version_id)
        names = _hall_names(ctx, uow, plan.agency_code)
        candidates = []
        # a 科室负责人 (neither designer nor administrator) sees the cases of the hall they answer for
        hall = None if rules.may_request(actor) else actor.hall_code
        for case in uow.migration_plans.open_cases(plan.agency_code, plan.source_version_id,
                                                   min(limit, pages.MAX_PAGE), hall, offset):
            command = CaseCommand(uow, ctx, case)
            check = WorkflowMigration(command.resume(), target, plan.mapping).check()
            candidates.append(Candidate(case.number, case.stage, _where(command, check),
                                        plan.hall_refusal(case.hall_code, names) or check.refusal))
        return PlanDetails(plan, uow.processes.get(plan.source_version_id), uow.processes.get(plan.target_version_id),
                           candidates, plan.approved_hall and names.get(plan.approved_hall, plan.approved_hall))


def _where(command: CaseCommand, check: MigrationCheck) -> tuple[str, ...]:
    """The names of where the case stands: its open user tasks, else the events it waits on (容缺补正 …)."""
    definition = command.definition
    tasks = [definition.user_tasks[e].name for e in check.active if e in definition.user_tasks]
    specs = definition.spec.task_specs
    return tuple(tasks or [getattr(specs.get(e), "bpmn_name", None) or e for e in check.active
                           if e not in definition.limit_watchers])


def run_plan(ctx: Context, actor: User, plan_id: int, numbers: list[str]) -> list[MigrationOutcome]:
    """Migrate the cases named (at most MAX_CASES), each in its own transaction; a refusal or failure of one is
    reported and leaves the others alone. Every case the plan covers, however many: services/migration_runs.py."""
    rules.require_may_request(actor)
    with ctx.uow(write=False) as uow:
        rules.require_may_run(actor, plan_of(uow, actor, plan_id))
    if not isinstance(numbers, list) or not all(isinstance(n, str) for n in numbers) or len(numbers) > MAX_CASES:
        raise InvalidInput("请选择要迁移的办件", {"cases": f"办件编号的数组，最多 {MAX_CASES} 个；不填即全部"})
    return [outcome_of(lambda: migrate_case(ctx, actor, plan_id, number), number)
            for number in dict.fromkeys(numbers)]


def outcome_of(migrate: Callable[[], object], number: str) -> MigrationOutcome:
    """One case's migration, or why not: a refusal is the user's to read; a failure is rolled back, logged and
    listed, and the other cases go on."""
    try:
        migrate()
        return MigrationOutcome(number, True)
    except WorkflowsError as error:
        return MigrationOutcome(number, False, str(error))
    except Exception as error:
        log.exception("migration of %s failed", number)
        return MigrationOutcome(number, False, f"{number}：迁移失败（{type(error).__name__}），案件未作改动")


@retried
def migrate_case(ctx: Context, actor: User, plan_id: int, number: str) -> Progress:
    """Move one case as the approved plan says, or refuse it (Conflict) and change nothing."""
    with ctx.uow() as uow:
        progress = move_case(uow, ctx, actor, plan_id, number)
        uow.commit()
        return progress


def move_case(uow, ctx: Context, actor: User, plan_id: int, number: str) -> Progress:
    """migrate_case inside the caller's transaction, which commits it (with what else it keeps of the case)."""
    rules.require_may_request(actor)
    plan = plan_of(uow, actor, plan_id)
    rules.require_may_run(actor, plan)
    case = _locked_case(uow, plan, number)
    if refusal := plan.hall_refusal(case.hall_code, _hall_names(ctx, uow, plan.agency_code)):
        raise Conflict(f"{number}：{refusal}")
    command = CaseCommand(uow, ctx, case)
    run = command.resume()
    target = ctx.definition(uow, plan.target_version_id)
    migration = WorkflowMigration(run, target, plan.mapping)
    check = migration.check()
    if check.refusal:
        raise Conflict(f"{number}：{check.refusal}")
    migration.apply()
    run.advance()
    source = uow.processes.get(plan.source_version_id)
    case.process_version_id = plan.target_version_id
    command.definition = target
    _follow_tasks(uow, case, run, target)
    approver = uow.users.get(plan.approved_by)
    add_history(uow, case, ctx.now(), actor.username, "migrated",
                f"{actor.full_name}将案件从流程版本 {source.version} 迁移到版本 "
                f"{uow.processes.get(plan.target_version_id).version}（{approver.full_name if approver else plan.approved_by}"
                f"批准）：{plan.reason}", stage=case.stage,
                detail={"plan": plan.id, "from": plan.source_version_id, "to": plan.target_version_id,
                        "mapping": plan.mapping, "renamed": {k: list(v) for k, v in check.renamed.items()},
                        "approved_by": plan.approved_by, "reason": plan.reason})
    return command.record(run)


def _locked_case(uow, plan: MigrationPlan, number: str) -> Case:
    # as it is now that it is ours: another migration may have moved it meanwhile
    found = uow.cases.get_for_update_by_number(number, plan.agency_code) if isinstance(number, str) else None
    if found is None:
        raise NotFound(f"{number}：案件不存在")
    case = found.case
    if case.process_version_id != plan.source_version_id:
        raise Conflict(f"{number}：案件已不在源版本上（可能已被迁移）")
    if case.status == CLOSED:
        raise Conflict(f"{number}：案件已办结，无需迁移")
    return case


def _follow_tasks(uow, case: Case, run, target) -> None:
    """The open inbox rows take their task's name, stage and role in the target; a holder without the new role
    lets it go back to the hall's inbox of that role (re-routed). External tasks waiting for a worker name the
    version they now run on (a worker may filter by it)."""
    for external in uow.external_tasks.for_case(case.id):
        external.process_version_id = case.process_version_id
    ready = {task.id: task for task in run.ready_tasks()}
    for row in uow.tasks.open_for_case(case.id):
        task = ready.get(row.id)
        if task is None:
            continue
        definition = task.definition
        row.spec_id, row.name, row.stage = definition.spec_id, task.name, definition.stage
        if row.role != definition.role:
            row.role = definition.role
            holder = uow.users.get(row.assignee) if row.assignee else None
            if holder is not None and not holder.has_role(definition.role):
                row.assignee, row.claimed_at = None, None

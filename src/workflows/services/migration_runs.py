"""迁移 of every case a plan covers, as background work: a plan over tens of thousands of cases would keep a request
(and a web worker) busy for minutes, so the request only records the run (which plan, who, when, how many) and the
scheduler migrates its cases a batch at a time through the outbox (kind migrate_cases, services/outbox.py).

Each batch is an outbox entry, claimed by one worker: it migrates the batch's cases in the order of their ids, each
in its own transaction together with its outcome row (moved, or why not: a refusal or failure is rolled back and
its outcome written on its own), then marks the entry done and writes the next batch's entry, or ends the run, in
one transaction. A worker that dies mid-batch leaves its entry claimed until the lease ends; whoever claims it then
goes on past the last case with an outcome: a case is migrated with its outcome or not at all, so none is migrated
twice and none skipped. A plan runs once at a time (the unique index of the running runs); the plan's page, the API
and the CLI read a run's progress from its outcome rows.
"""
from __future__ import annotations

from dataclasses import dataclass

from workflows.domain import case_migration as rules
from workflows.domain import pages
from workflows.domain.case_migration import MigrationOutcome, MigrationRun
from workflows.domain.errors import Conflict, NotFound
from workflows.domain.events import MIGRATE_CASES, MigrationBatchDue, OutboxEntry
from workflows.domain.model import User

from . import outbox
from .case_migration import move_case, outcome_of, plan_of, require_viewer
from .context import Context
from .retries import retried

BATCH = 50  # cases an entry migrates: the scheduler's round (its timers too) waits for a batch at most
FAILURES = 100  # the cases not migrated a page of the progress lists, in the order the run did them
RUNNING = "该迁移计划正在后台执行，请等本次执行结束后再执行"


@dataclass(frozen=True)
class RunProgress:
    """How far a run has come: the cases migrated and not (a page of these with why), of the run's total."""

    run: MigrationRun
    migrated: int
    failed: int
    failures: list[MigrationOutcome]

    @property
    def left(self) -> int:
        """Cases not done yet (once the run ended: those that closed, or another migration moved, meanwhile)."""
        return max(self.run.total - self.migrated - self.failed, 0)


@retried
def start_run(ctx: Context, actor: User, plan_id: int) -> MigrationRun:
    """Record a run of the approved plan on every open case its approval covers, to be worked in the background;
    refused while another run of the plan goes on, or when it covers no case."""
    rules.require_may_request(actor)
    with ctx.uow() as uow:
        plan = plan_of(uow, actor, plan_id)
        rules.require_may_run(actor, plan)
        if uow.migration_plans.running_run(plan.id) is not None:
            raise Conflict(RUNNING)
        total, last_case_id = uow.migration_plans.open_span(plan.agency_code, plan.source_version_id,
                                                            plan.approved_hall)
        if total == 0:
            raise Conflict("源版本上没有本计划要迁移的在办案件")
        run = MigrationRun(plan_id=plan.id, started_by=actor.username, started_at=ctx.now(), total=total,
                           last_case_id=last_case_id, finished_at=None)
        if not uow.migration_plans.add_run(run):  # another request started one a moment before
            raise Conflict(RUNNING)
        uow.publish(MigrationBatchDue(run.id))
        uow.commit()
        return run


def migrate_batch(ctx: Context, entry: OutboxEntry) -> None:
    """The outbox's worker for MigrationBatchDue: the run's next batch of cases, past the last it did."""
    run_id = MigrationBatchDue.from_payload(entry.payload).run_id
    with ctx.uow(write=False) as uow:
        run = uow.migration_plans.get_run(run_id)
        plan = uow.migration_plans.get(run.plan_id)
        actor = uow.users.get(run.started_by)
        batch = [] if not run.running else uow.migration_plans.open_numbers_after(
            plan.agency_code, plan.source_version_id, plan.approved_hall,
            uow.migration_plans.last_case_done(run.id), BATCH, run.last_case_id)
    for case_id, number in batch:
        outcome = outcome_of(lambda: _migrate_with_outcome(ctx, actor, run, case_id, number), number)
        if not outcome.migrated:
            _keep_outcome(ctx, run.id, case_id, outcome)
    _next_batch(ctx, entry, run.id, more=len(batch) == BATCH)


@retried
def _migrate_with_outcome(ctx: Context, actor: User, run: MigrationRun, case_id: int, number: str) -> None:
    with ctx.uow() as uow:
        move_case(uow, ctx, actor, run.plan_id, number)
        uow.migration_plans.add_outcome(run.id, case_id, MigrationOutcome(number, True), ctx.now())
        uow.commit()


@retried
def _keep_outcome(ctx: Context, run_id: int, case_id: int, outcome: MigrationOutcome) -> None:
    with ctx.uow() as uow:
        uow.migration_plans.add_outcome(run_id, case_id, outcome, ctx.now())
        uow.commit()


@retried
def _next_batch(ctx: Context, entry: OutboxEntry, run_id: int, more: bool) -> None:
    """The entry done, and the next batch's written (`more`) or the run ended, together."""
    with ctx.uow() as uow:
        uow.outbox.finish(entry.id, ctx.now())
        run = uow.migration_plans.get_run(run_id)
        if more:
            uow.publish(MigrationBatchDue(run_id))
        elif run.running:
            run.finished_at = ctx.now()
        uow.commit()


def work_next_batch(ctx: Context) -> bool:
    """Migrate the next due batch of any run here, as the scheduler would (the CLI waiting for its run); False
    when none is due (done, or another worker holds it)."""
    return outbox.work_next(ctx, MIGRATE_CASES)


def run_progress(ctx: Context, actor: User, plan_id: int, run_id: int | None = None, limit: int = FAILURES,
                 offset: int = 0) -> RunProgress | None:
    """A run of the plan (its latest when none is named: None if it never ran on all its cases) with a page of
    the cases it did not migrate and why."""
    require_viewer(actor)
    with ctx.uow(write=False) as uow:
        plan = plan_of(uow, actor, plan_id)
        runs = uow.migration_plans
        run = runs.latest_run(plan.id) if run_id is None else runs.get_run(run_id)
        if run is None or run.plan_id != plan.id:
            if run_id is None:
                return None
            raise NotFound("迁移执行记录不存在")
        migrated, failed = runs.outcome_counts(run.id)
        # a 科室负责人 sees the failed cases of the hall they answer for, as in the plan's list of cases
        hall = None if rules.may_request(actor) else actor.hall_code
        return RunProgress(run, migrated, failed, runs.run_outcomes(run.id, False, min(limit, pages.MAX_PAGE), offset,
                                                                    hall))

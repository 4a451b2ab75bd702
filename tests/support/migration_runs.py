"""Running a migration plan on all its cases as the scheduler does: the run started, its batches worked from the
outbox, and every case's outcome read back."""
from __future__ import annotations

from workflows.services import migration_runs, outbox


def run_on_all(ctx, actor, plan_id: int) -> dict:
    """Start the plan's run, work the outbox (the scheduler's round) until it ends; each case's outcome by number."""
    run = migration_runs.start_run(ctx, actor, plan_id)
    while outbox.work_due(ctx):
        pass
    assert not migration_runs.run_progress(ctx, actor, plan_id, run.id).run.running
    return outcomes(ctx, run.id)


def outcomes(ctx, run_id: int) -> dict:
    with ctx.uow(write=False) as uow:
        return {o.number: o for o in uow.migration_plans.run_outcomes(run_id)}

"""The scheduler process: APScheduler polls the indexed timers table every second and fires what is due, and once
a minute deems accepted the cases the law says are (行政许可法 §32, services/notices.py).

Several may run against one PostgreSQL database; each timer still fires once (services/scheduler.py). A scheduler
started after downtime fires, in its first round, every timer that came due meanwhile. Each round also delivers
the messages between agencies (转移接续) left pending when their thrower's process did not deliver them, and works
the outbox: the 文书 PDFs not yet rendered, the recomputing of open cases after a calendar change, the batches of a
migration plan run on all its cases (services/migration_runs.py), the retries. On SQLite it ends with a checkpoint
of the WAL, which the web workers' commits then need not do (adapters/database.py, checkpoint).
"""
from __future__ import annotations

import logging

from apscheduler.schedulers.blocking import BlockingScheduler

from workflows.adapters.database import checkpoint

from workflows.services import outbox
from workflows.services.agency_messages import deliver_pending
from workflows.services.context import CHINA, Context
from workflows.services.notices import deem_undecided_acceptances
from workflows.services.scheduler import count_overdue, fire_due_timers

log = logging.getLogger(__name__)
SWEEP_INTERVAL = 60.0  # seconds between two looks for cases to deem accepted (行政许可法 §32): days matter, not seconds


def _round(ctx: Context) -> None:
    fired = fire_due_timers(ctx)
    if fired:
        log.info("fired the due timers of %d case(s)", fired)
    overdue = count_overdue(ctx)
    if overdue:
        log.info("counted %d limit(s) overdue", overdue)
    delivered = deliver_pending(ctx)
    if delivered:
        log.info("delivered %d message(s) between agencies left pending", delivered)
    worked = outbox.work_due(ctx)
    if worked:
        log.info("worked %d outbox entries", worked)
    checkpoint(ctx.session_factory.kw["bind"])  # SQLite: the WAL's pages into the database file, not in a request


def _sweep(ctx: Context) -> None:
    deemed = deem_undecided_acceptances(ctx)
    if deemed:
        log.info("deemed %d case(s) accepted on the day of receipt (行政许可法 §32)", deemed)


def run_scheduler(ctx: Context, interval: float = 1.0) -> None:
    scheduler = BlockingScheduler(timezone=CHINA)
    # One round at a time (max_instances=1); rounds missed while one ran long are merged (coalesce).
    scheduler.add_job(_round, "interval", args=[ctx], seconds=interval, max_instances=1, coalesce=True,
                      next_run_time=ctx.now())
    scheduler.add_job(_sweep, "interval", args=[ctx], seconds=SWEEP_INTERVAL, max_instances=1, coalesce=True,
                      next_run_time=ctx.now())
    log.info("scheduler polling every %.1f s", interval)
    scheduler.start()

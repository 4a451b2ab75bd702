"""The scheduler process: APScheduler polls the indexed timers table every second and fires what is due.

Several may run against one PostgreSQL database; each timer still fires once (services/scheduler.py). A scheduler
started after downtime fires, in its first round, every timer that came due meanwhile.
"""
from __future__ import annotations

import logging

from apscheduler.schedulers.blocking import BlockingScheduler

from workflows.services.context import CHINA, Context
from workflows.services.scheduler import fire_due_timers

log = logging.getLogger(__name__)


def _round(ctx: Context) -> None:
    fired = fire_due_timers(ctx)
    if fired:
        log.info("fired the due timers of %d case(s)", fired)


def run_scheduler(ctx: Context, interval: float = 1.0) -> None:
    scheduler = BlockingScheduler(timezone=CHINA)
    # One round at a time (max_instances=1); rounds missed while one ran long are merged (coalesce).
    scheduler.add_job(_round, "interval", args=[ctx], seconds=interval, max_instances=1, coalesce=True,
                      next_run_time=ctx.now())
    log.info("scheduler polling every %.1f s", interval)
    scheduler.start()

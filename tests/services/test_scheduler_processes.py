"""Two scheduler processes against one PostgreSQL database, on the real clock: every timer fires exactly once, and
every overdue limit is counted once."""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone

import pytest
from sqlalchemy import text

from workflows.services import cases

from support.cases import accept


def due_timers(ctx) -> int:
    with ctx.uow(write=False) as uow:
        return uow.session.scalar(text("SELECT count(*) FROM case_timers WHERE due_at <= :now"),
                                  {"now": datetime.now(timezone.utc)})


def overdue_kept_and_marked(ctx) -> tuple[int, int, int]:
    """(open cases in overdue_counts, limits marked overdue, running limits past due)."""
    with ctx.uow(write=False) as uow:
        return tuple(uow.session.execute(text(
            "SELECT (SELECT coalesce(sum(overdue), 0) FROM overdue_counts), "
            "(SELECT count(*) FROM case_deadlines WHERE overdue), "
            "(SELECT count(*) FROM case_deadlines WHERE met_at IS NULL AND NOT paused AND due_at < now())")).one())


def _read(outputs) -> list[str]:
    texts = []
    for output in outputs:
        output.seek(0)
        texts.append(output.read())
    return texts


@pytest.mark.long  # seconds of wall: started first (tests/conftest.py)
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_schedulers_fire_each_timer_once(ctx, staff, clock, database_url):
    # Accepted in October 2026: the 20-working-day limits ran out in November, before the schedulers start.
    numbers = [accept(ctx, staff, clock, f"2026-10-{day:02d} 10:00") for day in (8, 9, 12, 13, 14, 15, 16, 19)]
    assert due_timers(ctx) == 2 * len(numbers)  # each case's 审核 task: its warning and its overdue timer

    environment = {**os.environ, "WORKFLOWS_DATABASE_URL": database_url}
    command = [sys.executable, "-m", "workflows.entrypoints.cli", "scheduler", "--interval", "0.2"]
    outputs = [tempfile.TemporaryFile("w+") for _ in range(2)]
    schedulers = [subprocess.Popen(command, env=environment, stdout=output, stderr=subprocess.STDOUT, text=True)
                  for output in outputs]
    try:
        give_up = time.monotonic() + 60
        # Until the work is done and both are up: the first one up may fire every timer before the other has
        # loaded, which then must still find nothing left to fire twice.
        while ((due_timers(ctx) or overdue_kept_and_marked(ctx)[0] < len(numbers)
                or not all("scheduler polling" in log for log in _read(outputs)))
               and time.monotonic() < give_up):
            time.sleep(0.3)
        time.sleep(0.5)  # each polls twice more (every 0.2 s) once both are up: a timer fired again would count
    finally:
        for scheduler in schedulers:
            scheduler.terminate()
            scheduler.wait(timeout=10)
        logs = _read(outputs)
        for output in outputs:
            output.close()

    assert due_timers(ctx) == 0, logs
    kept, marked, past_due = overdue_kept_and_marked(ctx)
    assert (kept, marked) == (len(numbers), past_due) and past_due >= len(numbers), logs  # each case once
    assert all("scheduler polling" in log for log in logs), logs
    for number in numbers:
        details = cases.case_details(ctx, staff["shouli"], number)
        messages = [entry.message for entry in details.history]
        assert messages.count("系统完成“发出黄牌预警”") == 1, messages
        assert messages.count("系统完成“发出红牌超期”") == 1, messages
        # Both limits are past: whichever timer a scheduler fires first, the case has its one 红牌, and a 黄牌
        # only if it came first (then replaced by the 红牌); never two of either.
        levels = sorted((e.level, e.status) for e in details.escalations)
        assert levels in ([("red", "open")], [("red", "open"), ("yellow", "replaced")]), levels

"""A real scheduler process meets cases whose diagram code would never end: each of them fails within the limit,
with its reason; every other case's timers fire; the application's writes go on meanwhile (SQLite and PostgreSQL)."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import datetime, timezone

import pytest

from workflows.domain.model import FAILED
from workflows.services import cases, processes, tasks

from support.cases import APPLICANT, DATA, OUTPATIENT, accept
from support.hostile import DIAGRAM, QUERY, hostile
from tests.services.test_scheduler_processes import due_timers

pytestmark = [pytest.mark.both_databases,  # the database matters here: SQLite and PostgreSQL
              pytest.mark.long]  # seconds of wall (scheduler processes): started first (tests/conftest.py)

NESTED_LOOPS = "n = 0\nfor a in range(10000):\n    for b in range(10000):\n        for c in range(10000):\n            n += 1"


def test_the_scheduler_sets_a_runaway_case_aside_and_fires_the_rest(ctx, staff, clock, database_url):
    processes.deploy_process(ctx, staff["sheji"], hostile(NESTED_LOOPS).encode("utf-8"), DIAGRAM.name)
    runaway = []
    for _ in range(2):  # 受理 now; the script waits behind a one-minute timer, long due on the real clock
        progress = cases.open_case(ctx, staff["shouli"], QUERY, APPLICANT, {})
        runaway.append(tasks.complete_task(ctx, staff["shouli"], progress.open_tasks[0].id,
                                           {"decision": "accept"}).case.number)
    others = [accept(ctx, staff, clock, f"2026-10-{day:02d} 10:00") for day in (8, 9, 12, 13)]
    clock.now = datetime.now(timezone.utc)  # the clerk below works now: the cases opened add no due timer

    environment = {**os.environ, "WORKFLOWS_DATABASE_URL": database_url}
    command = [sys.executable, "-m", "workflows.entrypoints.cli", "scheduler", "--interval", "0.2"]
    scheduler = subprocess.Popen(command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                 text=True)
    writes = []
    try:
        give_up = time.monotonic() + 90
        while due_timers(ctx) and time.monotonic() < give_up:
            started = time.monotonic()  # a clerk registers an application meanwhile
            cases.open_case(ctx, staff["shouli"], OUTPATIENT, APPLICANT, DATA)
            writes.append(time.monotonic() - started)
            time.sleep(0.1)
    finally:
        scheduler.terminate()
        log = scheduler.communicate(timeout=10)[0]

    assert due_timers(ctx) == 0, log
    assert writes and max(writes) < 15, writes  # waited for a lock at most about as long as the limit, never failed
    for number in runaway:
        details = cases.case_details(ctx, staff["shouli"], number)
        assert details.case.status == FAILED
        assert "运行时间上限 1 秒" in details.history[-1].message, log
    for number in others:
        messages = [entry.message for entry in cases.case_details(ctx, staff["shouli"], number).history]
        assert messages.count("系统完成“发出红牌超期”") == 1, messages

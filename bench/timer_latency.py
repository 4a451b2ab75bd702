"""How soon after its due moment a BPMN timer fires, with the scheduler process running (real clock).

A copy of 参保人员参保信息查询 (item 002036002002) is deployed whose 受理 task warns after a few seconds
(timeDuration) instead of at its limit's warning moment; N cases are opened a moment apart, `workflows scheduler`
runs, and each warning's delay (escalation raised − timer due) is printed.

Usage: python bench/timer_latency.py [--cases N] [--after SECONDS] [--database-url URL] [--schedulers K]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import sessionmaker

from workflows.adapters.database import make_engine
from workflows.adapters.orm import start_mappers
from workflows.services import cases, processes, users
from workflows.bootstrap import bootstrap
from workflows.services.context import Context

from case_throughput import APPLICANT, CLERK, prepared_database

ROOT = Path(__file__).resolve().parent.parent
QUERY_ITEM = "002036002002"
WARNING_TIMER = '<bpmn:timeDate xsi:type="bpmn:tFormalExpression">warning_time("promised")</bpmn:timeDate>'


def deploy_quick_timer(ctx: Context, seconds: int) -> None:
    xml = (ROOT / "bpmn" / f"item_{QUERY_ITEM}.bpmn").read_text()
    quick = f'<bpmn:timeDuration xsi:type="bpmn:tFormalExpression">"PT{seconds}S"</bpmn:timeDuration>'
    assert WARNING_TIMER in xml
    users.save_user(ctx, "bench_designer", "压测设计", "bench-password", "210400", "210400-01", ["designer"])
    processes.deploy_process(ctx, users.get_user(ctx, "bench_designer"),
                             xml.replace(WARNING_TIMER, quick, 1).encode("utf-8"), "quick-timer.bpmn")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=20)
    parser.add_argument("--after", type=int, default=3, help="seconds from opening to the timer")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--schedulers", type=int, default=1)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        url = prepared_database(options.database_url, Path(scratch), "timers")
        start_mappers()
        database = make_engine(url)
        ctx = bootstrap(sessionmaker(database, expire_on_commit=False))
        deploy_quick_timer(ctx, options.after)
        clerk = users.get_user(ctx, CLERK)
        environment = {**os.environ, "WORKFLOWS_DATABASE_URL": url}
        schedulers = [subprocess.Popen([sys.executable, "-m", "workflows.entrypoints.cli", "scheduler"],
                                       env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                      for _ in range(options.schedulers)]
        try:
            for _ in range(options.cases):
                cases.open_case(ctx, clerk, QUERY_ITEM, APPLICANT, {})
                time.sleep(0.1)
            give_up = time.monotonic() + options.after + 30
            while time.monotonic() < give_up:
                with database.connect() as connection:
                    if connection.execute(text("SELECT count(*) FROM escalations")).scalar() >= options.cases:
                        break
                time.sleep(0.2)
        finally:
            for scheduler in schedulers:
                scheduler.terminate()
                scheduler.wait()
        with database.connect() as connection:
            rows = connection.execute(text("SELECT c.opened_at, e.raised_at FROM escalations e "
                                           "JOIN cases c ON c.id = e.case_id")).all()
        delays = [(_moment(raised) - _moment(opened)).total_seconds() - options.after for opened, raised in rows]
        print(f"{len(delays)} of {options.cases} timers fired ({options.schedulers} scheduler(s), polling 1 s)")
        if delays:
            print(f"delay after due: mean {statistics.mean(delays):.2f} s, max {max(delays):.2f} s, "
                  f"min {min(delays):.2f} s")


def _moment(value) -> datetime:
    """A stored moment: SQLite hands back text without a zone (UTC), PostgreSQL an aware datetime."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


if __name__ == "__main__":
    main()

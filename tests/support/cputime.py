"""`-p support.cputime`: each test's CPU and wall seconds per phase (setup, call, teardown), one JSON line per phase
in the file named by WORKFLOWS_TEST_TIMES (every xdist worker appends to it). The suite's budget is kept in CPU
seconds, since wall time on a shared machine is noise; `python tests/support/cputime.py FILE` sums them per file.

CPU is the worker process's own (time.process_time) plus what its children used that it reaped during the phase
(CLI runs, servers a test started and stopped); the database server's and Chromium's CPU are not in it."""
from __future__ import annotations

import json
import os
import resource
import sys
import time
from collections import defaultdict

import pytest


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item):
    yield from _timed(item, "setup")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    yield from _timed(item, "call")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item):
    yield from _timed(item, "teardown")


def _timed(item, phase: str):
    cpu, children, wall = time.process_time(), _children_cpu(), time.perf_counter()
    yield
    record = {"test": item.nodeid, "phase": phase, "cpu": time.process_time() - cpu,
              "children": _children_cpu() - children, "wall": time.perf_counter() - wall,
              "worker": os.environ.get("PYTEST_XDIST_WORKER", "main")}
    with open(os.environ.get("WORKFLOWS_TEST_TIMES", "test-times.jsonl"), "a") as log:
        log.write(json.dumps(record) + "\n")


def per_file(path: str, top: int = 40) -> None:
    """The files by CPU seconds (own + children), with set-up's share and wall seconds."""
    totals = defaultdict(lambda: defaultdict(float))
    with open(path) as log:
        for line in log:
            record = json.loads(line)
            row = totals[record["test"].split("::")[0]]
            row["cpu"] += record["cpu"] + record["children"]
            row["wall"] += record["wall"]
            row[record["phase"]] += record["cpu"] + record["children"]
            row["tests"] += record["phase"] == "call"
    rows = sorted(totals.items(), key=lambda pair: -pair[1]["cpu"])
    print(f"{'file':60} {'tests':>5} {'cpu':>7} {'setup':>6} {'wall':>7}")
    for name, row in rows[:top]:
        print(f"{name:60} {row['tests']:5.0f} {row['cpu']:7.1f} {row['setup']:6.1f} {row['wall']:7.1f}")
    print(f"{'all':60} {sum(r['tests'] for _, r in rows):5.0f} {sum(r['cpu'] for _, r in rows):7.1f} "
          f"{sum(r['setup'] for _, r in rows):6.1f} {sum(r['wall'] for _, r in rows):7.1f}")


if __name__ == "__main__":
    per_file(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 40)

"""What a designer's tests cost (services/process_tests.py): every diagram in bpmn/ run against the test file beside
it, as `make test` and a publish run them. Prints the CPU time (process_time, not wall clock: the machine is shared)
per diagram and per test, the tests and steps run, and the coverage of sequence flows and gateway branches over all
diagrams. The runs touch no database: a publish adds only the one query that reads the saved tests.

Usage: python bench/process_tests.py [--rounds N]
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from workflows.adapters.catalog_files import load_catalog
from workflows.adapters.engine import Engine
from workflows.services.process_tests import run_test_file

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    rounds = parser.parse_args().rounds
    engine, catalog = Engine(), load_catalog(ROOT / "catalog")
    files = sorted((ROOT / "bpmn").glob("*.bpmn"))
    for bpmn in files:  # parse once (a publish parses the draft anyway), then measure the runs alone
        run_test_file(engine, catalog, bpmn)
    started = time.process_time()
    for _ in range(rounds):
        reports = [run_test_file(engine, catalog, bpmn)[1] for bpmn in files]
    cpu = (time.process_time() - started) / rounds
    tests = sum(len(report.outcomes) for report in reports)
    steps = sum(len(outcome.trace) for report in reports for outcome in report.outcomes)
    taken = sum(len(report.coverage.taken) for report in reports)
    flows = taken + sum(len(report.coverage.missed) for report in reports)
    branches = sum(len(report.coverage.missed_branches) for report in reports)
    failed = [report.failure.summary() for report in reports if report.failure]
    print(f"{len(files)} diagrams, {tests} tests, {steps} steps traced; failures: {len(failed)}")
    print(f"CPU per round {cpu * 1000:.0f} ms: {cpu * 1000 / len(files):.1f} ms per diagram, "
          f"{cpu * 1000 / tests:.1f} ms per test")
    print(f"sequence flows taken {taken}/{flows} ({taken / flows:.0%}); gateway branches no test takes: {branches}")


if __name__ == "__main__":
    main()

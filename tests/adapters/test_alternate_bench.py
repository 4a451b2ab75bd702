"""bench/alternate.py: each tree's bench runs with that tree's code, the rounds alternate the order, and the figures
of both come side by side with their medians."""
from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ALTERNATE = Path(__file__).resolve().parents[2] / "bench" / "alternate.py"

# Lines as bench/case_throughput.py prints them
OUTPUT = """load at the start: 2.0 4.3 2.4 on 2 cores
service layer CPU per case:         36.43 ms (process_time, not profiled; --kick thread: the PDFs' thread counts too)
service layer, persisted (PDFs: thread):     28.0 cases/s (first tenth 27.0/s, last tenth 32.3/s)
SQL statements per command:      open 11.0, 受理 14.0, 审核 9.4, 拨付 12.6; per case 47.0
CPU under SQLite's write lock:   open 1.1/5.8, 受理 1.8/9.9 ms; 20% of the commands' CPU
HTTP API (2 workers, 4 clients):     39.6 cases/s; workers' CPU 39.80 ms per case (shares 52%, 48%); scheduler's CPU 2.50 ms per case (outbox done 0.1 s after the last response)
HTTP 2 workers / 1: 1.67×
"""


@pytest.fixture(scope="module")
def alternate():
    spec = importlib.util.spec_from_file_location("alternate_bench", ALTERNATE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_figures_of_a_run_are_read_by_name(alternate):
    assert alternate.figures(OUTPUT) == {
        "service layer CPU per case ms": 36.43,
        "service layer, persisted (PDFs: thread) cases/s": 28.0,
        "HTTP API (2 workers, 4 clients) cases/s": 39.6,
        "HTTP API (2 workers, 4 clients) workers' CPU ms": 39.8,
        "HTTP API (2 workers, 4 clients) scheduler's CPU ms": 2.5,
        "HTTP 2 workers / 1 ×": 1.67,
    }


def test_each_round_runs_the_trees_in_the_reverse_order_of_the_last(alternate):
    assert alternate.orders(3) == [("other", "this"), ("this", "other"), ("other", "this")]


def _tree(root: Path, value: int, exit_code: int = 0) -> Path:
    """A tree whose bench prints `value` cases/s, read from its own src/ (so only with that tree's code first on
    the path), and the arguments it was given."""
    (root / "src").mkdir(parents=True)
    (root / "bench").mkdir()
    (root / "src" / "tree_marker.py").write_text(f"VALUE = {value}\n")
    (root / "bench" / "case_throughput.py").write_text(
        "import sys\nimport tree_marker\n"
        "print('args:', ' '.join(sys.argv[1:]))\n"
        "print(f'HTTP API (1 workers, 4 clients):  {tree_marker.VALUE} cases/s; workers\\' CPU 40.0 ms per case')\n"
        f"sys.exit({exit_code})\n")
    return root


def test_each_tree_runs_its_own_code_alternately_and_the_medians_are_compared(tmp_path):
    this, other = _tree(tmp_path / "this", 10), _tree(tmp_path / "other", 20)
    shutil.copy(ALTERNATE, this / "bench" / "alternate.py")
    done = subprocess.run([sys.executable, str(this / "bench" / "alternate.py"), str(other), "--rounds", "2", "--",
                           "--http-only", "--cases", "5"], capture_output=True, text=True, check=True)
    rounds = [line for line in done.stdout.splitlines() if line.startswith("=== round")]
    assert [line.split(" tree")[0] for line in rounds] == ["=== round 1, other", "=== round 1, this",
                                                           "=== round 2, this", "=== round 2, other"]
    assert done.stdout.count("args: --http-only --cases 5") == 4
    table = done.stdout.split(" rounds, other tree ")[1]
    assert "HTTP API (1 workers, 4 clients) cases/s\n    other 20 20 (20)   this 10 10 (10)   change -50.0 %" in table
    assert "workers' CPU ms\n    other 40 40 (40)   this 40 40 (40)   change +0.0 %" in table


def test_a_run_that_fails_stops_the_comparison_with_what_it_printed(tmp_path):
    this, other = _tree(tmp_path / "this", 10), _tree(tmp_path / "other", 20, exit_code=3)
    shutil.copy(ALTERNATE, this / "bench" / "alternate.py")
    done = subprocess.run([sys.executable, str(this / "bench" / "alternate.py"), str(other)],
                          capture_output=True, text=True)
    assert done.returncode == 1
    assert "case_throughput.py failed (exit 3)" in done.stderr and "20 cases/s" in done.stderr
    assert "=== round 1, this" not in done.stdout  # nothing ran after it

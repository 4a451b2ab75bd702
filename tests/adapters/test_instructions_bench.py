"""bench/instructions.py: the runs it counts are whole cases of the flow, each way, of the code of the tree it is in
seen at one fixed path, and it reads callgrind's total."""
from __future__ import annotations

import fcntl
import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.fixture
def bench(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH))  # it imports case_throughput as the script's neighbour
    spec = importlib.util.spec_from_file_location("instructions_bench", BENCH / "instructions.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop("case_throughput", None)


@pytest.mark.parametrize("way", ["http", "services"])
def test_each_way_runs_cases_to_their_end(bench, way, tmp_path):
    bench.run_cases(way, 2, tmp_path)  # a case that does not end 办结 raises
    assert (tmp_path / f"{way}.db").exists()


def test_the_total_is_read_from_callgrinds_summary_or_totals_line(bench):
    assert bench.total_of("events: Ir\nsummary: 12345678\n") == 12345678
    assert bench.total_of("events: Ir\ntotals: 42\n") == 42
    with pytest.raises(ValueError):
        bench.total_of("events: Ir\n")


def test_the_tree_is_seen_at_the_fixed_path_held_by_one_run_at_a_time(bench, tmp_path):
    tree = Path(__file__).resolve().parents[2]
    with bench.fixed_paths(tree, tmp_path) as (link, scratch):
        assert link == tmp_path / "tree" and (link / "bench" / "instructions.py").samefile(BENCH / "instructions.py")
        assert scratch.parent == tmp_path and not scratch.exists()  # each run empties (makes) it
        scratch.mkdir()
        with open(tmp_path / "lock") as lock, pytest.raises(BlockingIOError):
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # another run of the bench waits
    assert not link.exists() and not scratch.exists()
    with open(tmp_path / "lock") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # free again

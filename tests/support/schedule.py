"""The suite's order under xdist: the tests marked `long` first in each worker's share (tests/conftest.py
registers the hook)."""
from __future__ import annotations

import itertools
import os

import pytest


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """The tests marked `long` first in each xdist worker's share. worksteal hands each worker a contiguous slice of
    the collection, as `_shares` computes, and later moves tests from the end of the longest queue to an idle worker:
    a long test left at the end of a slice ran alone at the end of the run (the browser tests, adjacent in the
    collection, all went to one worker, 230 s of wall on a loaded machine), while first in every slice it overlaps
    the short ones, which the stealing then evens out."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    long = [item for item in items if item.get_closest_marker("long")]
    if workers < 2 or not long:
        return
    rest = iter([item for item in items if not item.get_closest_marker("long")])
    ordered = []
    for worker, share in enumerate(_shares(len(items), workers)):
        first = long[worker::workers]
        ordered += first + list(itertools.islice(rest, max(0, share - len(first))))  # (more long tests than a share)
    items[:] = ordered + list(rest)


def _shares(count: int, workers: int) -> list[int]:
    """How many tests of `count` xdist's worksteal scheduler sends each of `workers` at the start."""
    shares = []
    for remaining in range(workers, 0, -1):
        shares.append((count - sum(shares)) // remaining)
    return shares

"""The suite's own order under xdist (tests/support/schedule.py): every worker's first share starts with its part of the
tests marked long, and no test is lost or run twice."""
from __future__ import annotations

import itertools

from support.schedule import _shares, pytest_collection_modifyitems


class Item:
    def __init__(self, name: str, long: bool):
        self.name, self.long = name, long

    def get_closest_marker(self, name: str):
        return self.long if name == "long" else None


def test_each_worker_starts_with_its_part_of_the_long_tests(monkeypatch):
    monkeypatch.setenv("PYTEST_XDIST_WORKER_COUNT", "3")
    items = [Item(f"t{number}", number >= 94) for number in range(100)]  # the long ones last, as collected
    pytest_collection_modifyitems(items)

    starts = list(itertools.accumulate([0] + _shares(100, 3)[:-1]))
    assert _shares(100, 3) == [33, 33, 34]
    assert [[item.name for item in items[start:start + 2]] for start in starts] == [
        ["t94", "t97"], ["t95", "t98"], ["t96", "t99"]]
    assert sorted(item.name for item in items) == sorted(f"t{number}" for number in range(100))


def test_without_xdist_the_collection_keeps_its_order(monkeypatch):
    monkeypatch.delenv("PYTEST_XDIST_WORKER_COUNT", raising=False)
    items = [Item(f"t{number}", number % 2 == 0) for number in range(10)]
    pytest_collection_modifyitems(items)
    assert [item.name for item in items] == [f"t{number}" for number in range(10)]

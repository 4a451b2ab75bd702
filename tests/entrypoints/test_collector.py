"""The processes that run commands set the garbage collector once their code is loaded (entrypoints/collector.py):
young objects collected every 10,000, and what was loaded frozen, so that a full collection no longer walks it."""
from __future__ import annotations

import gc

import pytest

from workflows.entrypoints import logs, scheduler
from workflows.entrypoints.gunicorn_config import post_worker_init

from test_cli import run


@pytest.fixture
def collector():
    """The test process's collector, as it was, after the test."""
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


def test_a_served_worker_freezes_what_it_loaded_and_collects_the_young_every_10000(collector):
    tracked = len(gc.get_objects())
    post_worker_init(None)
    assert gc.get_threshold() == (10_000, 10, 10)
    assert gc.get_freeze_count() >= tracked // 2  # the modules, the app: what a full collection walked
    assert len(gc.get_objects()) < tracked // 2


def test_the_scheduler_process_sets_the_collector_before_its_first_round(collector, database_url, monkeypatch):
    seen = []
    monkeypatch.setattr(logs, "configure", lambda: None)  # the test process's logging stays as pytest set it
    monkeypatch.setattr(scheduler, "run_scheduler",
                        lambda ctx, interval: seen.append((gc.get_threshold(), gc.get_freeze_count())))
    run(database_url, "scheduler", "--interval", "0.5")
    [(threshold, frozen)] = seen
    assert threshold == (10_000, 10, 10) and frozen > 10_000

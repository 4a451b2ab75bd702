"""SQLite's writers: one waiting for the write lock starts the moment it is freed, not at SQLite's next try
(write_lock.Turn); a writer that fails gives its turn back; a commit leaves copying the WAL into the database file
to the scheduler's checkpoint, which lets the next writer start the WAL again (database.checkpoint)."""
from __future__ import annotations

import fcntl
import threading
import time

import pytest
from sqlalchemy import text

from workflows.adapters import write_lock
from workflows.adapters.database import checkpoint, make_engine
from workflows.entrypoints import scheduler

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
HELD = 0.24  # seconds the first writer holds the lock: SQLite's busy handler would try next at 0.328 s (1, 2, 5 … ms)


@pytest.fixture
def engine(database_url):
    made = make_engine(database_url)
    yield made
    made.dispose()


def _writer(engine):
    """A connection whose transaction takes the write lock at its BEGIN (a command run again, lock_at_begin)."""
    return engine.connect().execution_options(sqlite_begin="BEGIN IMMEDIATE")


def test_a_writer_waiting_for_the_lock_starts_as_soon_as_the_writer_before_it_commits(engine):
    started, begun, committed = threading.Event(), [], []

    def second() -> None:
        with _writer(engine) as connection:
            started.set()
            connection.begin()  # waits for the first writer's commit
            begun.append(time.perf_counter())
            connection.commit()

    with _writer(engine) as first:
        first.begin()
        waiting = threading.Thread(target=second)
        waiting.start()
        started.wait(5)
        time.sleep(HELD)
        first.exec_driver_sql("UPDATE users SET full_name = full_name WHERE username = 'shouli'")
        first.commit()
        committed.append(time.perf_counter())
    waiting.join(10)

    assert begun and begun[0] - committed[0] < 0.04  # SQLite's own next try would have come ~0.09 s after


def test_the_writers_of_one_process_wait_in_its_queue_without_trying_the_flock(engine, monkeypatch):
    """Two threads wait while a third holds the turn: they take it one after the other as soon as it is given back,
    having tried the other processes' flock once each, not every half millisecond all the while (each try took the
    GIL from the thread at work)."""
    tries, flock = [], fcntl.flock
    monkeypatch.setattr(fcntl, "flock", lambda file, operation: (tries.append(operation), flock(file, operation))[1])
    started, begun, committed = threading.Semaphore(0), [], []

    def waiting() -> None:
        with _writer(engine) as connection:
            started.release()
            connection.begin()
            begun.append(time.perf_counter())
            connection.exec_driver_sql("UPDATE users SET full_name = full_name WHERE username = 'shouli'")
            connection.commit()

    with _writer(engine) as first:
        first.begin()
        threads = [threading.Thread(target=waiting) for _ in range(2)]
        for thread in threads:
            thread.start()
        assert started.acquire(timeout=5) and started.acquire(timeout=5)
        time.sleep(HELD)
        first.commit()
        committed.append(time.perf_counter())
    for thread in threads:
        thread.join(10)

    assert len(begun) == 2 and begun[0] - committed[0] < 0.04
    assert len([operation for operation in tries if operation & fcntl.LOCK_NB]) <= 3  # the first's, one each


def test_a_unit_that_fails_after_taking_the_lock_gives_its_turn_back(engine, database_url):
    with pytest.raises(RuntimeError):
        with _writer(engine) as connection:
            connection.begin()
            connection.exec_driver_sql("UPDATE users SET full_name = '张三' WHERE username = 'shouli'")
            raise RuntimeError("the command failed")

    with open(f"{engine.url.database}-writers", "ab") as turns:  # nobody holds a turn: taken at once
        fcntl.flock(turns, fcntl.LOCK_EX | fcntl.LOCK_NB)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT full_name FROM users WHERE username = 'shouli'").scalar() != "张三"


def test_a_turn_never_given_back_does_not_hang_the_writers_after_it(engine, monkeypatch):
    """A holder stuck with its turn (its transaction never ends): the next writer waits TURN_PATIENCE for it, then
    on SQLite's lock alone, and writes once the database is free."""
    monkeypatch.setattr(write_lock, "TURN_PATIENCE", 0.2)
    with open(f"{engine.url.database}-writers", "ab") as stuck:
        fcntl.flock(stuck, fcntl.LOCK_EX)  # held by no connection of the engine, and never given back
        began = time.perf_counter()
        with _writer(engine) as connection:
            connection.begin()
            connection.exec_driver_sql("UPDATE users SET full_name = '李四' WHERE username = 'shouli'")
            connection.commit()
        assert 0.2 <= time.perf_counter() - began < 5
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT full_name FROM users WHERE username = 'shouli'").scalar() == "李四"


def _wal_pages(engine) -> int:
    """The pages the WAL holds now (a passive checkpoint's answer: busy, pages in the WAL, pages copied)."""
    with engine.connect() as connection:
        return connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").one()[1]


def _write_pages(engine, count: int) -> None:
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE IF NOT EXISTS filler (data BLOB)")
        for _ in range(count):
            connection.execute(text("INSERT INTO filler VALUES (randomblob(4000))"))


def test_commits_leave_the_wal_to_the_checkpoint_which_lets_the_next_writer_start_it_again(engine):
    _write_pages(engine, 1500)  # past SQLite's default of 1,000 pages, the commit would have copied them itself
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 10_000

    checkpoint(engine)
    _write_pages(engine, 1)

    assert _wal_pages(engine) < 10


def test_the_schedulers_round_checkpoints_the_wal(ctx, engine):
    _write_pages(engine, 300)

    scheduler._round(ctx)
    _write_pages(engine, 1)

    assert _wal_pages(engine) < 10

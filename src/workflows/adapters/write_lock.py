"""On SQLite, a command holds the database-wide write lock only while it writes, not while it computes.

SQLite lets one writer in at a time. Taking the lock at the start of a command (BEGIN IMMEDIATE) put the engine run,
the documents and the ORM work of every command under it, so two web workers were no faster than one. Instead a
command's unit of work begins deferred: it reads and computes without the lock, and at its first write statement
the guard below takes the lock, in one of two ways:

- the unit read its case for update (`watch`), or nothing for update: the read transaction ends, BEGIN IMMEDIATE
  waits for the lock (the busy timeout), and the case's row version must still be the one read, else `StaleRead`:
  another command changed the case in between, and this one is run again from the start (services/retries.py).
  What else the command read is as fresh as on PostgreSQL, where the case's row lock is the guard and the rest
  reads committed data (a unique key refuses a doubled insert on both).
- the unit read for update a row no version guards (`watch_unversioned`: a message, a 回访, a failure count): the
  write upgrades the read transaction in place. SQLite refuses that at once (SQLITE_BUSY, SQLITE_BUSY_SNAPSHOT)
  when another writer holds the lock or wrote since this unit's first read, so whatever the unit read is what it
  writes against; the command is then run again, that time with the lock from its start.

A command that writes first and reads after (no read before its first write) takes the lock at that write.

Writers queue for the lock (`Turn`): SQLite's own wait for it (the busy timeout) sleeps 1, 2, 5, 10 … 100 ms between
tries and is not woken when the lock is freed, so with two web workers and the scheduler a writer often slept on
while the lock stood free (bench/case_throughput.py, 2 workers: 307 such sleeps over 100 cases, 3.9 s in all).
Before BEGIN IMMEDIATE each connection takes a turn, which is given back at the transaction's end; BEGIN IMMEDIATE
then finds the lock free. The writers of one process queue on a lock of the process, which wakes the next one when
it is given back; the one at its head then takes an exclusive flock on the database's `-writers` file, which orders
it against the other processes' and is tried every half millisecond (the kernel has no timed flock). Before the
process's queue, each of its waiting writers tried the flock so, each try taking the GIL from the thread at work:
one web worker of four threads spent 38–40 ms of CPU a case, 32–34 ms since (bench/case_throughput.py, 4 clients,
alternated runs), and made 26–27 cases/s, 30–32 since. A turn not had within TURN_PATIENCE is gone without: the
busy timeout waits, and fails, as before turns.
SQLite's lock is still what guards the data: a writer that takes no turn (another program, a unit upgrading its
read in place) is waited for by the busy timeout as before.

What a command must write before it computes, and may not keep waiting for its commit (a case's number, taken
before its workflow runs: services/cases.py), it writes inside `committed_at_once`: a short transaction of its own,
committed there, after which the unit reads on without the lock and takes it again at its next write.
"""
from __future__ import annotations

import fcntl
import os
import threading
import time
from contextlib import contextmanager
from contextvars import ContextVar

from sqlalchemy import event

GUARD = "write_guard"  # the execution option and Session.info key the guard travels under
TURN = "writer_turn"  # the key of a connection's Turn in its pool record's info
_READS = ("SELECT", "WITH", "PRAGMA", "BEGIN", "SAVEPOINT", "RELEASE", "ROLLBACK")

# Set while a command runs again after a StaleRead or a busy database: its unit then locks at BEGIN, as SQLite's
# writers did before, so the second attempt cannot fail the same way.
lock_at_begin: ContextVar[bool] = ContextVar("lock_at_begin", default=False)


class StaleRead(Exception):
    """A case this unit read for update was changed by another command before this one took the write lock."""


class WriteGuard:
    """What one SQLite unit of work read for update, and whether it holds the write lock yet."""

    def __init__(self) -> None:
        self.locked = False
        self.locked_at: float | None = None  # the thread's CPU time when it took the lock (bench: CPU under the lock)
        self.held = 0.0  # the thread's CPU time under the lock in the short transactions released (committed_at_once)
        self.overtaken: Exception | None = None  # the StaleRead or SQLITE_BUSY met, even if a caller swallowed it
        self._versions: dict[tuple[str, int], int] = {}  # (table, id) -> the row version read
        self._unversioned = False

    def watch(self, table: str, key: int, version: int) -> None:
        """A row read for update whose `row_version` tells whether it changed (the cases)."""
        self._versions.setdefault((table, key), version)

    def watch_unversioned(self) -> None:
        """A row read for update that nothing but the read snapshot guards."""
        self._unversioned = True

    def before_statement(self, connection, statement: str) -> None:
        """Called before each statement of the unit (on the pool's connection): at the first write, take the lock as
        the module says."""
        if self.locked or statement.lstrip()[:9].upper().startswith(_READS):
            return
        self.locked, self.locked_at = True, time.thread_time()
        if self._unversioned:
            return  # upgraded in place by the statement itself, refused at once if another writer came first
        dbapi_connection = connection.dbapi_connection
        dbapi_connection.execute("COMMIT")  # the read snapshot ends: nothing was written yet
        begin_immediate(connection)
        for (table, key), version in self._versions.items():
            row = dbapi_connection.execute(f"SELECT row_version FROM {table} WHERE id = ?", (key,)).fetchone()
            if row is None or row[0] != version:
                self.overtaken = StaleRead(f"{table} {key}: row version {version} read, {row[0] if row else None} now")
                raise self.overtaken

    def may_release(self) -> bool:
        """Whether what this unit writes now may be committed apart: it holds no lock yet, so it wrote nothing, and
        no row it read relies on its read snapshot lasting (watch_unversioned)."""
        return not self.locked and not self._unversioned

    def release(self, connection) -> None:
        """Commit what the unit wrote since it took the lock, and read on without it (a snapshot of its own)."""
        connection.dbapi_connection.execute("COMMIT")
        give_turn(connection)
        connection.dbapi_connection.execute("BEGIN")
        self.held += time.thread_time() - self.locked_at
        self.locked, self.locked_at = False, None


@contextmanager
def committed_at_once(session):
    """SQLite's UnitOfWork.committed_at_once (PostgreSQL's is database.committed_apart): the writes inside are
    committed at its end, apart from the rest of the unit, where the unit's guard allows it (WriteGuard.may_release);
    elsewhere (a command run again holding the lock from its start, a unit that read unversioned rows) they are part
    of the unit's transaction, as any write."""
    guard = session.info.get(GUARD)
    apart = guard is not None and guard.may_release()
    yield
    if apart and guard.locked:
        guard.release(session.connection().connection)


def watch(session, table: str, key: int, version: int) -> None:
    """Record on the session's guard (SQLite write units only) a row read for update with its version."""
    guard = session.info.get(GUARD)
    if guard is not None:
        guard.watch(table, key, version)


def watch_unversioned(session) -> None:
    guard = session.info.get(GUARD)
    if guard is not None:
        guard.watch_unversioned()


class Turn:
    """A connection's place in the writers' queue (the module's docstring): its own open file description of the
    database's `-writers` file, so that its flock excludes every other connection's, in this process and in others.
    The file closes with the connection, or when the pool forgets it: a turn is never kept by a connection gone."""

    _holders: set[int] = set()  # the threads that hold a turn now (on any connection)
    _queues: dict[str, threading.Lock] = {}  # database -> its writers' queue in this process

    def __init__(self, database: str) -> None:
        self._file = open(f"{database}-writers", "ab")
        self._database = database
        self._taken_by: int | None = None  # the thread holding this connection's turn
        self._queue: threading.Lock | None = None  # the process's queue, while this connection holds it

    def take(self) -> None:
        """Wait for the turn, TURN_PATIENCE at most: first at the head of the process's queue, then for the flock.
        A thread that holds one already, on another connection, waits on SQLite's busy timeout instead, as before:
        it would otherwise wait for itself. So does a writer whose turn did not come in time: a holder that never
        ends its transaction must not hang every other writer (an flock has no timeout), and BEGIN IMMEDIATE then
        fails after the busy timeout as it did before turns."""
        thread = threading.get_ident()
        if self._taken_by is not None or thread in self._holders:
            return
        deadline = time.monotonic() + TURN_PATIENCE
        queue = self._queues.setdefault(self._database, threading.Lock())
        if not queue.acquire(timeout=TURN_PATIENCE):
            return
        if _flock_within(self._file, deadline - time.monotonic()):
            self._taken_by, self._queue = thread, queue
            self._holders.add(thread)
        else:
            queue.release()

    def give(self) -> None:
        if self._taken_by is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._holders.discard(self._taken_by)
            self._taken_by = None
            self._queue.release()
            self._queue = None

    def close(self) -> None:
        self.give()
        self._file.close()


TURN_PATIENCE = 2.0  # seconds; a turn is held for a command's writes and commit only, a few ms
_TURN_POLL = 0.0005  # the kernel queues no timed flock: a try each half millisecond, the GIL released between
# A process forked with a writer's turn held would keep its queue taken for good: the child starts with new queues
os.register_at_fork(after_in_child=Turn._queues.clear)


def _flock_within(file, seconds: float) -> bool:
    """Take the exclusive flock on `file` within `seconds`; False if another held it all that time."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(_TURN_POLL)


def begin_immediate(connection) -> None:
    """BEGIN IMMEDIATE on the pool's `connection`, its turn taken first."""
    turn = _turn(connection)
    if turn is not None:
        turn.take()
    connection.dbapi_connection.execute("BEGIN IMMEDIATE")


def give_turn(connection) -> None:
    """Give back the turn of the pool's `connection`, if it holds one: its transaction has ended."""
    turn = _turn(connection)
    if turn is not None:
        turn.give()


def _turn(connection) -> Turn | None:
    try:
        return connection.info.get(TURN)
    except NotImplementedError:  # the dialect's first look at a new connection, before the pool hands it out
        return None


def install(engine) -> None:
    """Have every statement on `engine` pass its unit's guard first, and its connections queue for the write lock
    where the database is a file (SQLite engines: adapters/database.py)."""
    database = engine.url.database
    if database and database != ":memory:" and not database.startswith("file:"):
        _queue_writers(engine, database)

    @event.listens_for(engine, "before_cursor_execute")
    def take_lock_at_first_write(connection, cursor, statement, _parameters, _context, _executemany):
        guard = connection.get_execution_options().get(GUARD)
        if guard is not None:
            guard.before_statement(connection.connection, statement)

    @event.listens_for(engine, "handle_error")
    def note_busy(context):
        """A busy database noted on the guard: a handler of the engine that catches every error must not hide it."""
        connection = context.connection
        guard = connection.get_execution_options().get(GUARD) if connection is not None else None
        if guard is not None and "locked" in str(context.original_exception):
            guard.overtaken = context.sqlalchemy_exception or context.original_exception


def _queue_writers(engine, database: str) -> None:
    """Give each connection of `engine` a Turn, and give it back at its transaction's end, whichever way it ends
    (a commit, a rollback, the pool's reset of a connection checked in)."""
    @event.listens_for(engine, "connect")
    def give_a_turn(_dbapi_connection, record):
        record.info[TURN] = Turn(database)

    @event.listens_for(engine, "close")
    def close_the_turn(_dbapi_connection, record):
        turn = record.info.pop(TURN, None)
        if turn is not None:
            turn.close()

    dialect = engine.dialect
    dialect.do_commit, dialect.do_rollback = _giving_turn(dialect.do_commit), _giving_turn(dialect.do_rollback)


def _giving_turn(end_transaction):
    """The dialect's `end_transaction` (its commit or rollback), the connection's turn given back after it."""
    def ended(connection):  # the pool's connection, as SQLAlchemy passes it
        try:
            end_transaction(connection)
        finally:
            give_turn(connection)
    return ended

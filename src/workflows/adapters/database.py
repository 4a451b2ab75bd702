"""Database engines: SQLite (embedded default, WAL mode) or PostgreSQL, chosen by URL."""
from __future__ import annotations

import time
import weakref
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event, exc, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session

from . import write_lock

DEFAULT_URL = "sqlite:///var/workflows.db"
IDLE_BEFORE_PING = 1.0  # seconds a pooled PostgreSQL connection may rest and be used again without a ping first
_LAST_USED = "last_used"  # (in the pool's record of a connection: when it was connected or last checked in)
# PostgreSQL: the DBAPI connections whose transaction has sent more than plain reads (a write, a SELECT … FOR UPDATE)
_HOLDING = weakref.WeakSet()
_NO_FLUSH_WAIT = text("SET LOCAL synchronous_commit = off")


def make_engine(url: str = DEFAULT_URL) -> Engine:
    """An engine whose errors never quote the statement's parameters: they hold ID numbers and names."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        # LIFO: the connection used last is used next, so a worker's few busy connections keep their prepared
        # statements warm (below) and the idle ones are the pool's spares, instead of every connection in turn
        engine = create_engine(url, pool_size=10, max_overflow=10, pool_use_lifo=True, hide_parameters=True)
        _ping_when_idle(engine)
        _note_holding(engine)
        if parsed.get_driver_name() == "psycopg":
            _keep_prepared_statements(engine)
        return engine
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30}, hide_parameters=True)
    _use_wal_and_explicit_transactions(engine)
    write_lock.install(engine)
    return engine


def _ping_when_idle(engine: Engine) -> None:
    """A connection the server dropped (a restart, an idle timeout) is replaced before a command uses it: SQLAlchemy's
    pessimistic disconnect handling, but only for a connection that rested more than IDLE_BEFORE_PING (pool_pre_ping
    pinged at every checkout: ~6 a case of the bench's flow, ~75-90 µs of our CPU each). One used a moment ago
    was alive then; a drop in that moment fails one command, as a drop during it would. A failed ping marks the
    whole pool stale, as pool_pre_ping does: a restart dropped the connections that rested less too."""
    dialect = engine.dialect

    @event.listens_for(engine, "connect")
    @event.listens_for(engine, "checkin")
    def note_use(_dbapi_connection, record):
        record.info[_LAST_USED] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def ping_when_idle(dbapi_connection, record, _proxy):
        if time.monotonic() - record.info.get(_LAST_USED, 0.0) <= IDLE_BEFORE_PING:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            if dialect.is_disconnect(error, dbapi_connection, None):
                raise exc.InvalidatePoolError() from error  # the pool connects anew and checks out again
            raise


def _use_wal_and_explicit_transactions(engine: Engine) -> None:
    """WAL lets readers work while one process writes. We issue BEGIN ourselves (pysqlite's own lazy BEGIN is
    off): deferred by default; the unit of work's write guard (write_lock.py) takes the write lock at a command's
    first write, and BEGIN IMMEDIATE (execution option `sqlite_begin`) takes it at the start where asked.
    """

    @event.listens_for(engine, "connect")
    def configure(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def begin(connection):
        connection.exec_driver_sql(connection.get_execution_options().get("sqlite_begin", "BEGIN"))


def _keep_prepared_statements(engine: Engine) -> None:
    """psycopg prepares a statement on a connection once it has run it a few times (prepare_threshold), so the
    server parses and plans it no more, and forgets every one of them at each rollback, in case the transaction
    created what they name. Our reads (the session check once a second, the outbox's look for work, every page)
    end by a rollback, so the cache was emptied every second and a command's statements were parsed and planned
    anew each time. A transaction that sent nothing but plain SELECTs created nothing: it ends by a commit, which
    ends a read the same way and keeps the prepared statements; any other rolls back as before (and psycopg still
    forgets them after DDL)."""
    rollback = engine.dialect.do_rollback

    def end_read_by_commit(connection):  # a pool's proxy of the DBAPI connection, as SQLAlchemy passes it
        if connection.dbapi_connection in _HOLDING:
            rollback(connection)
        else:
            connection.commit()

    engine.dialect.do_rollback = end_read_by_commit


def _note_holding(engine: Engine) -> None:
    """Note in _HOLDING each connection whose transaction wrote or locked rows, until it ends. A plain read holds
    nothing that ending it early would give up: PostgreSQL reads committed data at each statement (READ COMMITTED)."""
    @event.listens_for(engine, "before_cursor_execute")
    def note_writes(_connection, cursor, statement, _parameters, _context, _executemany):
        if statement.lstrip()[:6].upper() != "SELECT" or " FOR " in statement:  # FOR UPDATE, FOR SHARE …
            _HOLDING.add(cursor.connection)

    @event.listens_for(engine, "commit")
    def forget_at_commit(connection):
        _HOLDING.discard(connection.connection.dbapi_connection)

    rollback = engine.dialect.do_rollback  # not the "rollback" event: it comes before, and the pool's reset has none

    def forget_at_rollback(connection):  # a pool's proxy of the DBAPI connection, as SQLAlchemy passes it
        rollback(connection)
        _HOLDING.discard(connection.dbapi_connection)

    engine.dialect.do_rollback = forget_at_rollback


@contextmanager
def committed_apart(session: Session):
    """PostgreSQL's UnitOfWork.committed_at_once: what is written inside is committed at its end, in a transaction of
    its own, where the unit's transaction wrote and locked nothing before (else it is part of the unit, as any
    write). A case's number: the upsert locks the agency's counter row of the day, which held every other opening
    of the agency waiting until this one's commit, its workflow run included (at 80 cases/s, 10 ms each: most of
    the time). That short commit waits for no flush of the WAL (synchronous_commit off for it alone), and loses no
    number a case was given: the case is committed after it, durably, and a commit flushes the WAL up to its own
    record, so with every record before it, this one included. A crash may forget a number no committed case
    bears (an opening that fails after taking its number leaves it unused as well; numbers need not be gapless)."""
    raw = session.connection().connection.dbapi_connection
    if raw in _HOLDING:
        yield
        return
    session.execute(_NO_FLUSH_WAIT)
    yield
    raw.commit()  # the unit goes on in a new transaction, begun by its next statement
    _HOLDING.discard(raw)

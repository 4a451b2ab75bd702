"""Database engines: SQLite (embedded default, WAL mode) or PostgreSQL, chosen by URL."""
from __future__ import annotations

import time
import weakref
from pathlib import Path

from sqlalchemy import create_engine, event, exc
from sqlalchemy.engine import Engine, make_url

from . import write_lock

DEFAULT_URL = "sqlite:///var/workflows.db"
IDLE_BEFORE_PING = 1.0  # seconds a pooled PostgreSQL connection may rest and be used again without a ping first
_LAST_USED = "last_used"  # (in the pool's record of a connection: when it was connected or last checked in)


def make_engine(url: str = DEFAULT_URL) -> Engine:
    """An engine whose errors never quote the statement's parameters: they hold ID numbers and names."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        # LIFO: the connection used last is used next, so a worker's few busy connections keep their prepared
        # statements warm (below) and the idle ones are the pool's spares, instead of every connection in turn
        engine = create_engine(url, pool_size=10, max_overflow=10, pool_use_lifo=True, hide_parameters=True)
        _ping_when_idle(engine)
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
    anew each time. A transaction that sent nothing but SELECTs created nothing: it ends by a commit, which ends a
    read the same way and keeps the prepared statements; any other rolls back as before (and psycopg still forgets
    them after DDL)."""
    rollback, wrote = engine.dialect.do_rollback, weakref.WeakSet()  # the DBAPI connections whose transaction wrote

    @event.listens_for(engine, "before_cursor_execute")
    def note_writes(_connection, cursor, statement, _parameters, _context, _executemany):
        if statement.lstrip()[:6].upper() != "SELECT":
            wrote.add(cursor.connection)

    def end_read_by_commit(connection):  # a pool's proxy of the DBAPI connection, as SQLAlchemy passes it
        raw = connection.dbapi_connection
        if raw in wrote:
            wrote.discard(raw)
            rollback(connection)
        else:
            connection.commit()

    @event.listens_for(engine, "commit")
    def forget_writes(connection):
        wrote.discard(connection.connection.dbapi_connection)

    engine.dialect.do_rollback = end_read_by_commit

"""Database engines: SQLite (embedded default, WAL mode) or PostgreSQL, chosen by URL."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url

from . import write_lock

DEFAULT_URL = "sqlite:///var/workflows.db"


def make_engine(url: str = DEFAULT_URL) -> Engine:
    """An engine whose errors never quote the statement's parameters: they hold ID numbers and names."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10, hide_parameters=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30}, hide_parameters=True)
    _use_wal_and_explicit_transactions(engine)
    write_lock.install(engine)
    return engine


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

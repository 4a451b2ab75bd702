"""What a psycopg connection sends the server, read from libpq's trace."""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from psycopg.pq import Trace
from sqlalchemy import event


@contextmanager
def syncs_sent(connection, tmp_path):
    """The Sync messages the connection sends meanwhile (libpq's trace): each is a wait for the server's answers."""
    counted = []
    with messages_sent(connection, tmp_path) as messages:
        yield counted
    counted.append(sum(1 for line in messages if line.startswith("F") and "\tSync" in line))


@contextmanager
def messages_sent(connection, tmp_path):
    """The messages of one connection (SQLAlchemy's) meanwhile, as libpq traced them: what it sent, F, and what the
    server answered, B."""
    messages = []
    with _traced(connection.connection.dbapi_connection, tmp_path / "libpq.trace"):
        yield messages
    messages += (tmp_path / "libpq.trace").read_text().splitlines()


@contextmanager
def waits_sent(database, tmp_path):
    """The messages of every connection `database` (an engine) hands out meanwhile, as messages_sent."""
    traced, messages = {}, []

    def trace(dbapi_connection, _record, _proxy):
        if dbapi_connection not in traced:
            traced[dbapi_connection] = _traced(dbapi_connection, tmp_path / f"libpq-{len(traced)}.trace")
            traced[dbapi_connection].__enter__()

    event.listen(database, "checkout", trace)
    try:
        yield messages
    finally:
        event.remove(database, "checkout", trace)
        for tracing in traced.values():
            tracing.__exit__(None, None, None)
        for place in range(len(traced)):
            messages += (tmp_path / f"libpq-{place}.trace").read_text().splitlines()


@contextmanager
def _traced(dbapi_connection, path: Path):
    with path.open("w") as output:
        dbapi_connection.pgconn.trace(output.fileno())
        dbapi_connection.pgconn.set_trace_flags(Trace.SUPPRESS_TIMESTAMPS)
        try:
            yield
        finally:
            dbapi_connection.pgconn.untrace()


def waits(messages: list[str]) -> int:
    """The waits for the server's answers: a Sync ends a flight of the extended protocol, a Query is one of its own
    (the simple protocol: psycopg's BEGIN and COMMIT outside a pipeline, SQL without parameters)."""
    return sum(1 for line in messages if line.startswith("F") and ("\tSync" in line or "\tQuery\t" in line))

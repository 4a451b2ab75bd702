"""What a psycopg connection sends the server, read from libpq's trace."""
from __future__ import annotations

from contextlib import contextmanager

from psycopg.pq import Trace


@contextmanager
def syncs_sent(connection, tmp_path):
    """The Sync messages the connection sends meanwhile (libpq's trace): each is a wait for the server's answers."""
    trace = tmp_path / "libpq.trace"
    pgconn = connection.connection.dbapi_connection.pgconn
    with trace.open("w") as output:
        pgconn.trace(output.fileno())
        pgconn.set_trace_flags(Trace.SUPPRESS_TIMESTAMPS)
        counted = []
        try:
            yield counted
        finally:
            pgconn.untrace()
    counted.append(sum(1 for line in trace.read_text().splitlines() if line.startswith("F") and "\tSync" in line))

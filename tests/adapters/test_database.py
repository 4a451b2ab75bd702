"""The PostgreSQL engine keeps psycopg's prepared statements across reads (a read-only transaction ends by a
commit, not a rollback, which would make psycopg forget them all); a transaction that wrote still rolls back; a
pooled connection the server dropped while it rested is replaced before use, and one used a moment ago is not
pinged; the large values are compressed with lz4; a case's number is committed apart from its opening, unless
the opening wrote or locked rows before it."""
from __future__ import annotations

import time
from contextlib import ExitStack

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DataError
from sqlalchemy.pool import NullPool

from workflows.adapters import database as database_module
from workflows.adapters.database import make_engine
from workflows.services import cases, tasks

from support.cases import APPLICANT, DATA, OUTPATIENT


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_reads_keep_the_prepared_statements_and_a_rolled_back_write_is_undone(database_url):
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            for _ in range(6):  # prepared from the 6th run (psycopg's prepare_threshold, 5)
                connection.execute(text("SELECT count(*) FROM users WHERE username = :name"), {"name": "shouli"})
                connection.rollback()  # as a read-only unit of work ends (Session.close)
            prepared = text("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE '%FROM users%'")
            assert connection.scalar(prepared) == 1
            connection.rollback()
            connection.execute(text("UPDATE users SET full_name = 'x' WHERE username = 'shouli'"))
            connection.rollback()
            assert connection.scalar(text("SELECT full_name FROM users WHERE username = 'shouli'")) != "x"
            connection.rollback()
            with pytest.raises(DataError):  # a read that failed ends as well (the server rolls the commit back)
                connection.execute(text("SELECT 1 / 0"))
            connection.rollback()
            assert connection.scalar(text("SELECT count(*) FROM users WHERE username = 'shouli'")) == 1
    finally:
        engine.dispose()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_cases_workflow_state_is_stored_compressed_with_lz4_and_reads_back_whole(ctx, staff):
    """Migration 0051: lz4, not pglz, for the large values written at every step (a quarter of the server's work)."""
    case = cases.open_case(ctx, staff["shouli"], OUTPATIENT, APPLICANT, DATA).case
    with ctx.uow(write=False) as uow:
        method, state = uow.session.execute(text(
            "SELECT pg_column_compression(workflow_state), workflow_state FROM cases WHERE id = :id"),
            {"id": case.id}).one()
    assert method == "lz4" and state == case.workflow_state


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_connection_dropped_while_it_rested_is_replaced_and_one_used_a_moment_ago_is_not_pinged(
        ctx, staff, monkeypatch):
    database, pings = ctx.session_factory.kw["bind"], []
    dialect = database.dialect
    ping = dialect.do_ping
    monkeypatch.setattr(dialect, "do_ping", lambda connection: pings.append(connection) or ping(connection))
    # "a moment ago" made a minute, so that a loaded machine's pauses between two commands do not count as rest
    monkeypatch.setattr(database_module, "IDLE_BEFORE_PING", 60.0)
    progress = cases.open_case(ctx, staff["shouli"], OUTPATIENT, APPLICANT, DATA)
    cases.case_details(ctx, staff["shouli"], progress.case.number)
    assert pings == []  # each unit of work took a connection the one before had just given back

    monkeypatch.setattr(database_module, "IDLE_BEFORE_PING", 1.0)
    _drop_pooled_connections(database)  # as a restart of the server does
    time.sleep(1.2)
    done = tasks.complete_task(ctx, staff["shouli"], progress.open_tasks[0].id, {"decision": "accept"})

    assert [task.stage for task in done.open_tasks] == ["审核"]
    assert pings  # the rested connection was pinged, found dead and replaced before the command used it


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize("before", ["SELECT count(*) FROM users", "SELECT username FROM users LIMIT 1 FOR UPDATE",
                                    "UPDATE users SET full_name = full_name WHERE username = 'shouli'"])
def test_a_number_is_kept_by_a_failed_unit_only_where_that_unit_had_only_read_before_taking_it(ctx, before):
    """Committing apart must not commit the unit's earlier writes, nor end its row locks: then the number stays
    part of the unit, and is taken again once the unit failed."""
    def number_taken_by_a_failed_unit() -> int:
        with pytest.raises(RuntimeError), ctx.uow() as uow:
            uow.session.execute(text(before))
            with uow.committed_at_once():
                sequence, _ = uow.cases.next_sequence_and_id("210400", ctx.today())
            raise RuntimeError("the opening failed after taking its number")
        return sequence

    first, second = number_taken_by_a_failed_unit(), number_taken_by_a_failed_unit()

    assert second == (first + 1 if before == "SELECT count(*) FROM users" else first)


def _drop_pooled_connections(database) -> None:
    with ExitStack() as stack:  # every connection of the pool at once, to learn their server processes
        pooled = [stack.enter_context(database.connect()) for _ in range(database.pool.checkedin())]
        backends = [connection.scalar(text("SELECT pg_backend_pid()")) for connection in pooled]
    admin = create_engine(database.url, poolclass=NullPool)
    with admin.connect() as connection:
        dropped = connection.scalars(text("SELECT pg_terminate_backend(pid, 10000) FROM unnest(:pids) pid"),
                                     {"pids": backends}).all()
    admin.dispose()
    assert dropped and all(dropped)

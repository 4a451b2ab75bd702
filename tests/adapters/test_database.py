"""The PostgreSQL engine keeps psycopg's prepared statements across reads (a read-only transaction ends by a
commit, not a rollback, which would make psycopg forget them all); a transaction that wrote still rolls back; a
pooled connection the server dropped while it rested is replaced before use, and one used a moment ago is not
pinged; the large values are compressed with lz4; a case's number is committed apart from its opening, unless
the opening wrote or locked rows before it; a page's list of ids is one array parameter on PostgreSQL."""
from __future__ import annotations

import time
from contextlib import ExitStack, contextmanager

import pytest
from sqlalchemy import column, create_engine, event, insert, table, text, update
from psycopg.pq import PipelineStatus
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from workflows.adapters import database as database_module
from workflows.adapters.database import committed_apart, make_engine, writes_pipelined
from workflows.services import cases, tasks

from support.cases import APPLICANT, DATA, OUTPATIENT
from support.libpq import messages_sent, syncs_sent, waits


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


@contextmanager
def notes_table(database_url):
    """A connection of make_engine's with a table of its own (TEMP: it lives as long as the connection)."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            connection.execute(text("CREATE TEMP TABLE notes (id int PRIMARY KEY, body text)"))
            connection.commit()
            yield connection
    finally:
        engine.dispose()


NOTES = table("notes", column("id"), column("body"))


def _notes(connection) -> list[tuple]:
    rows = connection.execute(text("SELECT id, body FROM notes ORDER BY id")).all()
    connection.rollback()
    return [tuple(row) for row in rows]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_commits_writes_go_with_its_commit_waiting_only_for_the_answers_sqlalchemy_needs(database_url, tmp_path):
    """Written as SQLAlchemy's Core and ORM write (text() is not: SQLAlchemy asks for its row count)."""
    with notes_table(database_url) as connection, Session(bind=connection) as session:
        session.execute(text("SELECT 1"))  # the unit has read before it writes, as a command does
        with syncs_sent(connection, tmp_path) as syncs, writes_pipelined(session):
            for number in range(3):
                session.execute(insert(NOTES).values(id=number, body="a"))
            updated = session.execute(update(NOTES).where(NOTES.c.id < 2).values(body="b")).rowcount
            session.execute(insert(NOTES), [{"id": 9, "body": "a"}, {"id": 10, "body": "a"}])
            session.execute(insert(NOTES).values(id=11, body="c").returning(NOTES.c.id)).scalar_one()
            session.execute(insert(NOTES).values(id=12, body="d"))
            session.commit()
        assert updated == 2
        assert syncs == [3]  # the UPDATE's row count; the RETURNING's row; the last INSERT with the COMMIT
        assert _notes(connection) == [(0, "b"), (1, "b"), (2, "a"), (9, "a"), (10, "a"), (11, "c"), (12, "d")]
        assert connection.connection.dbapi_connection.pgconn.pipeline_status == PipelineStatus.OFF


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_write_that_fails_in_the_pipeline_fails_its_commit_and_nothing_of_the_unit_is_kept(database_url):
    with notes_table(database_url) as connection, Session(bind=connection) as session:
        with pytest.raises(IntegrityError), writes_pipelined(session):
            for number in (1, 1, 2):  # the second is a duplicate, answered only at the COMMIT
                session.execute(insert(NOTES).values(id=number, body="a"))
            session.commit()
        session.rollback()
        assert connection.connection.dbapi_connection.pgconn.pipeline_status == PipelineStatus.OFF
        assert _notes(connection) == []
        with pytest.raises(RuntimeError), writes_pipelined(session):  # a unit that fails before its commit
            session.execute(insert(NOTES).values(id=3, body="a"))
            raise RuntimeError("the command failed after a write")
        session.rollback()
        assert _notes(connection) == []
        with writes_pipelined(session):  # and the connection serves the next unit
            session.execute(insert(NOTES).values(id=4, body="a"))
            session.commit()
        assert _notes(connection) == [(4, "a")]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_in_the_pipeline_a_statement_not_known_to_return_no_rows_is_answered_before_its_rows_are_read(database_url):
    """SQL text: SQLAlchemy did not compile it, and cannot say that it returns no rows."""
    with notes_table(database_url) as connection, Session(bind=connection) as session:
        session.execute(text("SELECT 1"))
        with writes_pipelined(session):
            written = session.execute(text("INSERT INTO notes VALUES (20, 'e') RETURNING id")).scalar_one()
            moved = session.execute(text("WITH moved AS (UPDATE notes SET body = 'f' RETURNING id) "
                                         "SELECT count(*) FROM moved")).scalar_one()
            session.commit()
        assert (written, moved) == (20, 1)
        assert _notes(connection) == [(20, "f")]


def _sent(messages: list[str], kind: str) -> list[str]:
    return [line for line in messages if line.startswith("F") and f"\t{kind}\t" in line]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_transactions_begin_goes_with_its_first_statement_and_a_rollback_still_undoes_it(database_url, tmp_path):
    """One wait for both; and the statement ran inside the transaction (a rollback undoes it), not on its own."""
    with notes_table(database_url) as connection:
        with messages_sent(connection, tmp_path) as messages:
            connection.execute(insert(NOTES).values(id=1, body="a"))
            connection.rollback()
        assert waits(messages) == 2  # BEGIN with the INSERT, then the ROLLBACK
        assert [line.split('"')[3] for line in _sent(messages, "Parse")] == [
            "BEGIN", "INSERT INTO notes (id, body) VALUES ($1, $2)"]
        assert _notes(connection) == []
        connection.execute(text("INSERT INTO notes VALUES (2, 'b'); INSERT INTO notes VALUES (3, 'c')"))  # SQL text
        connection.commit()  # of several statements: sent as it is, BEGIN on its own
        assert _notes(connection) == [(2, "b"), (3, "c")]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_first_statement_that_fails_fails_as_ever_and_its_transaction_is_rolled_back(database_url):
    with notes_table(database_url) as connection:
        connection.execute(insert(NOTES).values(id=1, body="a"))
        connection.commit()
        with pytest.raises(IntegrityError, match="duplicate key"):  # the error of the statement, not of BEGIN
            connection.execute(insert(NOTES).values(id=1, body="b"))
        connection.rollback()
        with pytest.raises(DataError):  # refused before it is sent (an int out of range): BEGIN went alone
            connection.execute(insert(NOTES).values(id=2 ** 40, body="b"))
        connection.rollback()
        assert connection.connection.dbapi_connection.pgconn.pipeline_status == PipelineStatus.OFF
        connection.execute(insert(NOTES).values(id=2, body="c"))
        connection.commit()
        assert _notes(connection) == [(1, "a"), (2, "c")]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_savepoint_as_a_transactions_first_statement_is_inside_it(database_url):
    """SAVEPOINT outside a transaction block is an error: its BEGIN went first, in the same flight."""
    with notes_table(database_url) as connection, Session(bind=connection) as session:
        with session.begin_nested():
            session.execute(insert(NOTES).values(id=1, body="a"))
        nested = session.begin_nested()
        session.execute(insert(NOTES).values(id=2, body="b"))
        nested.rollback()
        session.commit()
        assert _notes(connection) == [(1, "a")]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_what_is_committed_apart_waits_twice_and_a_failure_inside_fails_with_its_error_keeping_nothing(
        database_url, tmp_path):
    with notes_table(database_url) as connection, Session(bind=connection) as session:
        session.execute(text("SELECT 1"))  # the unit read before, as an opening reads the catalog's version
        with messages_sent(connection, tmp_path) as messages, committed_apart(session):
            session.execute(insert(NOTES).values(id=1, body="a").returning(NOTES.c.id)).scalar_one()
        session.rollback()  # the unit fails after: what was committed apart stays
        assert waits(messages) == 2  # the SET LOCAL with the INSERT; the COMMIT
        assert [line.split('"')[3] for line in _sent(messages, "Parse")][:1] == ["SET LOCAL synchronous_commit = off"]
        assert _notes(connection) == [(1, "a")]

        session.execute(text("SELECT 1"))
        with pytest.raises(IntegrityError, match="duplicate key"), committed_apart(session):
            session.execute(insert(NOTES).values(id=2, body="b"))  # unanswered: failed with what follows
            session.execute(insert(NOTES).values(id=1, body="b").returning(NOTES.c.id)).scalar_one()
        session.rollback()
        assert connection.connection.dbapi_connection.pgconn.pipeline_status == PipelineStatus.OFF
        assert _notes(connection) == [(1, "a")]


@pytest.mark.both_databases
def test_a_pages_hundred_ids_are_one_array_on_postgresql_and_the_same_rows_on_both(ctx, staff):
    """A page reads its rows' cases by a list of ids (repository.among). On PostgreSQL that is `= ANY` of one array,
    one statement text whatever the list's length: a hundred bound values each would make it longer than psycopg
    caches its parsing for."""
    opened = {case.id: case.number for case in (cases.open_case(ctx, staff["shouli"], OUTPATIENT, APPLICANT, DATA).case
                                                for _ in range(3))}
    database, seen = ctx.session_factory.kw["bind"], []
    event.listen(database, "before_cursor_execute", lambda *args: seen.append(args[2]))
    with ctx.uow(write=False) as uow:
        first = uow.statistics.case_summaries(list(opened))
        padded = uow.statistics.case_summaries([*opened, *range(10_000, 10_097)])  # and 97 ids of no case
    assert {i: summary["number"] for i, summary in first.items()} == opened == \
        {i: summary["number"] for i, summary in padded.items()}
    summaries = [statement for statement in seen if "FROM cases" in statement]
    if database.dialect.name == "postgresql":
        assert summaries[0] == summaries[1] and "= ANY (" in summaries[0]
    else:
        assert summaries[0] != summaries[1]  # SQLite's IN, a parameter a value (SQLite parses no statement twice)

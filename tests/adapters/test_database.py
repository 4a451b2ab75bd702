"""The PostgreSQL engine keeps psycopg's prepared statements across reads (a read-only transaction ends by a
commit, not a rollback, which would make psycopg forget them all); a transaction that wrote still rolls back; the
large values are compressed with lz4."""
from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DataError

from workflows.adapters.database import make_engine
from workflows.services import cases

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

"""The suite's own PostgreSQL reset (tests/conftest.py): after a test, the worker's database is the installed one
again, to the row and to the sequence, however the test wrote to it; a snapshot of it (built_once) comes back the
same way. On SQLite each test's copy, at the worker's one path, is the installed file again."""
from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from workflows.services import catalog, cases, users

from conftest import _context, _worker_engine, sqlite_copy
from support.cases import APPLICANT, DATA, accept


def contents(url: str) -> dict:
    """Every public table's rows (as one digest) and every sequence's position."""
    database = create_engine(url)
    with database.connect() as connection:
        tables = connection.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars()
        state = {table: connection.execute(text(
            f'SELECT count(*), md5(coalesce(string_agg(t::text, \'|\' ORDER BY t::text), \'\')) FROM "{table}" t'
        )).one() for table in tables}
        state.update(connection.execute(text(
            "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public'")).all())
    database.dispose()
    return state


def test_a_reset_puts_back_the_installed_rows_and_sequences(postgres_copy, clock):
    installed = contents(postgres_copy.url)
    ctx = _context(postgres_copy.url, clock)
    staff = {user.username: user for user in users.list_users(ctx)}
    accept(ctx, staff, clock, "2026-11-23 10:00")  # new rows in many tables, sequences moved
    users.save_user(ctx, "shouli", "改了名字", "password456", staff["shouli"].agency_code, staff["shouli"].hall_code,
                    staff["shouli"].roles)  # an installed row changed
    with ctx.uow() as uow:  # installed rows deleted outright, foreign keys and all
        uow.session.execute(text("TRUNCATE catalog_documents CASCADE"))
        uow.commit()
    ctx.session_factory.kw["bind"].dispose()
    assert contents(postgres_copy.url) != installed

    postgres_copy.reset()

    assert contents(postgres_copy.url) == installed
    assert [agency.code for agency in catalog.list_agencies(_context(postgres_copy.url, clock))]


def test_a_reset_ends_the_connections_a_test_left_open(postgres_copy):
    installed = contents(postgres_copy.url)
    database = create_engine(postgres_copy.url)
    with database.begin() as connection:
        connection.execute(text("UPDATE users SET full_name = '改了名字'"))
    left_open = database.connect()
    left_open.execute(text("LOCK TABLE users IN ACCESS EXCLUSIVE MODE"))  # the reset would wait for it for ever

    postgres_copy.reset()

    assert contents(postgres_copy.url) == installed
    left_open.invalidate()
    database.dispose()


def test_a_test_that_changes_the_schema_gets_a_new_copy(postgres_copy):
    installed = contents(postgres_copy.url)
    database = create_engine(postgres_copy.url)
    with database.begin() as connection:
        connection.execute(text("ALTER TABLE users ADD COLUMN nickname text"))
        connection.execute(text("CREATE TABLE scratch (id integer)"))
        connection.execute(text("INSERT INTO users (username, full_name, password_hash, agency_code, hall_code, roles)"
                                " SELECT 'new_' || username, full_name, password_hash, agency_code, hall_code, roles"
                                " FROM users"))
    database.dispose()

    postgres_copy.reset()

    assert contents(postgres_copy.url) == installed


def test_a_snapshot_comes_back_to_the_row_and_sequence_and_a_reset_still_gives_the_installed(postgres_copy, clock):
    installed = contents(postgres_copy.url)
    ctx = _context(postgres_copy.url, clock)
    staff = {user.username: user for user in users.list_users(ctx)}
    accept(ctx, staff, clock, "2026-11-23 10:00")
    ctx.session_factory.kw["bind"].dispose()
    assert postgres_copy.snapshot("probe")
    built = contents(postgres_copy.url)
    accept(ctx, staff, clock, "2026-11-24 10:00")  # more rows, sequences further on, an installed row changed
    users.save_user(ctx, "shouli", "改了名字", "password456", staff["shouli"].agency_code, staff["shouli"].hall_code,
                    staff["shouli"].roles)
    ctx.session_factory.kw["bind"].dispose()

    assert postgres_copy.restore("probe")
    assert contents(postgres_copy.url) == built
    assert not postgres_copy.restore("never_taken")

    postgres_copy.reset()
    assert contents(postgres_copy.url) == installed


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_built_once_builds_once_and_hands_later_asks_its_database_clock_and_answer(built_once, ctx, staff, clock):
    runs = []

    def build():
        runs.append(1)
        number = accept(ctx, staff, clock, "2026-11-23 10:00")
        clock.advance(days=3)
        return {"number": number}

    first = built_once("test_test_databases.probe", build)
    after_build = clock.now
    later = cases.open_case(ctx, staff["shouli"], "002036006001", APPLICANT, DATA).case.number  # the test's own
    clock.advance(days=30)
    first["number"] = "changed by the test"

    again = built_once("test_test_databases.probe", build)

    assert runs == [1] and clock.now == after_build
    assert again["number"] != "changed by the test"
    numbers = [case.number for case in cases.search_cases(ctx, staff["shouli"])]
    assert again["number"] in numbers and later not in numbers


def test_each_sqlite_copy_is_the_installed_database_again_even_with_the_last_ones_connections_open(
        sqlite_template, tmp_path_factory, clock):
    url = sqlite_copy(sqlite_template, tmp_path_factory)
    database = _worker_engine(url)
    ctx = _context(url, clock, database=database)
    staff = {user.username: user for user in users.list_users(ctx)}
    number = accept(ctx, staff, clock, "2026-11-23 10:00")
    left_open = database.connect()  # its reads keep the commits in the WAL, not yet in the file
    left_open.execute(text("SELECT count(*) FROM cases")).scalar()
    database.dispose()

    assert sqlite_copy(sqlite_template, tmp_path_factory) == url and _worker_engine(url) is database
    fresh = _context(url, clock, database=database)
    assert cases.search_cases(fresh, staff["shouli"]) == []
    assert left_open.execute(text("SELECT number FROM cases")).scalars().all() == [number]  # the old file's
    left_open.close()
    database.dispose()

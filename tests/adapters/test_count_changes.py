"""count_changes (migration 0054): the changes of a commit to the statistics' counts, sent in one statement, are
added by the database to their tables as one upsert per table would (statistics_counts.add_changes)."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from workflows.adapters import orm
from workflows.adapters.database import make_engine
from workflows.adapters.statistics_counts import add_changes, change_rows

pytestmark = pytest.mark.both_databases  # the triggers are the database's own: SQLite and PostgreSQL

HALL = {"agency_code": "990000", "hall_code": "990000-01"}
ITEM = {**HALL, "item_code": "002036006001", "item_name": "门诊费用报销"}
MONDAY = date(2026, 11, 30)


def _case(week: date, opened=0, closed=0, counted=0, on_time=0) -> dict:
    return {**ITEM, "week": week, "opened": opened, "closed": closed, "counted": counted, "on_time": on_time}


def _rows(connection, table) -> list[tuple]:
    return sorted(tuple(row) for row in connection.execute(select(table).where(table.c.agency_code == "990000")))


def test_changes_of_every_kind_in_one_statement_add_to_their_counts(database_url):
    database = make_engine(database_url)
    try:
        with database.begin() as connection:
            add_changes(connection, change_rows(open=[{**HALL, "stage": "受理", "open": 1}],
                                                case=[_case(MONDAY, opened=1)], task=[]))
            add_changes(connection, change_rows(
                open=[{**HALL, "stage": "受理", "open": -1}, {**HALL, "stage": "审核", "open": 1}],
                case=[_case(MONDAY, closed=1, counted=1, on_time=1), _case(date(2026, 12, 7), closed=1)],
                task=[{**HALL, "username": "shouli", "completed": 1, "on_time": 0}]))
            add_changes(connection, change_rows(case=[_case(date(2026, 12, 7), closed=1, counted=1, on_time=0)],
                                                task=[{**HALL, "username": "shouli", "completed": 1, "on_time": 1}]))
            assert _rows(connection, orm.open_case_counts) == [("990000", "990000-01", "受理", 0),
                                                               ("990000", "990000-01", "审核", 1)]
            assert _rows(connection, orm.case_counts) == [(*ITEM.values(), MONDAY, 1, 1, 1, 1),
                                                          (*ITEM.values(), date(2026, 12, 7), 0, 2, 1, 0)]
            # summed over the weeks, and only from the changes that counted a case: none at all would add no row
            assert _rows(connection, orm.closed_case_counts) == [(*ITEM.values(), 2, 1)]
            assert _rows(connection, orm.task_counts) == [("990000", "990000-01", "shouli", 2, 1)]
    finally:
        database.dispose()


def test_a_closed_case_not_counted_for_the_rate_adds_no_closed_case_counts_row(database_url):
    database = make_engine(database_url)
    try:
        with database.begin() as connection:
            add_changes(connection, change_rows(case=[_case(MONDAY, closed=1)]))  # withdrawn: closed, not counted
            assert _rows(connection, orm.case_counts) == [(*ITEM.values(), MONDAY, 0, 1, 0, 0)]
            assert _rows(connection, orm.closed_case_counts) == []
    finally:
        database.dispose()

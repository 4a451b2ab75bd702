"""Upgrading an installation applies the migrations and keeps its data."""
from __future__ import annotations

import re

import pytest
from alembic import command
from sqlalchemy import inspect, text

from workflows.adapters import orm
from workflows.adapters.database import make_engine
from workflows.adapters.migrate import alembic_config, upgrade

pytestmark = pytest.mark.both_databases  # the database matters here: SQLite and PostgreSQL

CASE = {"id": 1, "number": "210400-20261101-00001", "agency_code": "210400", "hall_code": "210400-01",
        "item_code": "002036006001", "item_name": "门诊费用报销", "process_version_id": 1, "stage": "审核",
        "status": "open", "applicant": '{"name": "张伟"}', "data": "{}", "workflow_state": "{}",
        "opened_by": "shouli", "opened_at": "2026-11-01 01:30:00", "row_version": 3}


def test_upgrading_from_the_first_schema_keeps_the_cases(empty_database_url):
    database = make_engine(empty_database_url)
    upgrade(database, "0001")
    with database.begin() as connection:
        connection.execute(text(
            "INSERT INTO process_versions (id, process_key, version, name, bpmn_xml, file_name, checksum, "
            "deployed_by, deployed_at) VALUES (1, 'item_002036006001', 1, '门诊费用报销', '<x/>', 'x.bpmn', 'c', "
            "'sheji', '2026-11-01 00:00:00')"))
        columns = ", ".join(CASE)
        connection.execute(text(f"INSERT INTO cases ({columns}) VALUES ({', '.join(':' + c for c in CASE)})"), CASE)

    upgrade(database)

    assert "case_deadlines" in inspect(database).get_table_names()
    with database.connect() as connection:
        row = connection.execute(text("SELECT number, stage, row_version, accepted_at FROM cases")).one()
    assert tuple(row) == ("210400-20261101-00001", "审核", 3, None)
    database.dispose()


def test_upgrading_to_0030_places_the_limits_and_sums_the_closed_counts_over_the_weeks(empty_database_url):
    """The desk reads a hall's running limits by the place on them, the rates read one row per hall and item: both
    filled from what the installation already holds."""
    database = make_engine(empty_database_url)
    upgrade(database, "0021")
    week = {"agency_code": "210400", "hall_code": "210400-01", "item_code": "002036006001", "item_name": "门诊费用报销",
            "opened": 3, "closed": 2, "counted": 2, "on_time": 1}
    with database.begin() as connection:
        connection.execute(text(
            "INSERT INTO process_versions (id, process_key, version, name, bpmn_xml, file_name, checksum, "
            "deployed_by, deployed_at) VALUES (1, 'item_002036006001', 1, '门诊费用报销', '<x/>', 'x.bpmn', 'c', "
            "'sheji', '2026-11-01 00:00:00')"))
        connection.execute(text(f"INSERT INTO cases ({', '.join(CASE)}) VALUES ({', '.join(':' + c for c in CASE)})"),
                           CASE)
        connection.execute(text(
            "INSERT INTO case_deadlines (case_id, kind, limit_value, limit_unit, starts_at, due_at, warning_at, "
            "provisional, paused, extension_days, paused_days) VALUES (1, 'promised', 20, 'working_days', "
            "'2026-11-02 01:30:00', '2026-11-30 09:00:00', '2026-11-24 09:00:00', false, false, 0, 0)"))
        connection.execute(text(f"INSERT INTO case_counts ({', '.join(week)}, week) "
                                f"VALUES ({', '.join(':' + c for c in week)}, :week)"),
                           [{**week, "week": "2026-11-02"}, {**week, "week": "2026-11-09", "on_time": 2}])

    upgrade(database)

    with database.connect() as connection:
        place = connection.execute(text("SELECT agency_code, hall_code, item_code FROM case_deadlines")).one()
        totals = connection.execute(text("SELECT hall_code, item_code, counted, on_time FROM closed_case_counts")).all()
    assert tuple(place) == ("210400", "210400-01", "002036006001")
    assert [tuple(row) for row in totals] == [("210400-01", "002036006001", 4, 3)]
    database.dispose()


def test_0052_adds_the_desk_indexes_and_its_downgrade_drops_them_keeping_the_rows(empty_database_url):
    """The limits-at-risk count's covering index and the unreplied 督办's: built over what is there, gone again on
    downgrade, the limits kept."""
    database = make_engine(empty_database_url)
    try:
        upgrade(database, "0052-1")
        with database.begin() as connection:
            connection.execute(text(
                "INSERT INTO process_versions (id, process_key, version, name, bpmn_xml, file_name, checksum, "
                "deployed_by, deployed_at) VALUES (1, 'item_002036006001', 1, '门诊费用报销', '<x/>', 'x.bpmn', "
                "'c', 'sheji', '2026-11-01 00:00:00')"))
            connection.execute(text(f"INSERT INTO cases ({', '.join(CASE)}) "
                                    f"VALUES ({', '.join(':' + c for c in CASE)})"), CASE)
            connection.execute(text(
                "INSERT INTO case_deadlines (case_id, kind, limit_value, limit_unit, starts_at, due_at, warning_at, "
                "provisional, paused, extension_days, paused_days, agency_code, hall_code) VALUES (1, 'promised', "
                "20, 'working_days', '2026-11-02 01:30:00', '2026-11-30 09:00:00', '2026-11-24 09:00:00', false, "
                "false, 0, 0, '210400', '210400-01')"))

        upgrade(database, "0052")
        assert "ix_case_deadlines_at_risk" in {i["name"] for i in inspect(database).get_indexes("case_deadlines")}
        assert "ix_task_supervisions_unreplied" in {
            i["name"] for i in inspect(database).get_indexes("task_supervisions")}

        with database.begin() as connection:
            command.downgrade(alembic_config(connection), "0052-1")
        assert "ix_case_deadlines_at_risk" not in {
            i["name"] for i in inspect(database).get_indexes("case_deadlines")}
        assert "ix_task_supervisions_unreplied" not in {
            i["name"] for i in inspect(database).get_indexes("task_supervisions")}
        with database.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM case_deadlines")).scalar() == 1
    finally:
        database.dispose()


def test_0053_indexes_the_tasks_by_case_number_and_its_downgrade_drops_it(empty_database_url):
    database = make_engine(empty_database_url)
    try:
        upgrade(database, "0053")
        assert "ix_case_tasks_case_number" in {i["name"] for i in inspect(database).get_indexes("case_tasks")}
        with database.begin() as connection:
            command.downgrade(alembic_config(connection), "0052")
        assert "ix_case_tasks_case_number" not in {i["name"] for i in inspect(database).get_indexes("case_tasks")}
    finally:
        database.dispose()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_every_column_postgresql_may_compress_is_compressed_with_lz4(database_url):
    """The large values (a case's workflow_state at every step, 文书, attachments) cost the server a quarter less
    with lz4 than with pglz (migration 0051): a migration that made a column without it fails here."""
    database = make_engine(database_url)
    try:
        assert _not_lz4(database) == []
    finally:
        database.dispose()


@pytest.mark.parametrize("empty_database_url", ["postgresql"], indirect=True)
def test_the_columns_an_upgrade_step_makes_get_lz4_though_its_migration_does_not_name_it(empty_database_url):
    database = make_engine(empty_database_url)
    try:
        upgrade(database, "0047")  # the migrations before 0051, none of which names a compression
        assert _not_lz4(database) == []
    finally:
        database.dispose()


def _not_lz4(database) -> list[str]:
    """Our text, jsonb and bytea columns that PostgreSQL compresses otherwise than with lz4 (skips a server
    without it)."""
    with database.connect() as connection:
        if not connection.scalar(text("SELECT 'lz4' = ANY(enumvals) FROM pg_settings "
                                      "WHERE name = 'default_toast_compression'")):
            pytest.skip("this PostgreSQL has no lz4")
        return connection.scalars(text(
            "SELECT c.relname || '.' || a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
            "WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r' AND a.attnum > 0 "
            "AND NOT a.attisdropped AND a.atttypid IN ('text'::regtype, 'jsonb'::regtype, 'bytea'::regtype) "
            "AND a.attcompression IS DISTINCT FROM 'l' ORDER BY 1")).all()


def test_0054_adds_the_count_changes_view_and_its_downgrade_drops_it(empty_database_url):
    database = make_engine(empty_database_url)
    try:
        upgrade(database, "0054")
        assert "count_changes" in inspect(database).get_view_names()
        with database.begin() as connection:
            command.downgrade(alembic_config(connection), "0053")
        assert "count_changes" not in inspect(database).get_view_names()
        upgrade(database, "0054")  # and again: the downgrade left nothing of it behind (PostgreSQL: the function)
        assert "count_changes" in inspect(database).get_view_names()
    finally:
        database.dispose()


def test_0056_leaves_the_task_and_limit_indexes_queries_read_and_its_downgrade_puts_the_others_back(
        empty_database_url):
    """Every task or limit row written pays an entry in each of these indexes: the migrations make exactly the ones
    orm.py declares (those the inbox, the desk, the statistics and the scheduler read), with their conditions."""
    database = make_engine(empty_database_url)
    try:
        upgrade(database, "0056")
        for table in ("case_tasks", "case_deadlines"):
            assert _indexes(database, table) == _declared(table, database.dialect.name)
        assert _indexes(database, "case_tasks")["ix_case_tasks_assignee"][1] == "assignee IS NOT NULL"
        with database.begin() as connection:
            command.downgrade(alembic_config(connection), "0055")
        assert {"ix_case_tasks_inbox", "ix_case_deadlines_case_id", "ix_case_deadlines_due_at",
                "ix_case_deadlines_open_due_at", "ix_case_deadlines_provisional"} <= (
            set(_indexes(database, "case_tasks")) | set(_indexes(database, "case_deadlines")))
        assert _indexes(database, "case_tasks")["ix_case_tasks_assignee"][1] is None
    finally:
        database.dispose()


def _indexes(database, table: str) -> dict[str, tuple[list, str | None]]:
    """name -> (columns, condition) of the table's indexes as the database has them (not the unique constraint's)."""
    return {index["name"]: (index["column_names"],
                            _condition(index.get("dialect_options", {}).get(f"{database.dialect.name}_where")))
            for index in inspect(database).get_indexes(table) if "duplicates_constraint" not in index}


def _declared(table: str, dialect: str) -> dict[str, tuple[list, str | None]]:
    """name -> (columns, condition) of the table's indexes as orm.py declares them for the dialect."""
    return {index.name: ([getattr(e, "name", None) or e.element.name for e in index.expressions],
                         _condition(index.dialect_options[dialect]["where"]))
            for index in orm.metadata.tables[table].indexes}


def _condition(condition) -> str | None:
    """A partial index's condition without PostgreSQL's parentheses and casts, so that both sides compare."""
    return None if condition is None else re.sub(r"[()]|::(character varying|[a-z]+)", "", str(condition))

"""Upgrading an installation applies the migrations and keeps its data."""
from __future__ import annotations

import pytest
from sqlalchemy import inspect, text

from workflows.adapters.database import make_engine
from workflows.adapters.migrate import upgrade

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

"""Migration 0017: process versions carry their agency; the versions deployed before become national."""
from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import inspect, text

from workflows.adapters.database import make_engine
from workflows.adapters.migrate import alembic_config, upgrade

pytestmark = pytest.mark.both_databases  # the database matters here: SQLite and PostgreSQL


def test_existing_versions_become_national_and_the_column_goes_again_on_downgrade(empty_database_url):
    engine = make_engine(empty_database_url)
    try:
        upgrade(engine, "0016")
        with engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO process_versions (process_key, version, name, bpmn_xml, file_name, checksum, deployed_by,"
                " deployed_at, decisions) VALUES ('item_1', 1, '查询', '<x/>', 'a.bpmn', 'c', 'sheji',"
                " '2026-11-23 09:00:00+00:00', '{}')"))
        upgrade(engine, "0017")
        with engine.connect() as connection:
            assert connection.execute(text("SELECT process_key, agency_code FROM process_versions")).all() == [
                ("item_1", None)]
        assert "ix_process_versions_key_agency" in {i["name"] for i in inspect(engine).get_indexes("process_versions")}

        with engine.begin() as connection:
            command.downgrade(alembic_config(connection), "0016")
        assert "agency_code" not in {c["name"] for c in inspect(engine).get_columns("process_versions")}
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM process_versions")).scalar() == 1
    finally:
        engine.dispose()

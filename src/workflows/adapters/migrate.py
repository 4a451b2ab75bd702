"""Brings a database's schema to the newest Alembic revision (never drops data)."""
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Engine

MIGRATIONS = Path(__file__).parent / "migrations"
_HAS_LZ4 = text("SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'")
# our text, jsonb and bytea columns (those PostgreSQL may compress) left at the default method, pglz
_DEFAULT_COMPRESSION = text(
    "SELECT c.relname, a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
    "WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r' AND a.attnum > 0 "
    "AND NOT a.attisdropped AND a.atttypid IN ('text'::regtype, 'jsonb'::regtype, 'bytea'::regtype) "
    "AND a.attcompression = ''")


def alembic_config(connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), revision)


def make_revision(engine: Engine, message: str) -> None:
    """Draft a migration from the difference between orm.metadata and the database (for developers)."""
    with engine.begin() as connection:
        command.revision(alembic_config(connection), message=message, autogenerate=True)


def compress_new_columns_with_lz4(*, ctx, step, heads, run_args) -> None:
    """After each upgrade step on PostgreSQL (env.py's on_version_apply): lz4 for the columns the step made, as
    migration 0051 set for those there were then, so that no migration has to say so (a catalog change only; a
    server without lz4 keeps pglz)."""
    connection, upgraded = ctx.connection, step.is_migration and step.is_upgrade
    if not upgraded or connection.dialect.name != "postgresql" or not connection.scalar(_HAS_LZ4):
        return
    for table, column in connection.execute(_DEFAULT_COMPRESSION).all():
        connection.exec_driver_sql(f'ALTER TABLE "{table}" ALTER COLUMN "{column}" SET COMPRESSION lz4')

"""Alembic environment: migrations run against the engine handed over in config.attributes; after each upgrade
step, PostgreSQL compresses the new text, jsonb and bytea columns with lz4 (migrate.compress_new_columns_with_lz4)."""
from alembic import context

from workflows.adapters.migrate import compress_new_columns_with_lz4
from workflows.adapters.orm import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True,
                  compare_type=True, on_version_apply=compress_new_columns_with_lz4)
with context.begin_transaction():
    context.run_migrations()

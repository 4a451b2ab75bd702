"""Alembic environment: migrations run against the engine handed over in config.attributes."""
from alembic import context

from workflows.adapters.orm import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True,
                  compare_type=True)
with context.begin_transaction():
    context.run_migrations()

"""PostgreSQL compresses the large values it stores (over ~2 kB: a case's workflow_state, 16 kB in the bench's flow,
written at every step; the 文书's fields and PDFs; attachments) with lz4 rather than its default pglz: pglz alone was
a quarter of the server's instructions per case of the bench's flow (callgrind on the backend: 17.7 M instructions
per case, 12.3 M with lz4), and lz4 reads back faster too. Values already stored stay as they are (both read
alike); a server built without lz4 (or before PostgreSQL 14) keeps pglz. SQLite: nothing to do.

Revision ID: 0051
Revises: 0047
"""
from alembic import op
import sqlalchemy as sa

revision = '0051'
down_revision = '0047'
branch_labels = None
depends_on = None

# Every column of ours PostgreSQL may compress: text, jsonb and bytea of the tables in the current schema
_COMPRESSIBLE = sa.text(
    "SELECT c.relname, a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
    "WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r' AND a.attnum > 0 "
    "AND NOT a.attisdropped AND a.atttypid IN ('text'::regtype, 'jsonb'::regtype, 'bytea'::regtype) "
    "ORDER BY c.relname, a.attnum")
_HAS_LZ4 = sa.text("SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'")


def upgrade() -> None:
    _set_compression("lz4")


def downgrade() -> None:
    _set_compression("default")


def _set_compression(method: str) -> None:
    """A change of the catalog only: no row is rewritten, the new method applies to the values written next."""
    bind = op.get_bind()
    if bind.dialect.name != "postgresql" or not bind.scalar(_HAS_LZ4):
        return
    for table, column in bind.execute(_COMPRESSIBLE).all():
        op.execute(f'ALTER TABLE "{table}" ALTER COLUMN "{column}" SET COMPRESSION {method}')

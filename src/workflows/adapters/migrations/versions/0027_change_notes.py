"""A change note with every published version: what the designer changed and why, shown in its history.

Revision ID: 0027
Revises: 0020
"""
from alembic import op
import sqlalchemy as sa

revision = '0027'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('process_versions') as table:
        table.add_column(sa.Column('change_note', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('process_versions') as table:
        table.drop_column('change_note')

"""The highest case id handed out with a day's number (SQLite): a case opened at the window takes its number and
its id in a short transaction of its own before its workflow runs, and writes its row only at its commit, so the
id must stay taken meanwhile (max(cases.id) + 1 alone would give it twice). PostgreSQL takes ids from the table's
sequence and leaves the column empty.

Revision ID: 0047
Revises: 0046
"""
from alembic import op
import sqlalchemy as sa

revision = '0047'
down_revision = '0046'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('case_sequences', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_case_id', sa.Integer(), nullable=True))
        batch_op.create_index('ix_case_sequences_last_case_id', ['last_case_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('case_sequences', schema=None) as batch_op:
        batch_op.drop_index('ix_case_sequences_last_case_id')
        batch_op.drop_column('last_case_id')

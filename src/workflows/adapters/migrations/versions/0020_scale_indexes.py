"""Scale: indexes on the open cases and running limits, and the running counts behind the statistics.

Revision ID: 0020
Revises: 0019
"""
from alembic import op
import sqlalchemy as sa

from workflows.adapters.statistics_counts import rebuild

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

OPEN_CASES = sa.text("status <> 'closed'")
RUNNING = sa.text("met_at IS NULL")


def upgrade() -> None:
    op.create_table('case_counts',
    sa.Column('agency_code', sa.String(length=20), nullable=False),
    sa.Column('hall_code', sa.String(length=40), nullable=False),
    sa.Column('item_code', sa.String(length=20), nullable=False),
    sa.Column('item_name', sa.String(length=200), nullable=False),
    sa.Column('week', sa.Date(), nullable=False),
    sa.Column('opened', sa.Integer(), nullable=False),
    sa.Column('closed', sa.Integer(), nullable=False),
    sa.Column('counted', sa.Integer(), nullable=False),
    sa.Column('on_time', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('agency_code', 'hall_code', 'item_code', 'item_name', 'week', name=op.f('pk_case_counts'))
    )
    op.create_table('task_counts',
    sa.Column('agency_code', sa.String(length=20), nullable=False),
    sa.Column('hall_code', sa.String(length=40), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('completed', sa.Integer(), nullable=False),
    sa.Column('on_time', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('agency_code', 'hall_code', 'username', name=op.f('pk_task_counts'))
    )
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index('ix_cases_open', ['agency_code', 'hall_code', 'stage'], unique=False,
                              postgresql_where=OPEN_CASES, sqlite_where=OPEN_CASES,
                              postgresql_include=['id', 'number', 'item_code', 'item_name'])
    with op.batch_alter_table('case_deadlines', schema=None) as batch_op:
        batch_op.create_index('ix_case_deadlines_case_id', ['case_id'], unique=False)
        batch_op.create_index('ix_case_deadlines_open_due_at', ['due_at'], unique=False,
                              postgresql_where=RUNNING, sqlite_where=RUNNING,
                              postgresql_include=['case_id', 'paused', 'warning_at'])
    # The counts start from what is there: every case and task so far, counted once.
    rebuild(op.get_bind())


def downgrade() -> None:
    with op.batch_alter_table('case_deadlines', schema=None) as batch_op:
        batch_op.drop_index('ix_case_deadlines_open_due_at')
        batch_op.drop_index('ix_case_deadlines_case_id')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_open')
    op.drop_table('task_counts')
    op.drop_table('case_counts')

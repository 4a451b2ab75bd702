"""Truthful states: the time-limit level a task had when it was completed (已办 shows it, not today's).

case_tasks.completed_level: normal | yellow | red | paused, set at completion; tasks completed before this
revision keep NULL (已办 then shows no level rather than a guessed one).

Revision ID: 0016
Revises: 0012
"""
from alembic import op
import sqlalchemy as sa

revision = '0016'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('case_tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('completed_level', sa.String(length=10), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('case_tasks', schema=None) as batch_op:
        batch_op.drop_column('completed_level')

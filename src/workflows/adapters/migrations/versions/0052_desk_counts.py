"""The 督办台 counts each list and pages the last two it cut (督办回复 at 100, 差评回访 at 200).

- ix_case_deadlines_at_risk: a hall's running, unpaused limits with their warning and due moments. The desk counts
  the limits past one of them (预警和超期的时限（N）); ix_case_deadlines_running_hall has no warning moment, so the
  count visited every running limit's row of the hall (the demo hall at a million cases on PostgreSQL: 11,864
  rows, 11,971 buffers, 9 ms); this index holds what the count tests: an index-only scan (2,823 buffers, 1.3 ms).
- ix_task_supervisions_unreplied: the hall's 督办 still waiting for a reply, newest first. The desk lists those
  first and counts them; the hall's index by created_at alone walked years of replied ones to find the few.

Revision ID: 0052
Revises: 0051
"""
from alembic import op
import sqlalchemy as sa

revision = '0052'
down_revision = '0051'
branch_labels = None
depends_on = None

RUNNING = {"postgresql_where": sa.text("met_at IS NULL AND paused = false AND due_at IS NOT NULL"),  # as in orm.py
           "sqlite_where": sa.text("met_at IS NULL AND paused = 0 AND due_at IS NOT NULL")}
UNREPLIED = {"postgresql_where": sa.text("replied_at IS NULL"), "sqlite_where": sa.text("replied_at IS NULL")}


def upgrade() -> None:
    op.create_index('ix_case_deadlines_at_risk', 'case_deadlines', ['agency_code', 'hall_code', 'warning_at', 'due_at'],
                    unique=False, **RUNNING)
    op.create_index('ix_task_supervisions_unreplied', 'task_supervisions',
                    ['agency_code', 'hall_code', 'created_at', 'id'], unique=False, **UNREPLIED)


def downgrade() -> None:
    op.drop_index('ix_task_supervisions_unreplied', table_name='task_supervisions')
    op.drop_index('ix_case_deadlines_at_risk', table_name='case_deadlines')

"""Fewer index entries per command on case_tasks and case_deadlines: the indexes no query reads are dropped, and
two are kept only for the rows their queries can find.

Every insert of a task or limit row, and on PostgreSQL every update of one (an indexed column changes, so no
update is HOT), writes an entry into each index whose condition the row meets. Which query reads which index was
taken from the plans of every statement the test suite sends on the two tables (PostgreSQL at a million cases,
SQLite on its own planner):

- ix_case_deadlines_case_id: the unique (case_id, kind) index begins with case_id and serves the same lookups.
- ix_case_deadlines_due_at, ix_case_deadlines_open_due_at: no statement reads them; the running limits by due
  moment are read from ix_case_deadlines_running_hall, _at_risk and _uncounted, which hold a hall's or the round's.
- ix_case_deadlines_provisional: no statement filters on provisional.
- ix_case_tasks_inbox: the inbox reads the hall's open tasks in its order from ix_case_tasks_ready, and a hall's
  tasks of one state from ix_case_tasks_stages.
- ix_case_tasks_assignee, ix_case_tasks_completed_by: read only for one person's tasks (assignee = x, completed_by
  = x), never for the rows without one: now partial, without the unclaimed tasks' and the open tasks' entries.

Revision ID: 0056
Revises: 0055
"""
from alembic import op
import sqlalchemy as sa

revision = '0056'
down_revision = '0055'
branch_labels = None
depends_on = None

ASSIGNED = sa.text("assignee IS NOT NULL")  # as in orm.py
COMPLETED_BY = sa.text("completed_by IS NOT NULL")
RUNNING = sa.text("met_at IS NULL")  # as migration 0020 made it


def upgrade() -> None:
    for name in ('ix_case_deadlines_case_id', 'ix_case_deadlines_due_at', 'ix_case_deadlines_open_due_at',
                 'ix_case_deadlines_provisional'):
        op.drop_index(name, table_name='case_deadlines')
    for name in ('ix_case_tasks_inbox', 'ix_case_tasks_assignee', 'ix_case_tasks_completed_by'):
        op.drop_index(name, table_name='case_tasks')
    op.create_index('ix_case_tasks_assignee', 'case_tasks', ['assignee', 'state', 'due_at'],
                    postgresql_where=ASSIGNED, sqlite_where=ASSIGNED)
    op.create_index('ix_case_tasks_completed_by', 'case_tasks', ['completed_by', 'completed_at'],
                    postgresql_where=COMPLETED_BY, sqlite_where=COMPLETED_BY)


def downgrade() -> None:
    op.drop_index('ix_case_tasks_completed_by', table_name='case_tasks')
    op.drop_index('ix_case_tasks_assignee', table_name='case_tasks')
    op.create_index('ix_case_tasks_completed_by', 'case_tasks', ['completed_by', 'completed_at'])
    op.create_index('ix_case_tasks_assignee', 'case_tasks', ['assignee', 'state', 'due_at'])
    op.create_index('ix_case_tasks_inbox', 'case_tasks', ['agency_code', 'hall_code', 'role', 'state', 'due_at'])
    op.create_index('ix_case_deadlines_provisional', 'case_deadlines', ['provisional'])
    op.create_index('ix_case_deadlines_open_due_at', 'case_deadlines', ['due_at'], postgresql_where=RUNNING,
                    sqlite_where=RUNNING, postgresql_include=['case_id', 'paused', 'warning_at'])
    op.create_index('ix_case_deadlines_due_at', 'case_deadlines', ['due_at'])
    op.create_index('ix_case_deadlines_case_id', 'case_deadlines', ['case_id'])

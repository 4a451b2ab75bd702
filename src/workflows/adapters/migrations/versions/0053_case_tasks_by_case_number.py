"""A case's tasks by its number: ix_case_tasks_case_number.

The Camunda REST API's GET /engine-rest/task?processInstanceId=<办件编号> (and the inbox's filter by case number)
names the case by its number, which case_tasks holds beside case_id; without an index on it the query walked the
hall's open tasks (ix_case_tasks_ready) and filtered them, thousands of rows of a busy hall for the few of one case.

Revision ID: 0053
Revises: 0052
"""
from alembic import op

revision = '0053'
down_revision = '0052'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_case_tasks_case_number', 'case_tasks', ['case_number'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_case_tasks_case_number', table_name='case_tasks')

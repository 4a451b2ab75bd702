"""Task assignment as the diagram gives it: camunda:priority, candidateUsers, dueDate and followUpDate of a task.

Revision ID: 0025
Revises: 0024
"""
from alembic import op
import sqlalchemy as sa

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('case_tasks') as batch:
        batch.add_column(sa.Column('priority', sa.Integer(), nullable=False, server_default='50'))
        batch.add_column(sa.Column('candidate_users', sa.String(length=1000), nullable=True))
        batch.add_column(sa.Column('due_date', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('follow_up_date', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('case_tasks') as batch:
        batch.drop_column('follow_up_date')
        batch.drop_column('due_date')
        batch.drop_column('candidate_users')
        batch.drop_column('priority')

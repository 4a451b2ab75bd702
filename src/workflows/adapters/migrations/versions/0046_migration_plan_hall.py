"""The hall a migration plan's approval covers (issue 13): a 科室负责人 answers for the cases of their own hall, so
a designer's plan approved by one moves that hall's cases only. Plans approved before (and administrators') keep
none: every hall.

Revision ID: 0046
Revises: 0043
"""
from alembic import op
import sqlalchemy as sa

revision = '0046'
down_revision = '0043'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('case_migration_plans', schema=None) as batch_op:
        batch_op.add_column(sa.Column('approved_hall', sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('case_migration_plans', schema=None) as batch_op:
        batch_op.drop_column('approved_hall')

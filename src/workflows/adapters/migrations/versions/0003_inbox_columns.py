"""Inbox columns: each task carries its case's warning moment and applicant's name, for sorting and search.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 12:07:40.343311
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('case_tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('warning_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('applicant_name', sa.String(length=200), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('case_tasks', schema=None) as batch_op:
        batch_op.drop_column('applicant_name')
        batch_op.drop_column('warning_at')


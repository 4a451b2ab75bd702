"""Saved inbox filters (我的筛选 / 本大厅共享的筛选): a clerk's named filters, optionally shared with the hall.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 12:57:58.030494
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('saved_filters',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('agency_code', sa.String(length=20), nullable=False),
    sa.Column('hall_code', sa.String(length=40), nullable=False),
    sa.Column('owner', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('query', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('shared', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_saved_filters')),
    sa.UniqueConstraint('owner', 'name', name=op.f('uq_saved_filters_owner_name'))
    )
    with op.batch_alter_table('saved_filters', schema=None) as batch_op:
        batch_op.create_index('ix_saved_filters_agency_code_hall_code_shared', ['agency_code', 'hall_code', 'shared'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('saved_filters', schema=None) as batch_op:
        batch_op.drop_index('ix_saved_filters_agency_code_hall_code_shared')

    op.drop_table('saved_filters')

"""Case materials (申请材料核对): each material of a case marked present, missing or waived (容缺) on the task page.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 12:57:48.941912
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('case_materials',
    sa.Column('case_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('material_index', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('marked_by', sa.String(length=64), nullable=False),
    sa.Column('marked_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('present', 'missing', 'waived')", name=op.f('ck_case_materials_status_known')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_materials_case_id_cases')),
    sa.PrimaryKeyConstraint('case_id', 'material_index', name=op.f('pk_case_materials'))
    )


def downgrade() -> None:
    op.drop_table('case_materials')

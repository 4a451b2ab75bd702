"""Acceptance: 容缺受理 commitments, 告知承诺 materials, 委托办理 agents.

case_waivers: one row per 容缺受理 (the clerk accepted with materials waived and the applicant signed the
《容缺承诺书》): which materials, who accepted, and when they were all supplied. case_materials may now be marked
`committed` (告知承诺: a signed 个人承诺书 replaces a certificate). The agent of a 委托办理 needs no table: it is part
of the case's applicant (JSON).

Revision ID: 0012
Revises: 0011
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

STATUSES_BEFORE = "status IN ('present', 'missing', 'waived')"
STATUSES_AFTER = "status IN ('present', 'missing', 'waived', 'committed')"


def _material_statuses(condition: str) -> None:
    with op.batch_alter_table('case_materials', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_case_materials_status_known'), type_='check')
        batch_op.create_check_constraint(op.f('ck_case_materials_status_known'), condition)


def upgrade() -> None:
    op.create_table('case_waivers',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('case_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('materials', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'),
              nullable=False),
    sa.Column('accepted_by', sa.String(length=64), nullable=False),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('supplied_by', sa.String(length=64), nullable=True),
    sa.Column('supplied_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_waivers_case_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_waivers'))
    )
    with op.batch_alter_table('case_waivers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_waivers_case_id'), ['case_id'], unique=False)
    _material_statuses(STATUSES_AFTER)


def downgrade() -> None:
    op.execute("UPDATE case_materials SET status = 'missing' WHERE status = 'committed'")
    _material_statuses(STATUSES_BEFORE)
    with op.batch_alter_table('case_waivers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_waivers_case_id'))
    op.drop_table('case_waivers')

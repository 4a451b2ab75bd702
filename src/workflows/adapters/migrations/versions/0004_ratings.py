"""Ratings (好差评): the applicant's rating of a completed case, once per case.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 12:13:31.957810
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ratings',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('case_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=20), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('rated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('score BETWEEN 1 AND 5', name=op.f('ck_ratings_score_range')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_ratings_case_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ratings')),
    sa.UniqueConstraint('case_id', name=op.f('uq_ratings_case_id'))
    )


def downgrade() -> None:
    op.drop_table('ratings')

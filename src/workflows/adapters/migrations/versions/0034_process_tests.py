"""A designer's tests of a process, saved with it and run at every publish (issue 13).

Revision ID: 0034
Revises: 0021
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0034'
down_revision = '0030'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.create_table('process_tests',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('process_key', sa.String(length=100), nullable=False),
    sa.Column('agency_code', sa.String(length=20), nullable=True),
    sa.Column('document', JSON, nullable=False),
    sa.Column('saved_by', sa.String(length=64), nullable=False),
    sa.Column('saved_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_process_tests'))
    )
    with op.batch_alter_table('process_tests', schema=None) as batch_op:
        batch_op.create_index('ix_process_tests_process_key_agency_code', ['process_key', 'agency_code'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('process_tests', schema=None) as batch_op:
        batch_op.drop_index('ix_process_tests_process_key_agency_code')
    op.drop_table('process_tests')

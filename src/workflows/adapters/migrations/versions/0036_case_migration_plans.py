"""Plans to migrate running cases to another version of their process, with their approval (issue 13).

Revision ID: 0036
Revises: 0034
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0036'
down_revision = '0034'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.create_table('case_migration_plans',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('agency_code', sa.String(length=20), nullable=False),
    sa.Column('process_key', sa.String(length=100), nullable=False),
    sa.Column('source_version_id', ID, nullable=False),
    sa.Column('target_version_id', ID, nullable=False),
    sa.Column('mapping', JSON, nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('requested_by', sa.String(length=64), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('approved_by', sa.String(length=64), nullable=True),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['source_version_id'], ['process_versions.id'],
                            name=op.f('fk_case_migration_plans_source_version_id_process_versions')),
    sa.ForeignKeyConstraint(['target_version_id'], ['process_versions.id'],
                            name=op.f('fk_case_migration_plans_target_version_id_process_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_migration_plans'))
    )
    with op.batch_alter_table('case_migration_plans', schema=None) as batch_op:
        batch_op.create_index('ix_case_migration_plans_agency_code', ['agency_code'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('case_migration_plans', schema=None) as batch_op:
        batch_op.drop_index('ix_case_migration_plans_agency_code')
    op.drop_table('case_migration_plans')

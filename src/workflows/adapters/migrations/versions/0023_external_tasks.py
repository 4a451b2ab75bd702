"""External tasks: the service tasks cases wait on for an agency's workers, with their locks.

Revision ID: 0023
Revises: 0025
"""
from alembic import op
import sqlalchemy as sa

revision = '0023'
down_revision = '0025'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    moment = sa.DateTime(timezone=True)
    op.create_table('external_tasks',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('case_id', ID, nullable=False),
    sa.Column('case_number', sa.String(length=40), nullable=False),
    sa.Column('agency_code', sa.String(length=20), nullable=False),
    sa.Column('process_key', sa.String(length=100), nullable=False),
    sa.Column('process_version_id', ID, nullable=False),
    sa.Column('activity_id', sa.String(length=100), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('topic', sa.String(length=100), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('worker_id', sa.String(length=200), nullable=True),
    sa.Column('lock_expires_at', moment, nullable=True),
    sa.Column('retries', sa.Integer(), nullable=True),
    sa.Column('retry_at', moment, nullable=True),
    sa.Column('error_message', sa.Text(), nullable=True),
    sa.Column('error_details', sa.Text(), nullable=True),
    sa.Column('created_at', moment, nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_external_tasks_case_id_cases')),
    sa.ForeignKeyConstraint(['process_version_id'], ['process_versions.id'],
                            name=op.f('fk_external_tasks_process_version_id_process_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_external_tasks'))
    )
    with op.batch_alter_table('external_tasks', schema=None) as batch_op:
        batch_op.create_index('ix_external_tasks_agency_code_topic', ['agency_code', 'topic'], unique=False)
        batch_op.create_index(batch_op.f('ix_external_tasks_case_id'), ['case_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('external_tasks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_external_tasks_case_id'))
        batch_op.drop_index('ix_external_tasks_agency_code_topic')
    op.drop_table('external_tasks')

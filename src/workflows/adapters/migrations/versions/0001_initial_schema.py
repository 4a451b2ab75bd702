"""Initial schema: catalog, process versions, cases with their tasks and history, users, outside calls.

Revision ID: 0001
Revises: 
Create Date: 2026-11-23 10:58:03.924487
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('case_sequences',
    sa.Column('agency_code', sa.String(length=20), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('last_value', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('agency_code', 'day', name=op.f('pk_case_sequences'))
    )
    op.create_table('catalog_documents',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('content', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('loaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_catalog_documents'))
    )
    op.create_table('local_platform_people',
    sa.Column('id_number', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('status', sa.String(length=40), nullable=False),
    sa.Column('arrears', sa.String(length=20), nullable=False),
    sa.Column('account_balance', sa.String(length=20), nullable=False),
    sa.Column('insured_since', sa.String(length=10), nullable=True),
    sa.Column('suspended', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id_number', name=op.f('pk_local_platform_people'))
    )
    op.create_table('process_versions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('process_key', sa.String(length=100), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('bpmn_xml', sa.Text(), nullable=False),
    sa.Column('file_name', sa.String(length=200), nullable=False),
    sa.Column('checksum', sa.String(length=64), nullable=False),
    sa.Column('deployed_by', sa.String(length=64), nullable=False),
    sa.Column('deployed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_process_versions')),
    sa.UniqueConstraint('process_key', 'version', name=op.f('uq_process_versions_process_key_version'))
    )
    op.create_table('users',
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('full_name', sa.String(length=100), nullable=False),
    sa.Column('password_hash', sa.String(length=256), nullable=False),
    sa.Column('agency_code', sa.String(length=20), nullable=False),
    sa.Column('hall_code', sa.String(length=40), nullable=False),
    sa.Column('roles', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.PrimaryKeyConstraint('username', name=op.f('pk_users'))
    )
    op.create_table('cases',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('agency_code', sa.String(length=20), nullable=False),
    sa.Column('hall_code', sa.String(length=40), nullable=False),
    sa.Column('item_code', sa.String(length=20), nullable=False),
    sa.Column('item_name', sa.String(length=200), nullable=False),
    sa.Column('process_version_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('stage', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('result', sa.String(length=40), nullable=True),
    sa.Column('applicant', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('data', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('workflow_state', sa.Text(), nullable=False),
    sa.Column('opened_by', sa.String(length=64), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('row_version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['process_version_id'], ['process_versions.id'], name=op.f('fk_cases_process_version_id_process_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cases')),
    sa.UniqueConstraint('number', name=op.f('uq_cases_number'))
    )
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index('ix_cases_agency_hall_status', ['agency_code', 'hall_code', 'status'], unique=False)
        batch_op.create_index('ix_cases_item_code', ['item_code'], unique=False)

    op.create_table('case_history',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('case_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('stage', sa.String(length=40), nullable=True),
    sa.Column('task_name', sa.String(length=200), nullable=True),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('detail', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_history_case_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_history'))
    )
    with op.batch_alter_table('case_history', schema=None) as batch_op:
        batch_op.create_index('ix_case_history_case_id_id', ['case_id', 'id'], unique=False)

    op.create_table('case_tasks',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('case_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('case_number', sa.String(length=40), nullable=False),
    sa.Column('agency_code', sa.String(length=20), nullable=False),
    sa.Column('hall_code', sa.String(length=40), nullable=False),
    sa.Column('item_code', sa.String(length=20), nullable=False),
    sa.Column('item_name', sa.String(length=200), nullable=False),
    sa.Column('spec_id', sa.String(length=100), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('stage', sa.String(length=40), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('assignee', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('completed_by', sa.String(length=64), nullable=True),
    sa.Column('decision', sa.String(length=40), nullable=True),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_tasks_case_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_tasks'))
    )
    with op.batch_alter_table('case_tasks', schema=None) as batch_op:
        batch_op.create_index('ix_case_tasks_assignee', ['assignee', 'state', 'due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_tasks_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_case_tasks_completed_by', ['completed_by', 'completed_at'], unique=False)
        batch_op.create_index('ix_case_tasks_inbox', ['agency_code', 'hall_code', 'role', 'state', 'due_at'], unique=False)

    op.create_table('external_calls',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('case_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('system', sa.String(length=40), nullable=False),
    sa.Column('operation', sa.String(length=40), nullable=False),
    sa.Column('request', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('response', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_external_calls_case_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_external_calls'))
    )
    with op.batch_alter_table('external_calls', schema=None) as batch_op:
        batch_op.create_index('ix_external_calls_case_id', ['case_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('external_calls', schema=None) as batch_op:
        batch_op.drop_index('ix_external_calls_case_id')

    op.drop_table('external_calls')
    with op.batch_alter_table('case_tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_case_tasks_inbox')
        batch_op.drop_index('ix_case_tasks_completed_by')
        batch_op.drop_index(batch_op.f('ix_case_tasks_case_id'))
        batch_op.drop_index('ix_case_tasks_assignee')

    op.drop_table('case_tasks')
    with op.batch_alter_table('case_history', schema=None) as batch_op:
        batch_op.drop_index('ix_case_history_case_id_id')

    op.drop_table('case_history')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_item_code')
        batch_op.drop_index('ix_cases_agency_hall_status')

    op.drop_table('cases')
    op.drop_table('users')
    op.drop_table('process_versions')
    op.drop_table('local_platform_people')
    op.drop_table('catalog_documents')
    op.drop_table('case_sequences')

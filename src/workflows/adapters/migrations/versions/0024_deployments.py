"""Deployments of several files, and the messages open cases wait for.

A deployment holds BPMN and DMN files deployed together; each process of it is a version pointing at it and
carrying the other BPMN files its call activities reach (so a running case keeps the processes it calls while
designers deploy new ones). Versions deployed before point at none and call nothing in other files.
case_message_waits indexes the messages each open case waits for, with the values of their correlation
properties, so that a message posted for an agency finds its one case. Cases waiting before this migration are
indexed again by their next command.

Revision ID: 0024
Revises: 0027
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0024'
down_revision = '0027'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('deployments',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('agency_code', sa.String(length=20), nullable=True),
    sa.Column('deployed_by', sa.String(length=64), nullable=False),
    sa.Column('deployed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('files', JSON, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deployments'))
    )
    with op.batch_alter_table('process_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deployment_id', ID, nullable=True))
        batch_op.add_column(sa.Column('called_files', JSON, nullable=False, server_default='{}'))
    op.create_table('case_message_waits',
    sa.Column('case_id', ID, nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('agency_code', sa.String(length=20), nullable=False),
    sa.Column('message_name', sa.String(length=100), nullable=False),
    sa.Column('correlation', JSON, nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_message_waits_case_id_cases')),
    sa.PrimaryKeyConstraint('case_id', 'position', name=op.f('pk_case_message_waits'))
    )
    with op.batch_alter_table('case_message_waits', schema=None) as batch_op:
        batch_op.create_index('ix_case_message_waits_agency_message', ['agency_code', 'message_name'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('case_message_waits', schema=None) as batch_op:
        batch_op.drop_index('ix_case_message_waits_agency_message')
    op.drop_table('case_message_waits')
    with op.batch_alter_table('process_versions', schema=None) as batch_op:
        batch_op.drop_column('called_files')
        batch_op.drop_column('deployment_id')
    op.drop_table('deployments')

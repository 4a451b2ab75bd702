"""The signals open cases wait for.

case_signal_waits indexes, per agency, the signals each open case waits for (a signal catch event, a boundary
event, an event-based gateway's signal, the start of a signal event sub-process), so that a signal thrown by a
case or sent through the API reaches every case of the agency waiting for it without loading the others. Cases
waiting before this migration are indexed again by their next command.

Revision ID: 0039
Revises: 0034
"""
from alembic import op
import sqlalchemy as sa

revision = '0039'
down_revision = '0036'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('case_signal_waits',
    sa.Column('case_id', ID, nullable=False),
    sa.Column('signal_name', sa.String(length=100), nullable=False),
    sa.Column('agency_code', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_signal_waits_case_id_cases')),
    sa.PrimaryKeyConstraint('case_id', 'signal_name', name=op.f('pk_case_signal_waits'))
    )
    with op.batch_alter_table('case_signal_waits', schema=None) as batch_op:
        batch_op.create_index('ix_case_signal_waits_agency_signal', ['agency_code', 'signal_name'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('case_signal_waits', schema=None) as batch_op:
        batch_op.drop_index('ix_case_signal_waits_agency_signal')
    op.drop_table('case_signal_waits')

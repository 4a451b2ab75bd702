"""The cases a signal broadcast has reached.

signal_deliveries holds, per outbox entry of a signal broadcast, each case that caught the signal, written in the
transaction of that case's catch: when the broadcast fails half-way and the outbox retries it, the cases that
already caught it are skipped (a non-interrupting catch would otherwise fire twice). The rows go when the entry is
done.

Revision ID: 0045
Revises: 0039
"""
from alembic import op
import sqlalchemy as sa

revision = '0045'
down_revision = '0039'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('signal_deliveries',
    sa.Column('outbox_id', ID, nullable=False),
    sa.Column('case_id', ID, nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_signal_deliveries_case_id_cases')),
    sa.ForeignKeyConstraint(['outbox_id'], ['outbox.id'], name=op.f('fk_signal_deliveries_outbox_id_outbox')),
    sa.PrimaryKeyConstraint('outbox_id', 'case_id', name=op.f('pk_signal_deliveries'))
    )


def downgrade() -> None:
    op.drop_table('signal_deliveries')

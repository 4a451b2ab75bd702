"""Messages between agencies (转移接续) and follow-ups of bad ratings (差评回访).

Revision ID: 0011
Revises: 0010
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.create_table('agency_messages',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('from_agency', sa.String(length=20), nullable=False),
    sa.Column('to_agency', sa.String(length=20), nullable=False),
    sa.Column('correlation', sa.String(length=40), nullable=False),
    sa.Column('payload', JSON, nullable=False),
    sa.Column('source_case_id', ID, nullable=True),
    sa.Column('target_case_id', ID, nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'delivered', 'failed', 'outbound', 'sent')",
                       name=op.f('ck_agency_messages_status_known')),
    sa.ForeignKeyConstraint(['source_case_id'], ['cases.id'], name=op.f('fk_agency_messages_source_case_id_cases')),
    sa.ForeignKeyConstraint(['target_case_id'], ['cases.id'], name=op.f('fk_agency_messages_target_case_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agency_messages'))
    )
    with op.batch_alter_table('agency_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agency_messages_source_case_id'), ['source_case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_agency_messages_target_case_id'), ['target_case_id'], unique=False)
        batch_op.create_index('ix_agency_messages_status_created_at', ['status', 'created_at'], unique=False)
        batch_op.create_index('ix_agency_messages_correlation', ['correlation'], unique=False)

    op.create_table('rating_followups',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('case_id', ID, nullable=False),
    sa.Column('case_number', sa.String(length=40), nullable=False),
    sa.Column('agency_code', sa.String(length=20), nullable=False),
    sa.Column('hall_code', sa.String(length=40), nullable=False),
    sa.Column('item_name', sa.String(length=200), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('rating_label', sa.String(length=20), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('warning_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('visit_note', sa.Text(), nullable=True),
    sa.Column('remedy', sa.Text(), nullable=True),
    sa.Column('recorded_by', sa.String(length=64), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('open', 'done')", name=op.f('ck_rating_followups_status_known')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_rating_followups_case_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rating_followups')),
    sa.UniqueConstraint('case_id', name=op.f('uq_rating_followups_case_id'))
    )
    with op.batch_alter_table('rating_followups', schema=None) as batch_op:
        batch_op.create_index('ix_rating_followups_desk', ['agency_code', 'hall_code', 'status', 'due_at'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('rating_followups', schema=None) as batch_op:
        batch_op.drop_index('ix_rating_followups_desk')
    op.drop_table('rating_followups')

    with op.batch_alter_table('agency_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_agency_messages_correlation')
        batch_op.drop_index('ix_agency_messages_status_created_at')
        batch_op.drop_index(batch_op.f('ix_agency_messages_target_case_id'))
        batch_op.drop_index(batch_op.f('ix_agency_messages_source_case_id'))
    op.drop_table('agency_messages')

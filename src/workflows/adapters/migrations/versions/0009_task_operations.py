"""Task operations: 委派 and 加签 requests, held submissions (后加签/并行), 督办 with replies, out-of-office substitutes.

Revision ID: 0009
Revises: 0008
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.create_table('task_requests',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('task_id', sa.String(length=36), nullable=False),
    sa.Column('case_id', ID, nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('requested_by', sa.String(length=64), nullable=False),
    sa.Column('assignee', sa.String(length=64), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('substitute_note', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('decision', sa.String(length=20), nullable=True),
    sa.Column('opinion', sa.Text(), nullable=True),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('withdrawn_by', sa.String(length=64), nullable=True),
    sa.CheckConstraint("kind IN ('delegate', 'before', 'after', 'parallel')",
                       name=op.f('ck_task_requests_kind_known')),
    sa.CheckConstraint("status IN ('pending', 'done', 'withdrawn')", name=op.f('ck_task_requests_status_known')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_task_requests_case_id_cases')),
    sa.ForeignKeyConstraint(['task_id'], ['case_tasks.id'], name=op.f('fk_task_requests_task_id_case_tasks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_task_requests'))
    )
    with op.batch_alter_table('task_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_task_requests_task_id'), ['task_id'], unique=False)
        batch_op.create_index('ix_task_requests_assignee_status', ['assignee', 'status'], unique=False)

    op.create_table('task_submissions',
    sa.Column('task_id', sa.String(length=36), nullable=False),
    sa.Column('case_id', ID, nullable=False),
    sa.Column('submitted_by', sa.String(length=64), nullable=False),
    sa.Column('data', JSON, nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_task_submissions_case_id_cases')),
    sa.ForeignKeyConstraint(['task_id'], ['case_tasks.id'], name=op.f('fk_task_submissions_task_id_case_tasks')),
    sa.PrimaryKeyConstraint('task_id', name=op.f('pk_task_submissions'))
    )

    op.create_table('task_supervisions',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('task_id', sa.String(length=36), nullable=False),
    sa.Column('case_id', ID, nullable=False),
    sa.Column('case_number', sa.String(length=40), nullable=False),
    sa.Column('agency_code', sa.String(length=20), nullable=False),
    sa.Column('hall_code', sa.String(length=40), nullable=False),
    sa.Column('supervisor', sa.String(length=64), nullable=False),
    sa.Column('instruction', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reply', sa.Text(), nullable=True),
    sa.Column('replied_by', sa.String(length=64), nullable=True),
    sa.Column('replied_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_task_supervisions_case_id_cases')),
    sa.ForeignKeyConstraint(['task_id'], ['case_tasks.id'], name=op.f('fk_task_supervisions_task_id_case_tasks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_task_supervisions'))
    )
    with op.batch_alter_table('task_supervisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_task_supervisions_task_id'), ['task_id'], unique=False)
        batch_op.create_index('ix_task_supervisions_agency_code_hall_code_created_at',
                              ['agency_code', 'hall_code', 'created_at'], unique=False)

    op.create_table('substitutions',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('substitute', sa.String(length=64), nullable=False),
    sa.Column('agency_code', sa.String(length=20), nullable=False),
    sa.Column('hall_code', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('starts_at <= ends_at', name=op.f('ck_substitutions_period_ordered')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_substitutions'))
    )
    with op.batch_alter_table('substitutions', schema=None) as batch_op:
        batch_op.create_index('ix_substitutions_username_ends_at', ['username', 'ends_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_substitutions_substitute'), ['substitute'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('substitutions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_substitutions_substitute'))
        batch_op.drop_index('ix_substitutions_username_ends_at')
    op.drop_table('substitutions')
    with op.batch_alter_table('task_supervisions', schema=None) as batch_op:
        batch_op.drop_index('ix_task_supervisions_agency_code_hall_code_created_at')
        batch_op.drop_index(batch_op.f('ix_task_supervisions_task_id'))
    op.drop_table('task_supervisions')
    op.drop_table('task_submissions')
    with op.batch_alter_table('task_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_task_requests_assignee_status')
        batch_op.drop_index(batch_op.f('ix_task_requests_task_id'))
    op.drop_table('task_requests')

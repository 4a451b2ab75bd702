"""The desk and the statistics at a million cases: partial indexes on the open rows the supervisor's pages read.

- ix_escalations_open: the hall's open escalations in the desk's order (level, raised_at, id), so a page of 50 reads
  50 index entries, not every escalation the hall ever had.
- ix_cases_open_id: the open cases by id, with what the desk and the statistics show of them: a running limit's
  case is checked (hall, item) without touching the wide case rows, and closed cases are not in it.
- ix_case_pauses_open, ix_extension_requests_requested: the few open pauses and requests to decide.
- ix_case_counts_week: the weekly counts of an agency without reading every week it ever had.
- open_case_counts: the open cases per hall and stage (the statistics' backlog), kept at every commit like
  case_counts, instead of counting the open cases on every look; counted once here from what is there.

Revision ID: 0026
Revises: 0023
"""
from alembic import op
import sqlalchemy as sa

revision = '0026'
down_revision = '0023'
branch_labels = None
depends_on = None

OPEN_ESCALATIONS = sa.text("status = 'open'")
OPEN_CASES = sa.text("status <> 'closed'")
OPEN_PAUSES = sa.text("ended_at IS NULL")
REQUESTED = sa.text("status = 'requested'")


def upgrade() -> None:
    op.create_table('open_case_counts',
    sa.Column('agency_code', sa.String(length=20), nullable=False),
    sa.Column('hall_code', sa.String(length=40), nullable=False),
    sa.Column('stage', sa.String(length=40), nullable=False),
    sa.Column('open', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('agency_code', 'hall_code', 'stage', name=op.f('pk_open_case_counts'))
    )
    op.execute("INSERT INTO open_case_counts (agency_code, hall_code, stage, open) "
               "SELECT agency_code, hall_code, stage, count(*) FROM cases WHERE status <> 'closed' "
               "GROUP BY agency_code, hall_code, stage")
    with op.batch_alter_table('escalations', schema=None) as batch_op:
        batch_op.create_index('ix_escalations_open', ['agency_code', 'hall_code', 'level', 'raised_at', 'id'],
                              unique=False, postgresql_where=OPEN_ESCALATIONS, sqlite_where=OPEN_ESCALATIONS)
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index('ix_cases_open_id', ['id'], unique=False, postgresql_where=OPEN_CASES,
                              sqlite_where=OPEN_CASES, postgresql_include=['agency_code', 'hall_code', 'item_code',
                                                                           'item_name', 'number', 'stage'])
    with op.batch_alter_table('case_pauses', schema=None) as batch_op:
        batch_op.create_index('ix_case_pauses_open', ['case_id'], unique=False, postgresql_where=OPEN_PAUSES,
                              sqlite_where=OPEN_PAUSES, postgresql_include=['kind'])
    with op.batch_alter_table('extension_requests', schema=None) as batch_op:
        batch_op.create_index('ix_extension_requests_requested', ['case_id'], unique=False,
                              postgresql_where=REQUESTED, sqlite_where=REQUESTED)
    with op.batch_alter_table('case_counts', schema=None) as batch_op:
        batch_op.create_index('ix_case_counts_week', ['agency_code', 'week'], unique=False)


def downgrade() -> None:
    op.drop_table('open_case_counts')
    with op.batch_alter_table('case_counts', schema=None) as batch_op:
        batch_op.drop_index('ix_case_counts_week')
    with op.batch_alter_table('extension_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_extension_requests_requested')
    with op.batch_alter_table('case_pauses', schema=None) as batch_op:
        batch_op.drop_index('ix_case_pauses_open')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_open_id')
    with op.batch_alter_table('escalations', schema=None) as batch_op:
        batch_op.drop_index('ix_escalations_open')

"""The statistics' overdue figures kept as counts: overdue_counts and the limit's overdue mark.

The 统计 page counted, at every look, the agency's running limits already past due (index-only, but ~12,700 entries
of one agency at a million cases, and growing with the backlog). Overdue changes with the clock, not only with
commands, so the count is kept in two halves:

- case_deadlines.overdue: a running limit past its due moment, counted. The scheduler's round marks the limits that
  came due since it last looked (ix_case_deadlines_uncounted: the running limits not marked, by due moment; the
  round reads only those past due, a few per second), each once (a conditional update, under the case's lock:
  SKIP LOCKED on PostgreSQL, so two schedulers share the work); a command that meets, pauses, resumes or moves a
  limit clears its mark (the round marks it again if it is still past due). ix_case_deadlines_counted: the marked
  ones by case (whether a case is counted already: a probe, not a scan of the two million limits).
- overdue_counts: per agency, hall and item, the open cases with at least one marked limit.

The page reads the counts plus the few limits past due the round has not reached yet (the same index), so its
figures are exact at any moment. Here every running limit already past due is marked and the counts filled, and
ix_case_deadlines_running_agency, which only the per-look count read, is dropped (one index less to write).

Revision ID: 0043
Revises: 0045
"""
from alembic import op
import sqlalchemy as sa

revision = '0043'
down_revision = '0045'
branch_labels = None
depends_on = None

RUNNING = {"postgresql_where": sa.text("met_at IS NULL AND paused = false AND due_at IS NOT NULL"),  # as in orm.py
           "sqlite_where": sa.text("met_at IS NULL AND paused = 0 AND due_at IS NOT NULL")}
UNCOUNTED = {"postgresql_where": sa.text("met_at IS NULL AND paused = false AND due_at IS NOT NULL AND overdue = false"),
             "sqlite_where": sa.text("met_at IS NULL AND paused = 0 AND due_at IS NOT NULL AND overdue = 0")}
COUNTED = {"postgresql_where": sa.text("overdue"), "sqlite_where": sa.text("overdue")}


def upgrade() -> None:
    op.create_table('overdue_counts',
    sa.Column('agency_code', sa.String(length=20), nullable=False),
    sa.Column('hall_code', sa.String(length=40), nullable=False),
    sa.Column('item_code', sa.String(length=20), nullable=False),
    sa.Column('overdue', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('agency_code', 'hall_code', 'item_code', name=op.f('pk_overdue_counts'))
    )
    with op.batch_alter_table('case_deadlines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('overdue', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.execute(sa.text("UPDATE case_deadlines SET overdue = :yes WHERE met_at IS NULL AND paused = :no "
                       "AND due_at < CURRENT_TIMESTAMP").bindparams(yes=True, no=False))
    op.execute("INSERT INTO overdue_counts (agency_code, hall_code, item_code, overdue) "
               "SELECT agency_code, hall_code, item_code, count(DISTINCT case_id) FROM case_deadlines "
               "WHERE overdue GROUP BY agency_code, hall_code, item_code")
    with op.batch_alter_table('case_deadlines', schema=None) as batch_op:
        batch_op.create_index('ix_case_deadlines_uncounted', ['due_at'], unique=False,
                              postgresql_include=['agency_code', 'hall_code', 'item_code', 'case_id'], **UNCOUNTED)
        batch_op.create_index('ix_case_deadlines_counted', ['case_id'], unique=False, **COUNTED)
        batch_op.drop_index('ix_case_deadlines_running_agency')


def downgrade() -> None:
    with op.batch_alter_table('case_deadlines', schema=None) as batch_op:
        batch_op.create_index('ix_case_deadlines_running_agency', ['agency_code', 'due_at'], unique=False,
                              postgresql_include=['hall_code', 'item_code', 'case_id'], **RUNNING)
        batch_op.drop_index('ix_case_deadlines_counted')
        batch_op.drop_index('ix_case_deadlines_uncounted')
        batch_op.drop_column('overdue')
    op.drop_table('overdue_counts')

"""The desk and the statistics at a million cases: a limit carries its case's agency, hall and item.

The statistics' overdue counts and 50 longest-overdue cases, and the desk's limits at risk, read running limits of
one agency or hall. Without the case's place on the limit, each running limit past due is checked against its case
(tens of thousands of probes at a million cases); with it, the partial indexes below hold exactly the rows asked
for, in due order:

- ix_case_deadlines_running_hall: a hall's running, unpaused limits by due moment (the desk's 黄牌/红牌 list, the
  statistics' longest overdue): a page reads its own rows.
- ix_case_deadlines_running_agency: an agency's, with hall, item and case in the index (the overdue counts per hall
  and item, index-only).

A running limit belongs to an open case (closing a case meets every running limit), so neither needs the cases.
Every limit's place is copied once here from its case; new limits get it when they are written.

- ix_case_tasks_ready: a hall's open tasks in the inbox's order (priority, due moment, created, id): a page of 50
  reads about its 50 rows, not the hall's thousands of open tasks to sort them.
- ix_case_tasks_stages: the stages a hall's tasks stand at (the inbox's 环节 filter), one index probe per stage.
- closed_case_counts: case_counts summed over the weeks (counted, on time per hall and item), kept at every commit
  beside them: the rates read a few hundred rows, not every week of every item; summed once here.

Revision ID: 0030
Revises: 0021
"""
from alembic import op
import sqlalchemy as sa

revision = '0030'
down_revision = '0021'
branch_labels = None
depends_on = None

RUNNING = {"postgresql_where": sa.text("met_at IS NULL AND paused = false AND due_at IS NOT NULL"),  # as in orm.py
           "sqlite_where": sa.text("met_at IS NULL AND paused = 0 AND due_at IS NOT NULL")}
READY = sa.text("state = 'ready'")


def upgrade() -> None:
    op.create_table('closed_case_counts',
    sa.Column('agency_code', sa.String(length=20), nullable=False),
    sa.Column('hall_code', sa.String(length=40), nullable=False),
    sa.Column('item_code', sa.String(length=20), nullable=False),
    sa.Column('item_name', sa.String(length=200), nullable=False),
    sa.Column('counted', sa.Integer(), nullable=False),
    sa.Column('on_time', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('agency_code', 'hall_code', 'item_code', 'item_name', name=op.f('pk_closed_case_counts'))
    )
    op.execute("INSERT INTO closed_case_counts (agency_code, hall_code, item_code, item_name, counted, on_time) "
               "SELECT agency_code, hall_code, item_code, item_name, sum(counted), sum(on_time) FROM case_counts "
               "GROUP BY agency_code, hall_code, item_code, item_name HAVING sum(counted) > 0")
    with op.batch_alter_table('case_deadlines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('agency_code', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('hall_code', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('item_code', sa.String(length=20), nullable=True))
    op.execute("UPDATE case_deadlines SET agency_code = c.agency_code, hall_code = c.hall_code, "
               "item_code = c.item_code FROM cases c WHERE c.id = case_deadlines.case_id")
    with op.batch_alter_table('case_deadlines', schema=None) as batch_op:
        batch_op.create_index('ix_case_deadlines_running_hall', ['agency_code', 'hall_code', 'due_at', 'id'],
                              unique=False, **RUNNING)
        batch_op.create_index('ix_case_deadlines_running_agency', ['agency_code', 'due_at'], unique=False,
                              postgresql_include=['hall_code', 'item_code', 'case_id'], **RUNNING)
    op.create_index('ix_case_tasks_ready', 'case_tasks', ['agency_code', 'hall_code', sa.text('priority DESC'),
                                                          'due_at', 'created_at', 'id'],
                    unique=False, postgresql_where=READY, sqlite_where=READY)
    op.create_index('ix_case_tasks_stages', 'case_tasks', ['agency_code', 'hall_code', 'state', 'stage'], unique=False)


def downgrade() -> None:
    op.drop_table('closed_case_counts')
    op.drop_index('ix_case_tasks_stages', table_name='case_tasks')
    op.drop_index('ix_case_tasks_ready', table_name='case_tasks')
    with op.batch_alter_table('case_deadlines', schema=None) as batch_op:
        batch_op.drop_index('ix_case_deadlines_running_agency')
        batch_op.drop_index('ix_case_deadlines_running_hall')
        batch_op.drop_column('item_code')
        batch_op.drop_column('hall_code')
        batch_op.drop_column('agency_code')

"""A migration plan run on all its cases in the background: the run (who, when, how many), one running per plan
at a time, and each case's outcome, written with the case's migration, so a run that stopped resumes past the
last case it did (services/migration_runs.py).

Revision ID: 0055
Revises: 0054
"""
from alembic import op
import sqlalchemy as sa

revision = '0055'
down_revision = '0054'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
RUNNING = sa.text('finished_at IS NULL')  # as in orm.py


def upgrade() -> None:
    op.create_table('case_migration_runs',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('plan_id', ID, nullable=False),
    sa.Column('started_by', sa.String(length=64), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('last_case_id', ID, nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['plan_id'], ['case_migration_plans.id'],
                            name=op.f('fk_case_migration_runs_plan_id_case_migration_plans')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_migration_runs'))
    )
    with op.batch_alter_table('case_migration_runs', schema=None) as batch_op:
        batch_op.create_index('ix_case_migration_runs_plan_id', ['plan_id'], unique=False)
        batch_op.create_index('ix_case_migration_runs_running', ['plan_id'], unique=True,
                              postgresql_where=RUNNING, sqlite_where=RUNNING)
    op.create_table('case_migration_outcomes',
    sa.Column('run_id', ID, nullable=False),
    sa.Column('case_id', ID, nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('migrated', sa.Boolean(), nullable=False),
    sa.Column('error', sa.String(length=1000), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['case_migration_runs.id'],
                            name=op.f('fk_case_migration_outcomes_run_id_case_migration_runs')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_migration_outcomes_case_id_cases')),
    sa.PrimaryKeyConstraint('run_id', 'case_id', name=op.f('pk_case_migration_outcomes'))
    )


def downgrade() -> None:
    op.drop_table('case_migration_outcomes')
    with op.batch_alter_table('case_migration_runs', schema=None) as batch_op:
        batch_op.drop_index('ix_case_migration_runs_running')
        batch_op.drop_index('ix_case_migration_runs_plan_id')
    op.drop_table('case_migration_runs')

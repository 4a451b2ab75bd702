"""Processes that belong to an agency: process_versions.agency_code.

A version deployed by an agency's designer is run by that agency's cases only. Existing versions (the shipped
diagrams and whatever was deployed before) become national (NULL): every agency runs them until it deploys its
own. The limits on diagram code need no schema: a step over a limit fails its case as any failed step does.

Revision ID: 0017
Revises: 0016
"""
from alembic import op
import sqlalchemy as sa

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('process_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('agency_code', sa.String(length=20), nullable=True))
        batch_op.create_index('ix_process_versions_key_agency', ['process_key', 'agency_code'])


def downgrade() -> None:
    with op.batch_alter_table('process_versions', schema=None) as batch_op:
        batch_op.drop_index('ix_process_versions_key_agency')
        batch_op.drop_column('agency_code')

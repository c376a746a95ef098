"""import jobs

Issue 15, field-level outcomes: a tag imported from a ledger that lacks a required attribute is kept,
the attribute listed in ``tag.pending_attrs`` (待补充) until someone supplies it. (Background import
jobs, also reserved here, were not built in this round.)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 14:10:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('tag', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pending_attrs', sa.JSON(), nullable=True,
                                      comment='required attributes still to be supplied (待补充), e.g. from a ledger without the column'))


def downgrade() -> None:
    with op.batch_alter_table('tag', schema=None) as batch_op:
        batch_op.drop_column('pending_attrs')

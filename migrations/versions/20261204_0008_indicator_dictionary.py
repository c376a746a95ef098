"""indicator dictionary

Issue 10: indicators (口径) published in the browser or by ``ybt indicator publish`` are stored as
versions in ``indicator_definition`` (the shipped files stay the baseline); a version's text never
changes, a code is retired rather than deleted. A published report version pins the indicator
versions it was published with (``report_definition.indicator_versions``).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 14:10:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('indicator_definition',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('source', sa.Text(), nullable=False, comment='the indicator mapping as published (YAML)'),
    sa.Column('published_by', sa.Integer(), nullable=True),
    sa.Column('published_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('retired_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True, comment='withdrawn from new reports'),
    sa.Column('retired_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['published_by'], ['app_user.id'], name=op.f('fk_indicator_definition_published_by_app_user')),
    sa.ForeignKeyConstraint(['retired_by'], ['app_user.id'], name=op.f('fk_indicator_definition_retired_by_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_indicator_definition')),
    sa.UniqueConstraint('code', 'version', name=op.f('uq_indicator_definition_code_version'))
    )
    with op.batch_alter_table('indicator_definition', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_indicator_definition_code'), ['code'], unique=False)
    with op.batch_alter_table('report_definition', schema=None) as batch_op:
        batch_op.add_column(sa.Column('indicator_versions', sa.Text(), nullable=False, server_default='{}',
                                      comment='JSON: indicator code → version pinned at publishing'))


def downgrade() -> None:
    with op.batch_alter_table('report_definition', schema=None) as batch_op:
        batch_op.drop_column('indicator_versions')
    with op.batch_alter_table('indicator_definition', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_indicator_definition_code'))
    op.drop_table('indicator_definition')

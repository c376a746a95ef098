"""access leftovers

Access and sessions, second pass (issue 13): the browser's user agent on each server session (for the
"我的会话" page, where a user sees and ends their sessions) and a per-token call window on API tokens
(the API's rate limit, shared by every process through the database).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 17:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('user_agent', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False,
                                      server_default='', comment='the browser, as it said at login (我的会话)'))
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.add_column(sa.Column('window_start', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True,
                                      comment='rate limit: start of the current minute window'))
        batch_op.add_column(sa.Column('window_calls', sa.Integer(), nullable=False, server_default='0',
                                      comment='rate limit: calls in the current window'))


def downgrade() -> None:
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_column('window_calls')
        batch_op.drop_column('window_start')
    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.drop_column('user_agent')

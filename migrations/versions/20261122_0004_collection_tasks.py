"""collection tasks

Collection tasks: a department or township asks villages to confirm pre-filled data for one projection.

Filled in by the collection-task work (app/models/task.py).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 07:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa  # noqa: F401
import sqlmodel  # noqa: F401
from alembic import op  # noqa: F401


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


SOURCE_COMMENT_OLD = 'web | import | api | seed | task | cli | system'
SOURCE_COMMENT = 'web | excel | import | flowback | api | seed | task | cli | system'


def upgrade() -> None:
    with op.batch_alter_table('change_batch', schema=None) as batch_op:
        batch_op.alter_column('source', existing_type=sa.String(length=10), existing_nullable=False,
                              comment=SOURCE_COMMENT, existing_comment=SOURCE_COMMENT_OLD)


def downgrade() -> None:
    with op.batch_alter_table('change_batch', schema=None) as batch_op:
        batch_op.alter_column('source', existing_type=sa.String(length=10), existing_nullable=False,
                              comment=SOURCE_COMMENT_OLD, existing_comment=SOURCE_COMMENT)

"""tag type sensitivity

Issue 10 item 5 (tag types and observation items as data): ``tag_type.sensitive``, false by default,
true for the health and disability tag types. Issue 14 needed no schema change in this reserved slot.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 14:10:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SENSITIVE = ("hypertension", "diabetes2", "severe_mental", "family_doctor", "disabled")


def upgrade() -> None:
    with op.batch_alter_table("tag_type") as batch:
        batch.add_column(sa.Column("sensitive", sa.Boolean(), nullable=False, server_default=sa.false(),
                                   comment="health or disability data: shown only to those who need it"))
    tag_type = sa.table("tag_type", sa.column("code", sa.String), sa.column("sensitive", sa.Boolean))
    op.execute(tag_type.update().where(tag_type.c.code.in_(SENSITIVE)).values(sensitive=True))


def downgrade() -> None:
    with op.batch_alter_table("tag_type") as batch:
        batch.drop_column("sensitive")

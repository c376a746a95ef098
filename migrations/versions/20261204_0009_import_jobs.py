"""import jobs

Reserved for issue 15: background import jobs, field-level outcomes (待补充 attributes).
Revisions are reserved in order so that parallel work keeps one alembic head; a revision that turns
out to need no schema change stays a no-op.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 14:10:00
"""
from collections.abc import Sequence

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass

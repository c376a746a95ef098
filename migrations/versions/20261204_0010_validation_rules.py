"""validation rules

Reserved for issue 14: validation rule results, reconciliation uploads.
Revisions are reserved in order so that parallel work keeps one alembic head; a revision that turns
out to need no schema change stays a no-op.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 14:10:00
"""
from collections.abc import Sequence

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass

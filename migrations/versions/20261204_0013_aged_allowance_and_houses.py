"""aged allowance and houses

Reserved for issue 15 (second stream): the 高龄津贴 tag type, houses and organisations in the web.
Revisions are reserved in order so that parallel work keeps one alembic head; a revision that turns
out to need no schema change stays a no-op.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 14:10:00
"""
from collections.abc import Sequence

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass

"""access and audit

Reserved for issue 13: department authorisations, server sessions, login throttle, read audit, API tokens.
Revisions are reserved in order so that parallel work keeps one alembic head; a revision that turns
out to need no schema change stays a no-op.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 14:10:00
"""
from collections.abc import Sequence

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass

"""Data-sharing API tokens: one or more per department, stored as SHA-256, revocable.

A token acts as a department account scoped to the whole county (need-to-know applies as for the
department's people): ``acting_user`` builds that unsaved ``User`` for the services.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlmodel import Session

from app.issues import Issue, NotFound, ValidationFailed
from app.models import ApiToken, Area, User
from app.models.base import utcnow
from app.services.codelists import labels

PREFIX = "ybt_"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, department: str, label: str = "", created_by: str = "") -> tuple[ApiToken, str]:
    """A new token for ``department``; the clear token is returned once and never stored."""
    if department not in labels(session, "department"):
        raise ValidationFailed(Issue("unknown-department", f"部门代码“{department}”不存在", {"field": "department"}))
    token = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(department=department, label=label[:100], prefix=token[:12], token_hash=_hash(token),
                   created_by=created_by[:50])
    session.add(row)
    session.flush()
    return row, token


def revoke_token(session: Session, token_id: int) -> ApiToken:
    row = session.get(ApiToken, token_id) if 0 < token_id < 2**31 else None
    if row is None:
        raise NotFound(Issue("not-found", f"令牌 #{token_id} 不存在"))
    if row.revoked_at is None:
        row.revoked_at = utcnow()
    session.flush()
    return row


def tokens(session: Session) -> list[ApiToken]:
    return list(session.execute(select(ApiToken).order_by(ApiToken.id.desc())).scalars())


def token_row(session: Session, token: str | None) -> ApiToken | None:
    """The valid (not revoked) token row of a presented token."""
    if not token or len(token) > 200:
        return None
    row = session.execute(select(ApiToken).where(ApiToken.token_hash == _hash(token))).scalar_one_or_none()
    return row if row is not None and row.revoked_at is None else None


def acting_user(session: Session, row: ApiToken) -> User:
    """The (unsaved) department account a token acts as: county-wide, department need-to-know."""
    from flask import current_app, has_app_context

    configured = current_app.config.get("YBT_COUNTY_CODE") if has_app_context() else None
    county = configured or session.execute(select(Area.code).where(Area.level == 3).order_by(Area.code)).scalars().first()
    return User(id=None, username=f"api:{row.prefix}", password_hash="", display_name=f"接口令牌 {row.prefix}",
                role="department", area_code=county or "000000000000", department=row.department)


#: The rate limit's window: a fixed minute per token, counted in the token's row (shared by every process).
RATE_WINDOW = timedelta(minutes=1)


def count_call(session: Session, token_id: int, per_minute: int, *, now: datetime | None = None) -> int | None:
    """Count one call of a token and mark it used; the seconds to wait (for ``Retry-After``) when this call
    is over ``per_minute`` in the current window, else None. ``per_minute`` 0: no limit.

    Two UPDATEs on the token's row (start a new window when the old one is over; add one), so concurrent
    calls of several processes are counted by the database, not by one process's memory."""
    now = now or utcnow()
    session.execute(update(ApiToken).where(ApiToken.id == token_id, or_(ApiToken.window_start.is_(None),
                                                                       ApiToken.window_start <= now - RATE_WINDOW))
                    .values(window_start=now, window_calls=0))
    session.execute(update(ApiToken).where(ApiToken.id == token_id)
                    .values(window_calls=ApiToken.window_calls + 1, last_used_at=now))
    start, calls = session.execute(select(ApiToken.window_start, ApiToken.window_calls).where(ApiToken.id == token_id)).one()
    if per_minute <= 0 or calls <= per_minute:
        return None
    start = start if start.tzinfo else start.replace(tzinfo=now.tzinfo)
    return max(1, math.ceil((start + RATE_WINDOW - now).total_seconds()))

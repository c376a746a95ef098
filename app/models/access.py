"""Access control as data: server-side sessions, login failures, the read audit, API tokens and
department authorisations (need-to-know)."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON
from sqlmodel import Field, SQLModel

from app.models.base import utcnow


class UserSession(SQLModel, table=True):
    """One logged-in browser. The cookie carries a random token; only its SHA-256 is stored, so a
    session ends on the server (logout, password change, deactivation, timeouts) whatever the cookie says."""

    __tablename__ = "user_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)
    ended_at: datetime | None = Field(default=None, sa_column_kwargs={"comment": "NULL = still valid"})
    address: str = Field(default="", max_length=64)
    user_agent: str = Field(default="", max_length=200, sa_column_kwargs={"comment": "the browser, as it said at login (我的会话)"})


class LoginFailure(SQLModel, table=True):
    """A failed login, kept a short while for the throttle (shared by every process through the database)."""

    __tablename__ = "login_failure"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    username: str = Field(max_length=50, index=True)
    address: str = Field(max_length=64, index=True)


class AuditEvent(SQLModel, table=True):
    """Who read (or exported, or called) what, when, how many records, for which stated purpose.

    Append-only through the application: nothing updates or deletes these rows except the retention
    purge (``ybt audit purge``)."""

    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    user_id: int | None = Field(default=None, index=True)
    username: str = Field(max_length=50, index=True, sa_column_kwargs={"comment": "user name, or api:<token prefix>"})
    kind: str = Field(max_length=30, index=True, sa_column_kwargs={"comment": "see app.services.audit.KINDS"})
    target: str = Field(default="", max_length=300)
    records: int = 0
    purpose: str | None = Field(default=None, max_length=300)
    address: str = Field(default="", max_length=64)
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)


class ApiToken(SQLModel, table=True):
    """A department system's key to the data-sharing API; stored as SHA-256 only."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    department: str = Field(max_length=20, index=True)
    label: str = Field(default="", max_length=100)
    prefix: str = Field(max_length=12, sa_column_kwargs={"comment": "first characters, to recognise a token"})
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow)
    created_by: str = Field(default="", max_length=50)
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None
    window_start: datetime | None = Field(default=None, sa_column_kwargs={"comment": "rate limit: start of the current minute window"})
    window_calls: int = Field(default=0, sa_column_kwargs={"comment": "rate limit: calls in the current window"})


class DepartmentGrant(SQLModel, table=True):
    """A department's authorisation to see personal fields (or persons holding other departments' tags),
    with its legal basis. Granted and revoked by admins; both are audited."""

    __tablename__ = "department_grant"

    id: int | None = Field(default=None, primary_key=True)
    department: str = Field(max_length=20, index=True)
    fields: list[str] = Field(default_factory=list, sa_type=JSON,
                              sa_column_kwargs={"comment": "personal fields shown unmasked: id_number, phone, address"})
    tag_codes: list[str] = Field(default_factory=list, sa_type=JSON,
                                 sa_column_kwargs={"comment": "tags beyond its own whose holders it may see"})
    legal_basis: str = Field(max_length=300)
    granted_by: str = Field(max_length=50)
    granted_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = None

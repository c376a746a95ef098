"""Accounts and sessions: password policy, server-side sessions, the login throttle, admin account changes.

Sessions: the signed cookie holds only a random token; the database holds its SHA-256 with the times
it was made and last used. A session is valid while it is not ended and within the idle and absolute
timeouts, so logout, a password change or a deactivation ends it at once on every process.

Throttle: failed logins are rows in ``login_failure``, shared by every process. Limits are per
(account, address) and per address, never per account alone, so an attacker elsewhere cannot lock the
owner out; an unknown name costs the same password-hash time as a known one.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlmodel import Session
from werkzeug.security import check_password_hash, generate_password_hash

from app.issues import Issue, NotFound, PermissionDenied, ValidationFailed
from app.models import Area, LoginFailure, User, UserSession
from app.models.base import utcnow
from app.models.user import ROLES
from app.services import users as users_service
from app.services.codelists import labels
from app.services.scope import require_admin

MIN_PASSWORD = 10
#: Passwords refused whatever their length: the demo password and the usual first guesses.
COMMON_PASSWORDS = frozenset({"demo-pass-2026", "password123", "password-123", "1234567890", "qwertyuiop",
                              "abc1234567", "admin12345", "yibiaotong1", "ybt-2026-pass"})

THROTTLE_WINDOW = timedelta(minutes=15)
PER_ACCOUNT_AND_ADDRESS = 5
PER_ADDRESS = 30


def password_problems(password: str, username: str = "", *, strict: bool = True) -> list[Issue]:
    """The policy: at least 10 characters of at least two kinds (letters, digits, symbols); when a person
    chooses it (``strict``), also not a common password and not containing the user name."""
    issues: list[Issue] = []
    if len(password) < MIN_PASSWORD:
        issues.append(Issue("weak-password", f"密码至少{MIN_PASSWORD}位", {"field": "password"}))
    kinds = sum((any(c.isalpha() for c in password), any(c.isdigit() for c in password),
                 any(not c.isalnum() for c in password)))
    if kinds < 2:
        issues.append(Issue("weak-password", "密码须包含字母、数字、符号中的至少两类", {"field": "password"}))
    if strict:
        if password.lower() in COMMON_PASSWORDS:
            issues.append(Issue("common-password", "该密码过于常见（或为演示密码），请换一个", {"field": "password"}))
        if username and username.lower() in password.lower():
            issues.append(Issue("password-has-username", "密码不能包含用户名", {"field": "password"}))
    return issues


def _hash(password: str) -> str:
    return generate_password_hash(password, method=users_service.PASSWORD_METHOD)


# -- sessions ------------------------------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(session: Session, user: User, address: str = "", user_agent: str = "") -> str:
    """A new server session for ``user``; returns the token for the cookie (never stored)."""
    token = secrets.token_urlsafe(32)
    agent = "".join(c for c in user_agent if c.isprintable())[:200]
    session.add(UserSession(token_hash=_token_hash(token), user_id=user.id, address=address[:64], user_agent=agent))
    session.flush()
    return token


def active_sessions(session: Session, user: User, *, idle: timedelta, absolute: timedelta) -> list[UserSession]:
    """The user's sessions still valid (not ended, within both timeouts), the most recently used first."""
    now = utcnow()
    rows = session.execute(select(UserSession).where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
                           .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())).scalars()
    return [r for r in rows if _aware(r.last_seen_at) + idle >= now and _aware(r.created_at) + absolute >= now]


def end_own_session(session: Session, user: User, session_id: int) -> UserSession:
    """End one of the user's own sessions (我的会话); another user's or an ended one is 'not found'."""
    row = session.get(UserSession, session_id)
    if row is None or row.user_id != user.id or row.ended_at is not None:
        raise NotFound(Issue("not-found", "该会话不存在或已结束", {"record": session_id}))
    row.ended_at = utcnow()
    session.flush()
    return row


def is_current(row: UserSession, token: str | None) -> bool:
    return bool(token) and row.token_hash == _token_hash(str(token))


def session_user(session: Session, token: str | None, *, idle: timedelta, absolute: timedelta) -> tuple[User | None, UserSession | None]:
    """The active user of a session token, or None when the token is unknown, ended or timed out."""
    if not token or not isinstance(token, str) or len(token) > 100:
        return None, None
    row = session.execute(select(UserSession).where(UserSession.token_hash == _token_hash(token))).scalar_one_or_none()
    if row is None or row.ended_at is not None:
        return None, None
    now = utcnow()
    if _aware(row.last_seen_at) + idle < now or _aware(row.created_at) + absolute < now:
        return None, row
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        return None, row
    return user, row


def _aware(moment: Any) -> Any:
    from datetime import UTC

    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def end_session(session: Session, token: str | None) -> None:
    if token:
        session.execute(update(UserSession).where(UserSession.token_hash == _token_hash(token), UserSession.ended_at.is_(None))
                        .values(ended_at=utcnow()))


def end_all_sessions(session: Session, user_id: int) -> None:
    session.execute(update(UserSession).where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
                    .values(ended_at=utcnow()))


# -- login and its throttle ----------------------------------------------------------------------------

_DUMMY_HASH: dict[str, str] = {}


def _dummy_hash() -> str:
    """A hash made with the current method, checked for unknown names so they take as long as known ones."""
    method = users_service.PASSWORD_METHOD
    if method not in _DUMMY_HASH:
        _DUMMY_HASH[method] = generate_password_hash(secrets.token_hex(8), method=method)
    return _DUMMY_HASH[method]


def throttled(session: Session, username: str, address: str) -> bool:
    """Too many recent failures from this address, or for this account from this address."""
    since = utcnow() - THROTTLE_WINDOW
    recent = select(func.count()).select_from(LoginFailure).where(LoginFailure.at >= since, LoginFailure.address == address)
    if session.execute(recent).scalar_one() >= PER_ADDRESS:
        return True
    pair = recent.where(LoginFailure.username == username.strip().lower()[:50])
    return session.execute(pair).scalar_one() >= PER_ACCOUNT_AND_ADDRESS


def login(session: Session, username: str, password: str, address: str) -> User | None:
    """The user when name and password match an active account; records a failure otherwise."""
    name = username.strip()
    user = session.execute(select(User).where(User.username == name)).scalar_one_or_none()
    if user is None:
        check_password_hash(_dummy_hash(), password)  # equal timing for unknown names
        ok = False
    else:
        ok = check_password_hash(user.password_hash, password) and user.active
    if not ok:
        session.add(LoginFailure(username=name.lower()[:50], address=address[:64]))
        session.execute(delete(LoginFailure).where(LoginFailure.at < utcnow() - THROTTLE_WINDOW * 4))
        return None
    session.execute(delete(LoginFailure).where(LoginFailure.username == name.lower()[:50], LoginFailure.address == address[:64]))
    return user


def holds_demo_password(user: User) -> bool:
    from app.seed.users import DEMO_PASSWORD

    return check_password_hash(user.password_hash, DEMO_PASSWORD)


# -- password changes and admin account management --------------------------------------------------------


def change_password(session: Session, user: User, current: str, new: str, repeat: str) -> None:
    """A user's own change: the current password, then a new one meeting the policy; other sessions end."""
    issues: list[Issue] = []
    if not check_password_hash(user.password_hash, current):
        issues.append(Issue("wrong-password", "当前密码不正确", {"field": "current"}))
    if new != repeat:
        issues.append(Issue("password-mismatch", "两次输入的新密码不一致", {"field": "repeat"}))
    issues += [i.at(field="new") for i in password_problems(new, user.username)]
    if new == current:
        issues.append(Issue("same-password", "新密码不能与当前密码相同", {"field": "new"}))
    if issues:
        raise ValidationFailed(issues)
    user.password_hash = _hash(new)
    user.must_change_password = False
    user.password_changed_at = utcnow()
    end_all_sessions(session, int(user.id))  # type: ignore[arg-type]
    session.flush()


def _check_account(session: Session, role: str, area_code: str, department: str | None) -> list[Issue]:
    issues: list[Issue] = []
    if role not in ROLES:
        issues.append(Issue("unknown-role", f"未知角色“{role}”", {"field": "role"}))
    if session.get(Area, area_code) is None:
        issues.append(Issue("unknown-area", f"区划 {area_code} 不存在", {"field": "area_code"}))
    if role == "department" and department not in labels(session, "department"):
        issues.append(Issue("unknown-department", "部门用户须指定有效部门", {"field": "department"}))
    return issues


def admin_create(session: Session, admin: User, values: dict[str, Any]) -> User:
    """An account made by an admin: its initial password must be changed at first login."""
    require_admin(admin)
    password = values.get("password") or ""
    problems = [i.at(field="password") for i in password_problems(password, values.get("username", ""))]
    if problems:
        raise ValidationFailed(problems)
    user = users_service.create_user(session, values["username"], password, values["display_name"], values["role"],
                                     values["area_code"], values.get("department") or None)
    user.must_change_password = True
    session.flush()
    return user


def get_account(session: Session, admin: User, user_id: int) -> User:
    require_admin(admin)
    user = session.get(User, user_id) if 0 < user_id < 2**31 else None
    if user is None:
        raise NotFound(Issue("not-found", f"账号 #{user_id} 不存在"))
    return user


def admin_update(session: Session, admin: User, user_id: int, values: dict[str, Any]) -> User:
    """Change name, role, area, department, active; deactivating ends the account's sessions at once."""
    user = get_account(session, admin, user_id)
    issues = _check_account(session, values["role"], values["area_code"], values.get("department") or None)
    if user.id == admin.id and (not values["active"] or values["role"] != "admin"):
        issues.append(Issue("self-lockout", "不能停用自己的账号或取消自己的管理员角色", {"field": "active"}))
    if issues:
        raise ValidationFailed(issues)
    user.display_name = values["display_name"] or user.display_name
    user.role, user.area_code = values["role"], values["area_code"]
    user.department = values.get("department") or None
    if user.active and not values["active"]:
        end_all_sessions(session, int(user.id))  # type: ignore[arg-type]
    user.active = bool(values["active"])
    session.flush()
    return user


def admin_reset(session: Session, admin: User, user_id: int, password: str) -> User:
    """A new initial password, to be changed at the next login; the account's sessions end."""
    user = get_account(session, admin, user_id)
    problems = [i.at(field="password") for i in password_problems(password, user.username)]
    if problems:
        raise ValidationFailed(problems)
    user.password_hash = _hash(password)
    user.must_change_password = True
    end_all_sessions(session, int(user.id))  # type: ignore[arg-type]
    session.flush()
    return user


def list_accounts(session: Session, admin: User) -> list[User]:
    require_admin(admin)
    return list(session.execute(select(User).order_by(User.role, User.username)).scalars())


def refuse_in_production(message: str) -> PermissionDenied:
    return PermissionDenied(Issue("production-refused", message))

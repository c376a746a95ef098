"""The read audit: who read, searched, exported or called what, when, how many records, for which purpose.

Rows are only ever added (``record``); the one deletion is the retention purge (``purge``), run by an
admin through ``ybt audit purge`` with the configured ``YBT_AUDIT_RETENTION_DAYS``.
Each row is written in its own transaction, so a read is recorded even when the request that made it
fails afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlmodel import Session

from app.issues import Issue, ValidationFailed
from app.models import AuditEvent, User
from app.models.base import utcnow

KINDS: dict[str, str] = {
    "person-view": "查看人员",
    "household-view": "查看户",
    "person-search": "人员查询",
    "household-search": "户查询",
    "download": "下载",
    "import-view": "查看导入预览",
    "export": "导出",
    "api": "接口调用",
    "login": "登录",
    "login-failed": "登录失败",
    "logout": "退出",
    "account": "账号管理",
    "grant": "部门授权",
    "api-token": "接口令牌",
    "audit-export": "导出审计记录",
    "audit-purge": "清理过期审计记录",
}


def record(
    user: User | None,
    kind: str,
    target: str = "",
    *,
    records: int = 0,
    purpose: str | None = None,
    detail: dict[str, Any] | None = None,
    username: str | None = None,
    address: str = "",
    session: Session | None = None,
) -> None:
    """Append one audit row (in its own transaction unless ``session`` is given)."""
    row = AuditEvent(
        user_id=user.id if user is not None else None,
        username=(username or (user.username if user is not None else ""))[:50],
        kind=kind, target=target[:300], records=int(records), purpose=(purpose or None) and purpose[:300],
        address=address[:64], detail=detail or {},
    )
    if session is not None:
        session.add(row)
        return
    from app.db import get_db

    with get_db().transaction() as own:
        own.add(row)


MIN_PURPOSE = 2


def require_purpose(purpose: str | None, what: str = "下载") -> str:
    """The stated purpose of an unmasked download or export (PIPL: by purpose, with a record of access),
    stripped and cut to 300 characters; refused in Chinese when missing or too short."""
    text = " ".join((purpose or "").split())[:300]
    if len(text) < MIN_PURPOSE:
        raise ValidationFailed(Issue(
            "purpose-required", f"此{what}含完整的个人信息，请填写用途（至少{MIN_PURPOSE}个字），用途将记入访问审计",
            {"field": "purpose"}, hint="例如：核对本月低保名单、发放高龄津贴"))
    return text


@dataclass(frozen=True)
class Filters:
    username: str | None = None
    kind: str | None = None
    since: date | None = None
    until: date | None = None


def parse_filters(username: str | None, kind: str | None, since: str | None, until: str | None) -> Filters:
    """Filters from typed text; bad dates or kinds are refused in Chinese."""
    issues: list[Issue] = []

    def day(raw: str | None, name: str) -> date | None:
        if not raw:
            return None
        try:
            value = date.fromisoformat(raw.strip())
        except ValueError:
            issues.append(Issue("bad-date", f"日期“{raw}”格式有误，应为 YYYY-MM-DD", {"field": name}))
            return None
        if not date(2000, 1, 1) <= value <= date(2100, 12, 31):
            issues.append(Issue("date-out-of-range", f"日期 {value} 超出 2000—2100 年的范围", {"field": name}))
            return None
        return value

    if kind and kind not in KINDS:
        issues.append(Issue("unknown-kind", f"未知的记录类型“{kind}”", {"field": "kind"}, hint="可选：" + "、".join(KINDS)))
    filters = Filters((username or "").strip() or None, kind or None, day(since, "since"), day(until, "until"))
    if issues:
        raise ValidationFailed(issues)
    return filters


def _start_of(day: date) -> datetime:
    from app.clock import zone

    return datetime(day.year, day.month, day.day, tzinfo=zone()).astimezone(UTC)


def _query(filters: Filters) -> Any:
    query = select(AuditEvent)
    if filters.username:
        query = query.where(AuditEvent.username == filters.username)
    if filters.kind:
        query = query.where(AuditEvent.kind == filters.kind)
    if filters.since:
        query = query.where(AuditEvent.at >= _start_of(filters.since))
    if filters.until:
        query = query.where(AuditEvent.at < _start_of(filters.until + timedelta(days=1)))
    return query


def events(session: Session, filters: Filters, *, limit: int = 500, offset: int = 0) -> tuple[list[AuditEvent], int]:
    """Matching rows, newest first, and their total count."""
    query = _query(filters)
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = session.execute(query.order_by(AuditEvent.id.desc()).offset(offset).limit(limit)).scalars()
    return list(rows), int(total)


def as_dict(event: AuditEvent) -> dict[str, Any]:
    from app.clock import display

    return {"id": event.id, "at": display(event.at), "user": event.username, "kind": event.kind,
            "kind_label": KINDS.get(event.kind, event.kind), "target": event.target, "records": event.records,
            "purpose": event.purpose, "address": event.address, "detail": event.detail}


def purge(session: Session, retention_days: int, *, trigger: str = "cli") -> int:
    """Delete rows older than the retention period; returns how many. ``0`` keeps everything.

    Each purge leaves its own row (kind ``audit-purge``: how many, which retention, what triggered it),
    so the deletion is on record and ``purge_if_due`` knows when the last one ran, in every process."""
    if retention_days <= 0:
        return 0
    cutoff = utcnow() - timedelta(days=retention_days)
    result = session.execute(delete(AuditEvent).where(AuditEvent.at < cutoff))
    removed = int(result.rowcount or 0)
    record(None, "audit-purge", f"older than {retention_days} days", records=removed, username="system",
           detail={"retention_days": retention_days, "trigger": trigger}, session=session)
    return removed


#: The scheduled purge runs at most this often (it is triggered by requests, see ``purge_if_due``).
PURGE_EVERY = timedelta(days=1)


def last_purge(session: Session) -> datetime | None:
    at = session.execute(select(func.max(AuditEvent.at)).where(AuditEvent.kind == "audit-purge")).scalar_one()
    return at if at is None or at.tzinfo else at.replace(tzinfo=UTC)


def purge_if_due(session: Session, retention_days: int, *, now: datetime | None = None) -> int | None:
    """The retention applied on a schedule: purge when the last purge (by any process, or by
    ``ybt audit purge`` from cron) is more than a day old. Returns the rows removed, None when not due."""
    if retention_days <= 0:
        return None
    last = last_purge(session)
    if last is not None and last + PURGE_EVERY > (now or utcnow()):
        return None
    return purge(session, retention_days, trigger="schedule")

"""Shared write steps of effective-dated entities (houses, organisations, households).

Each service keeps its own rules and messages; these helpers hold the steps they all take: refuse a
future effective date, re-check the full values of a change (and the scope of a new area), and, when
no issue is left, record the new version in a batch (``history``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from sqlmodel import Session

from app.clock import today
from app.issues import Issue, ValidationFailed
from app.models import ChangeBatch, User
from app.services import history
from app.services.scope import require_write

Check = Callable[[Session, dict[str, Any]], tuple[dict[str, Any], list[Issue]]]


def future_date(when: date) -> list[Issue]:
    """The issue of an effective date after today, if it is."""
    return [Issue("future-date", "生效日期不能晚于今天", {"field": "valid_from"})] if when > today() else []


def open_for_change(actor: User, record: Any, changes: dict[str, Any], action: str, effective: date | None, *,
                    active: str, final: Issue, managed: Issue) -> date:
    """Check a change may be made to ``record``: write scope, not in its end state (``final``), the status
    changed only by ending it (``managed``), no future date; returns the effective day (default today)."""
    require_write(actor, record.area_code)
    if record.status != active:
        raise ValidationFailed(final)
    if "status" in changes and action != "end":
        raise ValidationFailed(managed)
    when = effective or today()
    if future := future_date(when):
        raise ValidationFailed(future)
    return when


def changed_values(session: Session, actor: User, record: Any, changes: dict[str, Any],
                   check: Check) -> tuple[dict[str, Any], list[Issue]]:
    """The record's current values with ``changes`` applied, checked; a moved record needs write scope there too."""
    current = record.model_dump(exclude={"id", "row_version", "batch_id", "valid_from"})
    values, issues = check(session, {**current, **changes})
    if "area_code" in changes:
        require_write(actor, values["area_code"])
    return values, issues


def record_new(session: Session, actor: User, kind: str, values: dict[str, Any], issues: list[Issue], when: date,
               batch: ChangeBatch | None) -> Any:
    """Refuse on any issue, else create the ``kind`` record from ``when`` on (in ``batch`` or a new web batch)."""
    if issues:
        raise ValidationFailed(issues)
    batch = batch or history.open_batch(session, actor, "web")
    return history.create_version(session, batch, kind, values, when)


def record_change(session: Session, actor: User, kind: str, record_id: int, values: dict[str, Any],
                  changes: dict[str, Any], issues: list[Issue], when: date, *, expected_version: int | None,
                  batch: ChangeBatch | None, action: str) -> history.Change:
    """Refuse on any issue, else record the changed fields from ``when`` on, checking the loaded row version."""
    if issues:
        raise ValidationFailed(issues)
    batch = batch or history.open_batch(session, actor, "web")
    return history.change_version(session, batch, kind, record_id, {k: values[k] for k in changes}, when,
                                  expected_version=expected_version, action=action)

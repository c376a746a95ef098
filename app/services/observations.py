"""Periodic observations: record or correct one value per subject, item and period."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlmodel import Session

from app.issues import Conflict, Issue, ValidationFailed
from app.models import Area, ChangeBatch, Observation, ObservationItem, User
from app.services import history
from app.services.scope import require_read, require_write

_PERIOD = {
    "Y": re.compile(r"^(\d{4})$"),
    "H": re.compile(r"^(\d{4})H([12])$"),
    "Q": re.compile(r"^(\d{4})Q([1-4])$"),
    "M": re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$"),
}
_PERIOD_EXAMPLE = {"Y": "2025", "H": "2025H1", "Q": "2025Q2", "M": "2025-06"}


def period_bounds(period_type: str, period: str) -> tuple[date, date]:
    """First and last day of a period written as 2025 / 2025H1 / 2025Q2 / 2025-06."""
    match = _PERIOD[period_type].match(period)
    if not match:
        raise ValidationFailed(Issue("bad-period", f"期别“{period}”格式不对，应如 {_PERIOD_EXAMPLE[period_type]}", {"field": "period"}))
    year = int(match.group(1))
    if period_type == "Y":
        first_month, months = 1, 12
    elif period_type == "H":
        first_month, months = 1 + 6 * (int(match.group(2)) - 1), 6
    elif period_type == "Q":
        first_month, months = 1 + 3 * (int(match.group(2)) - 1), 3
    else:
        first_month, months = int(match.group(2)), 1
    last_month = first_month + months - 1
    return date(year, first_month, 1), date(year, last_month, calendar.monthrange(year, last_month)[1])


def record_observation(
    session: Session, actor: User, item_code: str, area_code: str, period: str, value: float, *, batch: ChangeBatch | None = None,
    expected_version: int | None = None,
) -> Observation:
    """Set the value of an area-level item for a period (insert, or correct with history).

    ``expected_version``: the ``row_version`` the editor saw (0 = the value did not exist yet); a
    different one means someone saved in between, and the save is refused with a ``Conflict``.
    """
    item = session.get(ObservationItem, item_code)
    if item is None:
        raise ValidationFailed(Issue("unknown-item", f"台账指标“{item_code}”不存在", {"field": "item_code"}))
    if session.get(Area, area_code) is None:
        raise ValidationFailed(Issue("unknown-area", f"区划 {area_code} 不存在", {"field": "area_code"}))
    require_write(actor, area_code)
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ValidationFailed(Issue("not-a-number", f"{item.name}须为数字，现为“{value}”", {"field": "value"})) from None
    if value < 0:
        raise ValidationFailed(Issue("negative", f"{item.name}不能为负数", {"field": "value"}))
    start, end = period_bounds(item.period_type, period)
    batch = batch or history.open_batch(session, actor, "web")
    existing = session.execute(
        select(Observation).where(Observation.item_code == item_code, Observation.subject_type == "area",
                                  Observation.subject_id == area_code, Observation.period == period)
    ).scalar_one_or_none()
    if expected_version is not None and (existing.row_version if existing else 0) != expected_version:
        who = "已被他人填报" if existing is None or expected_version == 0 else "已被他人修改"
        now = f"，现值为 {existing.value:g}{item.unit}" if existing else ""
        raise Conflict(Issue("edit-conflict", f"保存被拒绝：{item.name}（{period}）在您打开后{who}{now}。请刷新后重新填写。",
                             {"field": "value"}, hint="刷新页面查看最新内容"))
    if existing is None:
        existing = Observation(item_code=item_code, subject_type="area", subject_id=area_code, area_code=area_code,
                               period=period, period_start=start, period_end=end, value=value, unit=item.unit, batch_id=batch.id)
        session.add(existing)
        session.flush()
        history.log_change(session, batch, "observation", existing.id, "create", {"value": (None, value)}, end)
    elif existing.value != value:
        history.log_change(session, batch, "observation", existing.id, "update", {"value": (existing.value, value)}, end)
        existing.value = value
        existing.batch_id = batch.id
        existing.row_version += 1
        session.flush()
    return existing


@dataclass(frozen=True)
class ObservationRow:
    """One item of an area's periodic values for the period containing a given month."""

    item: ObservationItem
    period: str
    value: float | None
    row_version: int  # 0 when no value is recorded yet


def period_of(period_type: str, year: int, month: int) -> str:
    """The period of a type that contains ``year``-``month``: 2025 / 2025H1 / 2025Q2 / 2025-06."""
    if period_type == "Y":
        return f"{year}"
    if period_type == "H":
        return f"{year}H{1 if month <= 6 else 2}"
    if period_type == "Q":
        return f"{year}Q{(month - 1) // 3 + 1}"
    return f"{year}-{month:02d}"


def area_values(session: Session, actor: User, area_code: str, year: int, month: int) -> list[ObservationRow]:
    """Every area-level item with its value (if recorded) for the period containing ``year``-``month``."""
    require_read(actor, area_code)
    items = list(session.execute(select(ObservationItem).where(ObservationItem.subject == "area")
                                 .order_by(ObservationItem.department, ObservationItem.code)).scalars())
    periods = {item.code: period_of(item.period_type, year, month) for item in items}
    found = {
        (o.item_code, o.period): o
        for o in session.execute(select(Observation).where(
            Observation.subject_type == "area", Observation.subject_id == area_code,
            Observation.period.in_(set(periods.values())))).scalars()
    }
    rows = []
    for item in items:
        obs = found.get((item.code, periods[item.code]))
        rows.append(ObservationRow(item, periods[item.code], obs.value if obs else None, obs.row_version if obs else 0))
    return rows

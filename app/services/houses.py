"""Houses: read, register, change (a new safety appraisal is a change like any other), demolish.

A house belongs to a village (or grid) and may be lived in by one household of the same village.
Demolition (拆除) is its end state: the status becomes 注销 (2) from the demolition day, the house
stays in the history (and in reports on earlier dates) and can no longer be changed. Every write
checks the actor's scope, validates the fields from the model's column metadata, records the change
(``history``) and, for changes, the ``row_version`` the editor loaded.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import false, func, or_, select
from sqlmodel import Session

from app.clock import today
from app.issues import Issue, NotFound, ValidationFailed
from app.models import Area, ChangeBatch, House, Household, User
from app.services import entities, history
from app.services.fields import check_values, with_defaults
from app.services.persons import Page, within_area
from app.services.scope import (
    house_need_to_know,
    require_house_need_to_know,
    require_read,
    require_write,
    scope_of,
    unmasked_fields,
)

IN_USE, DEMOLISHED = "1", "2"
# A building larger than this is not a rural house: almost surely a typing error (m² for 亩, an extra 0).
MAX_FLOOR_AREA = 5000.0


def get_house(session: Session, actor: User, house_id: int) -> House:
    house = session.get(House, house_id)
    if house is None:
        raise NotFound(Issue("not-found", f"房屋 #{house_id} 不存在", {"record": house_id}))
    require_read(actor, house.area_code)
    require_house_need_to_know(session, actor, house)
    return house


def check_house(session: Session, values: dict[str, Any]) -> tuple[dict[str, Any], list[Issue]]:
    """Normalise and validate a house's full set of values; returns (values, issues)."""
    values = with_defaults(House, values)
    if isinstance(values.get("address"), str):
        values["address"] = values["address"].strip()
    issues = check_values(session, House, values)
    if values.get("area_code") and session.get(Area, values["area_code"]) is None:
        issues.append(Issue("unknown-area", f"区划 {values['area_code']} 不存在", {"field": "area_code"}))
    area = values.get("floor_area")
    if area is not None:
        if not isinstance(area, int | float) or isinstance(area, bool):
            issues.append(Issue("not-a-number", f"建筑面积须为数字，现为“{area}”", {"field": "floor_area"}))
        elif area <= 0:
            issues.append(Issue("not-positive", "建筑面积须大于0", {"field": "floor_area"}))
        elif area > MAX_FLOOR_AREA:
            issues.append(Issue("implausible-area", f"建筑面积 {area:g} 平方米超过 {MAX_FLOOR_AREA:g}，请核实单位",
                                {"field": "floor_area"}, hint="单位是平方米，不是平方尺或亩"))
    household_id = values.get("household_id")
    if household_id is not None:
        household = session.get(Household, household_id)
        if household is None:
            issues.append(Issue("unknown-household", f"户 #{household_id} 不存在", {"field": "household_id"}))
        else:
            if values.get("area_code") and household.area_code[:12] != values["area_code"][:12]:
                issues.append(Issue("household-area", "居住户与房屋不在同一个村", {"field": "household_id"},
                                    hint=f"户 {household.number} 属于 {household.area_code}"))
            if household.status != "1" and values.get("status") == IN_USE:
                issues.append(Issue("household-ended", f"户 {household.number} 已注销，不能登记为居住户",
                                    {"field": "household_id"}))
    return values, issues


def create_house(session: Session, actor: User, values: dict[str, Any], *, effective: date | None = None,
                 batch: ChangeBatch | None = None) -> House:
    """Register a house (in use) from ``effective`` on (default today)."""
    values, issues = check_house(session, {**values, "status": IN_USE})
    require_write(actor, values.get("area_code"))
    when = effective or today()
    return entities.record_new(session, actor, "house", values, issues + entities.future_date(when), when, batch)


def update_house(
    session: Session,
    actor: User,
    house_id: int,
    changes: dict[str, Any],
    *,
    effective: date | None = None,
    expected_version: int | None = None,
    batch: ChangeBatch | None = None,
    action: str = "update",
) -> history.Change:
    """Change some fields of a house from ``effective`` on (default today); a demolished house is final."""
    house = get_house(session, actor, house_id)
    when = entities.open_for_change(
        actor, house, changes, action, effective, active=IN_USE,
        final=Issue("house-demolished", "该房屋已拆除（注销），不能再修改", {"record": house_id}),
        managed=Issue("managed-field", "房屋状态只能通过“拆除”登记改变", {"field": "status"}))
    values, issues = entities.changed_values(session, actor, house, changes, check_house)
    return entities.record_change(session, actor, "house", house_id, values, changes, issues, when,
                                  expected_version=expected_version, batch=batch, action=action)


def appraise(session: Session, actor: User, house_id: int, grade: str, on: date, *,
             expected_version: int | None = None, batch: ChangeBatch | None = None) -> history.Change:
    """Record a safety appraisal (安全鉴定): the grade A–D from the appraisal day on."""
    if not grade:
        raise ValidationFailed(Issue("required", "请选择安全等级", {"field": "safety_grade"}))
    return update_house(session, actor, house_id, {"safety_grade": grade}, effective=on,
                        expected_version=expected_version, batch=batch)


def demolish_house(session: Session, actor: User, house_id: int, on: date, *, expected_version: int | None = None,
                   batch: ChangeBatch | None = None) -> history.Change:
    """Record the demolition on ``on``: from that day the house is 注销 and no longer counted."""
    house = get_house(session, actor, house_id)
    if house.status != IN_USE:
        raise ValidationFailed(Issue("already-ended", "该房屋已是拆除（注销）状态", {"field": "status"}))
    if on > today():
        raise ValidationFailed(Issue("future-date", "拆除日期不能晚于今天", {"field": "on"}))
    return update_house(session, actor, house_id, {"status": DEMOLISHED}, effective=on,
                        expected_version=expected_version, batch=batch, action="end")


def search_houses(
    session: Session, actor: User, area: str, *, text: str | None = None, grade: str | None = None,
    status: str | None = IN_USE, page: int = 1, per_page: int = 50,
) -> Page:
    """Houses of an area in the actor's scope; ``text`` matches the address (contains) or the 户号 of
    the household living there (prefix); ``grade`` is a safety grade, or ``unknown`` for 未鉴定."""
    require_read(actor, area)
    query = select(House).where(within_area(House.area_code, area), scope_of(actor).clause(House.area_code),
                                house_need_to_know(session, actor, House.household_id))
    if status:
        query = query.where(House.status == status)
    if grade == "unknown":
        query = query.where(House.safety_grade.is_(None))
    elif grade:
        query = query.where(House.safety_grade == grade)
    if text and text.strip():
        needle = text.strip()
        numbers = select(Household.id).where(Household.number.startswith(needle))
        # a masked address is not searchable either (a department without the grant would learn it letter by letter)
        by_address = House.address.contains(needle) if "address" in unmasked_fields(session, actor) else false()
        query = query.where(or_(by_address, House.household_id.in_(numbers)))
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    page = max(1, page)
    rows = session.execute(query.order_by(House.area_code, House.address, House.id)
                           .offset((page - 1) * per_page).limit(per_page)).scalars()
    return Page(list(rows), total, page, per_page)

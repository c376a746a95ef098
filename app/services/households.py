"""Households: read with members, create, change, end (注销)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import and_, exists, false, func, or_, select
from sqlmodel import Session

from app import clock
from app.issues import Issue, NotFound, ValidationFailed
from app.models import Area, ChangeBatch, House, Household, Person, Tag, User
from app.services import entities, history
from app.services.fields import check_values, with_defaults
from app.services.persons import ALIVE, Page, within_area
from app.services.scope import (
    id_search,
    listed_household_clause,
    person_need_to_know,
    require_need_to_know,
    require_read,
    require_write,
    scope_of,
    tag_visible,
    text_search,
)

HEAD = "02"


def get_household(session: Session, actor: User, household_id: int) -> Household:
    household = session.get(Household, household_id)
    if household is None:
        raise NotFound(Issue("not-found", f"户 #{household_id} 不存在", {"record": household_id}))
    require_read(actor, household.area_code)
    require_need_to_know(session, actor, household=household)
    return household


def members(session: Session, actor: User, household_id: int, *, alive_only: bool = False) -> list[Person]:
    """The household's members (for a department: those within its need to know)."""
    get_household(session, actor, household_id)
    query = select(Person).where(Person.household_id == household_id,
                                 person_need_to_know(session, actor, Person.id, Person.household_id))
    if alive_only:
        query = query.where(Person.living_status == ALIVE)
    return list(session.execute(query.order_by(Person.relation, Person.birth_date)).scalars())


def check_household(session: Session, values: dict[str, Any]) -> tuple[dict[str, Any], list[Issue]]:
    values = with_defaults(Household, values)
    issues = check_values(session, Household, values)
    if values.get("area_code") and session.get(Area, values["area_code"]) is None:
        issues.append(Issue("unknown-area", f"区划 {values['area_code']} 不存在", {"field": "area_code"}))
    return values, issues


def create_household(
    session: Session, actor: User, values: dict[str, Any], *, effective: date | None = None, batch: ChangeBatch | None = None
) -> Household:
    values, issues = check_household(session, values)
    require_write(actor, values.get("area_code"))
    if values.get("number") and session.execute(select(Household.id).where(Household.number == values["number"])).first():
        issues.append(Issue("duplicate-household-number", f"户号 {values['number']} 已存在", {"field": "number"}))
    return entities.record_new(session, actor, "household", values, issues, effective or clock.today(), batch)


def update_household(
    session: Session,
    actor: User,
    household_id: int,
    changes: dict[str, Any],
    *,
    effective: date | None = None,
    expected_version: int | None = None,
    batch: ChangeBatch | None = None,
    action: str = "update",
) -> history.Change:
    household = get_household(session, actor, household_id)
    require_write(actor, household.area_code)
    values, issues = entities.changed_values(session, actor, household, changes, check_household)
    return entities.record_change(session, actor, "household", household_id, values, changes, issues,
                                  effective or clock.today(), expected_version=expected_version, batch=batch, action=action)


def end_household(session: Session, actor: User, household_id: int, on: date, *, batch: ChangeBatch | None = None,
                  expected_version: int | None = None) -> history.Change:
    """Close a household (注销); refused while living members still belong to it."""
    household = get_household(session, actor, household_id)
    if household.status != "1":
        raise ValidationFailed(Issue("already-ended", f"户 {household.number} 已注销", {"field": "status"}))
    if on > clock.today():
        raise ValidationFailed(Issue("future-date", "注销日期不能晚于今天", {"field": "on"}))
    if members(session, actor, household_id, alive_only=True):
        raise ValidationFailed(Issue("household-has-members", "该户仍有在世成员，请先迁出或转户后再注销", {"record": household_id}))
    return update_household(session, actor, household_id, {"status": "2", "status_date": on}, effective=on, batch=batch,
                            action="end", expected_version=expected_version)


@dataclass(frozen=True)
class HouseholdRow:
    household: Household
    head_name: str | None
    living_members: int


def search_households(
    session: Session, actor: User, area: str, *, text: str | None = None, tag: str | None = None,
    status: str | None = "1", page: int = 1, per_page: int = 50,
) -> Page:
    """Households of an area in the actor's scope with their head and living-member count.

    ``text`` matches the 户号 (prefix), the address (contains) or a member's name (contains) or ID number
    (prefix); ``tag`` keeps households holding that tag today, or with a member who does.
    """
    require_read(actor, area)
    query = select(Household).where(within_area(Household.area_code, area), scope_of(actor).clause(Household.area_code),
                                    listed_household_clause(session, actor, area))
    if status:
        query = query.where(Household.status == status)
    if text and text.strip():
        needle = text.strip()
        by_member = select(Person.household_id).where(
            within_area(Person.area_code, area),
            or_(Person.name.contains(needle), id_search(session, actor, Person.id_number, needle.upper())),
            Person.household_id.is_not(None))
        query = query.where(or_(Household.number.startswith(needle),
                                text_search(session, actor, "address", Household.address, needle),
                                Household.id.in_(by_member)))
    if tag and not tag_visible(session, actor, tag):
        query = query.where(false())  # filtering by another department's sensitive tag would disclose it
    elif tag:
        day = clock.today()
        current = and_(Tag.tag_code == tag, Tag.valid_from <= day, or_(Tag.valid_to.is_(None), Tag.valid_to > day))
        member_tagged = select(Person.household_id).join(Tag, Tag.person_id == Person.id).where(
            current, within_area(Person.area_code, area))
        query = query.where(or_(exists().where(current, Tag.household_id == Household.id), Household.id.in_(member_tagged)))
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    page = min(max(1, page), max(1, -(-total // per_page)))  # past the end: the last page
    found = list(session.execute(query.order_by(Household.number).offset((page - 1) * per_page).limit(per_page)).scalars())
    ids = [h.id for h in found]
    heads: dict[int, str] = {}
    counts: dict[int, int] = {}
    if ids:
        for hid, name in session.execute(select(Person.household_id, Person.name).where(
                Person.household_id.in_(ids), Person.relation == HEAD, Person.living_status == ALIVE)):
            heads.setdefault(hid, name)
        counts = dict(session.execute(select(Person.household_id, func.count(Person.id)).where(
            Person.household_id.in_(ids), Person.living_status == ALIVE).group_by(Person.household_id)).all())
    rows = [HouseholdRow(h, heads.get(h.id), counts.get(h.id, 0)) for h in found]
    return Page(rows, total, page, per_page)


def household_by_number(session: Session, actor: User, number: str) -> Household:
    """The household with this 户号 (exact), if the actor may read it."""
    found = session.execute(select(Household).where(Household.number == number.strip())).scalar_one_or_none()
    if found is None:
        raise ValidationFailed(Issue("unknown-household", f"户号 {number} 不存在", {"field": "household_number"}))
    require_read(actor, found.area_code)
    return found


def numbers_of(session: Session, household_ids: set[int]) -> dict[int, str]:
    """户号 by household id, for lists that show persons."""
    if not household_ids:
        return {}
    return dict(session.execute(select(Household.id, Household.number).where(Household.id.in_(household_ids))).all())


def houses_of(session: Session, actor: User, household_id: int) -> list[House]:
    """The houses a household lives in (current state)."""
    get_household(session, actor, household_id)
    return list(session.execute(select(House).where(House.household_id == household_id).order_by(House.id)).scalars())

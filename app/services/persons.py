"""Persons: read, create, change, end (death / moving out) and move between households.

Every write runs the field checks (``check_person``) and the cross-field rules of ``rules.py``;
``confirm_warnings=True`` saves despite warnings (age over 110, a household of 15+), errors never.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import and_, exists, false, func, or_, select
from sqlmodel import Session

from app import clock
from app.issues import Issue, NotFound, ValidationFailed
from app.models import ChangeBatch, Household, Person, Tag, User
from app.services import history, rules
from app.services.fields import check_values, with_defaults
from app.services.scope import (
    id_search,
    listed_person_clause,
    person_need_to_know,
    require_need_to_know,
    require_read,
    require_write,
    scope_of,
    tag_visible,
)
from app.validators.idcard import check_id_number

ALIVE, DECEASED, MOVED_OUT = "1", "2", "3"
END_REASONS = {"death": DECEASED, "moved_out": MOVED_OUT}


def today() -> date:
    return clock.today()


def get_person(session: Session, actor: User, person_id: int) -> Person:
    person = session.get(Person, person_id)
    if person is None:
        raise NotFound(Issue("not-found", f"人员 #{person_id} 不存在", {"record": person_id}))
    require_read(actor, person.area_code)
    require_need_to_know(session, actor, person=person)
    return person


def find_persons(session: Session, actor: User, text: str | None = None, *, area: str | None = None, limit: int = 50) -> list[Person]:
    """Persons in the actor's scope whose name, ID number or household number matches ``text``."""
    query = select(Person).where(scope_of(actor).clause(Person.area_code),
                                 person_need_to_know(session, actor, Person.id, Person.household_id))
    if area:
        require_read(actor, area)
        query = query.where(Person.area_code.startswith(area))
    if text:
        text = text.strip().upper()
        query = query.outerjoin(Household, Person.household_id == Household.id).where(
            or_(Person.name.contains(text), id_search(session, actor, Person.id_number, text), Household.number == text)
        )
    return list(session.execute(query.order_by(Person.area_code, Person.household_id, Person.id).limit(limit)).scalars())


def check_person(session: Session, values: dict[str, Any]) -> tuple[dict[str, Any], list[Issue]]:
    """Normalise and validate a person's full set of values; returns (normalised values, issues).

    The ID number decides birth date and sex: they are filled from it when missing and must agree
    with it when given.
    """
    values = dict(values)
    issues: list[Issue] = []
    raw_id = values.get("id_number")
    if raw_id:
        result = check_id_number(str(raw_id), birth_date=values.get("birth_date"), sex=values.get("sex"))
        issues += [i.at(field="id_number") for i in result.issues]
        if result.ok:
            values["id_number"] = result.value
            values.setdefault("birth_date", result.birth_date)
            values["birth_date"] = values["birth_date"] or result.birth_date
            values["sex"] = values.get("sex") or result.sex
    values = with_defaults(Person, values)
    issues += [i for i in check_values(session, Person, values) if i.location.get("field") != "id_number" or not raw_id]

    if values.get("living_status", ALIVE) != ALIVE and not values.get("status_date"):
        issues.append(Issue("status-date-required", "死亡或迁出的人员须填写日期", {"field": "status_date"}))
    if values.get("status_date") and values.get("birth_date") and values["status_date"] < values["birth_date"]:
        issues.append(Issue("status-before-birth", "死亡或迁出日期早于出生日期", {"field": "status_date"}))
    household_id = values.get("household_id")
    if household_id is not None:
        household = session.get(Household, household_id)
        if household is None:
            issues.append(Issue("unknown-household", f"户 #{household_id} 不存在", {"field": "household_id"}))
        elif values.get("area_code") and household.area_code[:12] != values["area_code"][:12]:
            issues.append(Issue("household-area", "人员所在村与所属户所在村不一致", {"field": "area_code"},
                                hint=f"该户属于 {household.area_code}"))
    return values, issues


def create_person(
    session: Session, actor: User, values: dict[str, Any], *, effective: date | None = None, batch: ChangeBatch | None = None,
    confirm_warnings: bool = False,
) -> Person:
    """Add a person; ``effective`` is the date from which they belong to the area (default: today;
    for a newborn, the birth date)."""
    values, issues = check_person(session, values)
    require_write(actor, values.get("area_code"))
    if values.get("id_number") and session.execute(select(Person.id).where(Person.id_number == values["id_number"])).first():
        issues.append(Issue("duplicate-id-number", f"身份证号 {values['id_number']} 已登记", {"field": "id_number"}))
    if not any(i.severity == "error" for i in issues):
        issues += rules.person_rules(session, values, on=effective or today())
    rules.enforce(issues, confirm_warnings=confirm_warnings)
    batch = batch or history.open_batch(session, actor, "web")
    return history.create_version(session, batch, "person", values, effective or today())


def update_person(
    session: Session,
    actor: User,
    person_id: int,
    changes: dict[str, Any],
    *,
    effective: date | None = None,
    expected_version: int | None = None,
    batch: ChangeBatch | None = None,
    action: str = "update",
    confirm_warnings: bool = False,
) -> history.Change:
    """Change some fields of a person from ``effective`` on (default today).

    ``expected_version`` is the ``row_version`` the editor loaded: if someone saved in between, a
    ``Conflict`` names what they changed and nothing is written.
    """
    person = get_person(session, actor, person_id)
    require_write(actor, person.area_code)
    current = person.model_dump(exclude={"id", "row_version", "batch_id", "valid_from"})
    values, issues = check_person(session, {**current, **changes})
    if "area_code" in changes:
        require_write(actor, values["area_code"])
    if values["id_number"] != person.id_number and session.execute(
        select(Person.id).where(Person.id_number == values["id_number"], Person.id != person_id)
    ).first():
        issues.append(Issue("duplicate-id-number", f"身份证号 {values['id_number']} 已登记", {"field": "id_number"}))
    if not any(i.severity == "error" for i in issues):
        issues += rules.person_rules(session, values, person_id=person_id, on=effective or today(), action=action)
    rules.enforce(issues, confirm_warnings=confirm_warnings)
    batch = batch or history.open_batch(session, actor, "web")
    normalised = {k: values[k] for k in changes if k in values}
    return history.change_version(
        session, batch, "person", person_id, normalised, effective or today(), expected_version=expected_version, action=action
    )


def end_person(
    session: Session,
    actor: User,
    person_id: int,
    reason: str,
    on: date,
    *,
    moved_to: str | None = None,
    expected_version: int | None = None,
    batch: ChangeBatch | None = None,
    confirm_warnings: bool = False,
) -> history.Change:
    """Record a death or a moving out on ``on``; the person's current tags end the same day."""
    if reason not in END_REASONS:
        raise ValidationFailed(Issue("bad-end-reason", "注销原因只能是死亡或迁出", {"field": "living_status"}))
    person = get_person(session, actor, person_id)
    if person.living_status != ALIVE:
        raise ValidationFailed(Issue("already-ended", f"{person.name}已是死亡或迁出状态", {"field": "living_status"}))
    if on > today():
        raise ValidationFailed(Issue("future-date", "死亡或迁出日期不能晚于今天", {"field": "status_date"}))
    if reason == "moved_out" and not moved_to:
        raise ValidationFailed(Issue("moved-to-required", "迁出须填写迁往地", {"field": "moved_to"}))
    batch = batch or history.open_batch(session, actor, "web")
    change = update_person(
        session,
        actor,
        person_id,
        {"living_status": END_REASONS[reason], "status_date": on, "moved_to": moved_to},
        effective=on,
        expected_version=expected_version,
        batch=batch,
        action="end",
        confirm_warnings=confirm_warnings,
    )
    for tag in session.execute(
        select(Tag).where(Tag.person_id == person_id, or_(Tag.valid_to.is_(None), Tag.valid_to > on))
    ).scalars():
        old = tag.valid_to
        tag.valid_to = max(on, tag.valid_from)
        history.log_change(session, batch, "tag", tag.id, "end", {"valid_to": (old, tag.valid_to)}, on)
    return change


def move_person(
    session: Session,
    actor: User,
    person_id: int,
    household_id: int,
    on: date,
    *,
    relation: str | None = None,
    expected_version: int | None = None,
    batch: ChangeBatch | None = None,
    confirm_warnings: bool = False,
) -> history.Change:
    """Move a person into another household (and its village) from ``on``."""
    household = session.get(Household, household_id)
    if household is None:
        raise ValidationFailed(Issue("unknown-household", f"户 #{household_id} 不存在", {"field": "household_id"}))
    require_write(actor, household.area_code)
    changes: dict[str, Any] = {"household_id": household_id, "area_code": household.area_code}
    if relation:
        changes["relation"] = relation
    return update_person(session, actor, person_id, changes, effective=on, expected_version=expected_version, batch=batch,
                         confirm_warnings=confirm_warnings)


def within_area(column: Any, code: str) -> Any:
    """``column`` (an area code) lies in the area ``code`` or below it, as a range the index can use.

    Area codes are digits (12, or 15 for grids), so "starts with ``code``" is the range from ``code`` to
    ``code`` padded with 9s; ``LIKE 'code%'`` would scan every row on both databases.
    """
    return and_(column >= code, column <= code + "9" * (15 - len(code)), column.startswith(code))


@dataclass(frozen=True)
class Page:
    """One page of a list: the rows, the total count and where we are."""

    rows: list[Any]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def search_persons(
    session: Session,
    actor: User,
    area: str,
    *,
    text: str | None = None,
    tag: str | None = None,
    living_status: str | None = None,
    residence_type: str | None = None,
    page: int = 1,
    per_page: int = 50,
) -> Page:
    """Persons of an area (village or grid) in the actor's scope, filtered and paginated.

    ``text`` matches a name (contains), an ID number (prefix) or a 户号 (exact); ``tag`` keeps persons
    holding that tag today, or living in a household that does.
    """
    require_read(actor, area)
    query = select(Person).where(within_area(Person.area_code, area), scope_of(actor).clause(Person.area_code),
                                 listed_person_clause(session, actor, area))
    if text and text.strip():
        needle = text.strip().upper()
        numbers = select(Household.id).where(Household.number == text.strip())
        query = query.where(or_(Person.name.contains(text.strip()), id_search(session, actor, Person.id_number, needle),
                                Person.household_id.in_(numbers)))
    if living_status:
        query = query.where(Person.living_status == living_status)
    if residence_type:
        query = query.where(Person.residence_type == residence_type)
    if tag and not tag_visible(session, actor, tag):
        query = query.where(false())  # filtering by another department's sensitive tag would disclose it
    elif tag:
        day = today()
        current = and_(Tag.tag_code == tag, Tag.valid_from <= day, or_(Tag.valid_to.is_(None), Tag.valid_to > day))
        query = query.where(or_(
            exists().where(current, Tag.person_id == Person.id),
            exists().where(current, Tag.household_id == Person.household_id),
        ))
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    page = min(max(1, page), max(1, -(-total // per_page)))  # past the end: the last page
    rows = session.execute(
        query.order_by(Person.household_id, Person.relation, Person.id).offset((page - 1) * per_page).limit(per_page)
    ).scalars()
    return Page(list(rows), total, page, per_page)

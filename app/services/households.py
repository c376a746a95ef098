"""Households: read with members, create, change, end (注销)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from app.issues import Issue, NotFound, ValidationFailed
from app.models import Area, ChangeBatch, Household, Person, User
from app.services import history
from app.services.fields import check_values, with_defaults
from app.services.persons import ALIVE, today
from app.services.scope import require_read, require_write

HEAD = "02"


def get_household(session: Session, actor: User, household_id: int) -> Household:
    household = session.get(Household, household_id)
    if household is None:
        raise NotFound(Issue("not-found", f"户 #{household_id} 不存在", {"record": household_id}))
    require_read(actor, household.area_code)
    return household


def members(session: Session, actor: User, household_id: int, *, alive_only: bool = False) -> list[Person]:
    get_household(session, actor, household_id)
    query = select(Person).where(Person.household_id == household_id)
    if alive_only:
        query = query.where(Person.living_status == ALIVE)
    return list(session.execute(query.order_by(Person.relation, Person.birth_date)).scalars())


def head_of(session: Session, actor: User, household_id: int) -> Person | None:
    """The living member whose relation is 户主 (02)."""
    heads = [p for p in members(session, actor, household_id, alive_only=True) if p.relation == HEAD]
    return heads[0] if heads else None


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
    if issues:
        raise ValidationFailed(issues)
    batch = batch or history.open_batch(session, actor, "web")
    return history.create_version(session, batch, "household", values, effective or today())


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
    current = household.model_dump(exclude={"id", "row_version", "batch_id", "valid_from"})
    values, issues = check_household(session, {**current, **changes})
    if "area_code" in changes:
        require_write(actor, values["area_code"])
    if issues:
        raise ValidationFailed(issues)
    batch = batch or history.open_batch(session, actor, "web")
    return history.change_version(
        session, batch, "household", household_id, {k: values[k] for k in changes}, effective or today(),
        expected_version=expected_version, action=action,
    )


def end_household(session: Session, actor: User, household_id: int, on: date, *, batch: ChangeBatch | None = None) -> history.Change:
    """Close a household (注销); refused while living members still belong to it."""
    if members(session, actor, household_id, alive_only=True):
        raise ValidationFailed(Issue("household-has-members", "该户仍有在世成员，请先迁出或转户后再注销", {"record": household_id}))
    return update_household(session, actor, household_id, {"status": "2", "status_date": on}, effective=on, batch=batch, action="end")

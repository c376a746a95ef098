"""Organisations (企业、个体工商户、机关、村集体经济组织 …): read, register, change, close (注销).

The 统一社会信用代码 (USCC) is optional (a small shop may have none yet) but, when given, must pass
the GB 32100 check (``app.validators``) and be unique. Closing sets the status to 注销 (2) from the
closing day; a closed organisation stays in the history and can no longer be changed. Every write
checks the actor's scope and records the change; changes check the ``row_version`` the editor loaded.
``batch`` lets an import write many records under one recorded change.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, or_, select
from sqlmodel import Session

from app.clock import today
from app.issues import Issue, NotFound, ValidationFailed
from app.models import Area, ChangeBatch, Organisation, User
from app.services import entities, history
from app.services.fields import check_values, with_defaults
from app.services.persons import Page, within_area
from app.services.scope import require_read, require_write, scope_of
from app.validators.uscc import check_uscc

ACTIVE, CLOSED = "1", "2"


def get_organisation(session: Session, actor: User, organisation_id: int) -> Organisation:
    org = session.get(Organisation, organisation_id)
    if org is None:
        raise NotFound(Issue("not-found", f"单位 #{organisation_id} 不存在", {"record": organisation_id}))
    require_read(actor, org.area_code)
    return org


def check_organisation(session: Session, values: dict[str, Any]) -> tuple[dict[str, Any], list[Issue]]:
    """Normalise and validate an organisation's full set of values; returns (values, issues)."""
    values = with_defaults(Organisation, values)
    for key in ("name", "uscc"):
        if isinstance(values.get(key), str):
            values[key] = values[key].strip() or None
    issues: list[Issue] = []
    if values.get("uscc"):
        result = check_uscc(values["uscc"])
        issues += [i.at(field="uscc") for i in result.issues]
        if result.ok:
            values["uscc"] = result.value
    issues += [i for i in check_values(session, Organisation, values) if i.location.get("field") != "uscc" or not issues]
    if values.get("area_code") and session.get(Area, values["area_code"]) is None:
        issues.append(Issue("unknown-area", f"区划 {values['area_code']} 不存在", {"field": "area_code"}))
    employees = values.get("employees")
    if employees is not None and (not isinstance(employees, int) or isinstance(employees, bool) or employees < 0):
        issues.append(Issue("bad-count", f"从业人员数须为不小于0的整数，现为“{employees}”", {"field": "employees"}))
    return values, issues


def _duplicate_uscc(session: Session, uscc: str | None, organisation_id: int | None = None) -> list[Issue]:
    if not uscc:
        return []
    query = select(Organisation.id, Organisation.name).where(Organisation.uscc == uscc)
    if organisation_id is not None:
        query = query.where(Organisation.id != organisation_id)
    found = session.execute(query).first()
    if found is None:
        return []
    return [Issue("duplicate-uscc", f"统一社会信用代码 {uscc} 已登记（{found.name}）", {"field": "uscc"})]


def create_organisation(session: Session, actor: User, values: dict[str, Any], *, effective: date | None = None,
                        batch: ChangeBatch | None = None) -> Organisation:
    """Register an organisation (active) from ``effective`` on (default today)."""
    values, issues = check_organisation(session, {**values, "status": ACTIVE})
    require_write(actor, values.get("area_code"))
    issues += _duplicate_uscc(session, values.get("uscc"))
    when = effective or today()
    return entities.record_new(session, actor, "organisation", values, issues + entities.future_date(when), when, batch)


def update_organisation(
    session: Session,
    actor: User,
    organisation_id: int,
    changes: dict[str, Any],
    *,
    effective: date | None = None,
    expected_version: int | None = None,
    batch: ChangeBatch | None = None,
    action: str = "update",
) -> history.Change:
    """Change some fields from ``effective`` on (default today); a closed organisation is final."""
    org = get_organisation(session, actor, organisation_id)
    when = entities.open_for_change(
        actor, org, changes, action, effective, active=ACTIVE,
        final=Issue("organisation-closed", f"{org.name}已注销，不能再修改", {"record": organisation_id}),
        managed=Issue("managed-field", "单位状态只能通过“注销”登记改变", {"field": "status"}))
    values, issues = entities.changed_values(session, actor, org, changes, check_organisation)
    if values.get("uscc") != org.uscc:
        issues += _duplicate_uscc(session, values.get("uscc"), organisation_id)
    return entities.record_change(session, actor, "organisation", organisation_id, values, changes, issues, when,
                                  expected_version=expected_version, batch=batch, action=action)


def close_organisation(session: Session, actor: User, organisation_id: int, on: date, *,
                       expected_version: int | None = None, batch: ChangeBatch | None = None) -> history.Change:
    """Record the closing (注销) on ``on``: from that day the organisation is no longer counted."""
    org = get_organisation(session, actor, organisation_id)
    if org.status != ACTIVE:
        raise ValidationFailed(Issue("already-ended", f"{org.name}已是注销状态", {"field": "status"}))
    if on > today():
        raise ValidationFailed(Issue("future-date", "注销日期不能晚于今天", {"field": "on"}))
    return update_organisation(session, actor, organisation_id, {"status": CLOSED}, effective=on,
                               expected_version=expected_version, batch=batch, action="end")


def search_organisations(
    session: Session, actor: User, area: str, *, text: str | None = None, kind: str | None = None,
    status: str | None = ACTIVE, page: int = 1, per_page: int = 50,
) -> Page:
    """Organisations of an area in the actor's scope; ``text`` matches the name (contains) or the USCC (prefix)."""
    require_read(actor, area)
    query = select(Organisation).where(within_area(Organisation.area_code, area), scope_of(actor).clause(Organisation.area_code))
    if status:
        query = query.where(Organisation.status == status)
    if kind:
        query = query.where(Organisation.kind == kind)
    if text and text.strip():
        needle = text.strip()
        query = query.where(or_(Organisation.name.contains(needle), Organisation.uscc.startswith(needle.upper())))
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    page = max(1, page)
    rows = session.execute(query.order_by(Organisation.kind, Organisation.name, Organisation.id)
                           .offset((page - 1) * per_page).limit(per_page)).scalars()
    return Page(list(rows), total, page, per_page)

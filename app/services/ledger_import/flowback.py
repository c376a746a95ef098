"""Data flow-back (数据回流): authoritative lists from higher levels reconciled with the base data.

Four kinds of list: deaths (死亡名单), household-register moves (户籍迁出), disability certificates
(残疾证, with validity dates) and pension receivers (养老金领取). Every row ends matched, unmatched
(not in our data), mismatched (same ID, different name or birth date), outside the importer's scope,
or rejected (no usable ID number). Differences that need a decision become ``FlowbackAlert`` rows;
a cadre confirms one (the change is applied through the services, source ``flowback``) or dismisses
it with a reason. Nothing in the base data changes before a confirmation.

Reading is ``importers.lists`` (one header row, found by its ID column; no database): these lists are
plain exports from the provincial systems, not hand-kept ledgers.
"""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Any

from sqlalchemy import or_, select
from sqlmodel import Session

from app import clock
from app.issues import Issue, NotFound, ValidationFailed
from app.models import FlowbackAlert, ImportBatch, ImportFile, Person, Tag, User
from app.models.base import utcnow
from app.services import history
from app.services import persons as person_service
from app.services import tags as tag_service
from app.services.scope import import_clause, require_read, require_write, scope_of
from importers.lists import read_list

KINDS = {"deaths": "死亡名单", "moves": "户籍迁出名单", "disability": "残疾证名单", "pension": "养老金领取名单"}
ALERT_KINDS = {
    "deceased": "已死亡但仍登记在世",
    "moved-out": "已迁出但仍计入本村",
    "certificate-expired": "残疾证已过期",
    "pension-deceased": "已死亡但仍在领取养老金名单",
    "mismatch": "信息不一致",
}
BENEFIT_TAGS = {"dibao": "低保", "dibao_edge": "低保边缘", "tekun": "特困供养", "pension_insured": "养老金"}


# ------------------------------------------------------------------ reconciling


def _benefits(session: Session, person: Person, on: date) -> list[str]:
    """What the person (or their household) still receives on ``on``, in words."""
    open_tag = or_(Tag.valid_to.is_(None), Tag.valid_to > on)
    held = set(session.execute(select(Tag.tag_code).where(Tag.person_id == person.id, open_tag, Tag.valid_from <= on)).scalars())
    if person.household_id is not None:
        held |= set(session.execute(select(Tag.tag_code).where(Tag.household_id == person.household_id, open_tag,
                                                                Tag.valid_from <= on)).scalars())
    return [label for code, label in BENEFIT_TAGS.items() if code in held]


def _open_disability(session: Session, person_id: int, on: date) -> Tag | None:
    return session.execute(select(Tag).where(Tag.person_id == person_id, Tag.tag_code == "disabled",
                                             or_(Tag.valid_to.is_(None), Tag.valid_to > on))).scalars().first()


def _alert_for(session: Session, kind: str, person: Person, values: dict[str, Any], today: date) -> tuple[str, str] | None:
    """(alert kind, message) when the list and the base data disagree in a way someone must decide."""
    when = values.get("date")
    alive = person.living_status == person_service.ALIVE
    if kind == "deaths" and alive:
        benefits = _benefits(session, person, today)
        text = f"死亡名单显示{person.name}已于{when}死亡，本系统仍登记为在世"
        if benefits:
            text = f"已死亡但仍享受{'、'.join(benefits)}：" + text
        return "deceased", text
    if kind == "moves" and alive:
        return "moved-out", f"户籍迁出名单显示{person.name}已于{when}迁出" + (f"（迁往{values['moved_to']}）" if values.get("moved_to") else "") + \
            "，但仍计入本村"
    if kind == "disability" and when is not None and when < today:
        tag = _open_disability(session, person.id, today)
        if tag is not None:
            return "certificate-expired", f"{person.name}的残疾证已于{when}过期，仍登记为持证残疾"
    if kind == "pension" and person.living_status == person_service.DECEASED:
        return "pension-deceased", f"本系统登记{person.name}已于{person.status_date}死亡，但仍在养老金领取名单中"
    return None


def _mismatch(person: Person, values: dict[str, Any]) -> str | None:
    parts = []
    if values.get("name") and values["name"] != person.name:
        parts.append(f"姓名：名单为“{values['name']}”，本系统为“{person.name}”")
    if values.get("birth_date") and values["birth_date"] != person.birth_date:
        parts.append(f"出生日期：名单为{values['birth_date']}，本系统为{person.birth_date}")
    return "同一身份证号信息不一致——" + "；".join(parts) + "。请核实身份后处理" if parts else None


def reconcile(session: Session, actor: User, kind: str, content: bytes, file_name: str, *,
              isolated: bool = False) -> ImportBatch:
    """Read a list, compare it with the base data in the actor's scope, raise alerts; the caller commits
    (the batch is kept, status ``rejected``, when the file itself is refused)."""
    if kind not in KINDS:
        raise ValidationFailed(Issue("bad-kind", f"名单类型“{kind}”无效", {"field": "kind"}, hint="可选：" + "、".join(KINDS)))
    # alerts ask villages to change data: only a role that keeps it, or the department owning the list's tag
    require_write(actor, actor.area_code, tag_department={"disability": "cdpf", "pension": "hrss"}.get(kind))
    rows, file_issues = read_list(content, file_name, kind, isolated=isolated)
    scope = scope_of(actor)
    today = clock.today()
    counts = {"rows": len(rows), "matched": 0, "unmatched": 0, "mismatched": 0, "rejected": 0, "alerts": 0}
    batch = ImportBatch(kind=kind, file_name=file_name[:255], sha256=hashlib.sha256(content).hexdigest(), size_bytes=len(content),
                        area_code=actor.area_code, policy="queue", status="rejected" if file_issues else "applied",
                        actor_id=actor.id, applied_at=utcnow())
    session.add(batch)
    session.flush()
    ids = [r.values["id_number"] for r in rows if r.values.get("id_number") and not r.issues]
    persons: dict[str, Person] = {}
    for i in range(0, len(ids), 500):
        # only the actor's area: an ID number elsewhere counts as unmatched (no existence oracle)
        for p in session.execute(select(Person).where(Person.id_number.in_(ids[i:i + 500]),
                                                      scope.clause(Person.area_code))).scalars():
            persons[p.id_number] = p
    samples: dict[str, list[dict[str, Any]]] = {"unmatched": [], "rejected": [], "mismatched": []}
    for r in rows:
        plain = {k: v.isoformat() if isinstance(v, date) else v for k, v in r.values.items() if v is not None}
        if r.issues:
            counts["rejected"] += 1
            if len(samples["rejected"]) < 50:
                samples["rejected"].append({"row": r.row, **plain, "issues": [str(i) for i in r.issues]})
            continue
        person = persons.get(r.values["id_number"])
        if person is None:
            counts["unmatched"] += 1
            if len(samples["unmatched"]) < 50:
                samples["unmatched"].append({"row": r.row, **plain})
            continue
        mismatch = _mismatch(person, r.values)
        found = ("mismatch", mismatch) if mismatch else _alert_for(session, kind, person, r.values, today)
        counts["mismatched" if mismatch else "matched"] += 1
        if mismatch and len(samples["mismatched"]) < 50:
            samples["mismatched"].append({"row": r.row, **plain})
        if found is None or _already_open(session, found[0], person.id):
            continue
        session.add(FlowbackAlert(import_id=batch.id, kind=found[0], person_id=person.id, area_code=person.area_code,
                                  id_number=person.id_number, name=person.name, message=found[1][:500], list_values=plain,
                                  row=r.row))
        counts["alerts"] += 1
    batch.counts = counts
    batch.summary = {"file_issues": [i.to_dict() for i in file_issues], "samples": samples}
    session.add(ImportFile(import_id=batch.id, content=content))
    session.flush()
    return batch



def _already_open(session: Session, kind: str, person_id: int) -> bool:
    return session.execute(select(FlowbackAlert.id).where(FlowbackAlert.kind == kind, FlowbackAlert.person_id == person_id,
                                                          FlowbackAlert.status == "open")).first() is not None


# ------------------------------------------------------------------ the alerts


def alerts(session: Session, actor: User, *, status: str | None = "open", import_id: int | None = None,
           limit: int = 500) -> list[FlowbackAlert]:
    """Alerts about persons in the actor's area (a village cadre sees their own village only)."""
    query = select(FlowbackAlert).where(scope_of(actor).clause(FlowbackAlert.area_code), FlowbackAlert.import_id.in_(
        select(ImportBatch.id).where(import_clause(actor, ImportBatch.actor_id))))  # need-to-know: a department's own lists
    if status:
        query = query.where(FlowbackAlert.status == status)
    if import_id is not None:
        query = query.where(FlowbackAlert.import_id == import_id)
    return list(session.execute(query.order_by(FlowbackAlert.id).limit(limit)).scalars())


def _get_open(session: Session, actor: User, alert_id: int) -> FlowbackAlert:
    alert = session.get(FlowbackAlert, alert_id)
    if alert is None:
        raise NotFound(Issue("not-found", f"提醒 #{alert_id} 不存在", {"record": alert_id}))
    require_read(actor, alert.area_code)
    if alert.status != "open":
        raise ValidationFailed(Issue("already-resolved", f"该提醒已处理（{'已确认' if alert.status == 'confirmed' else '已忽略'}）",
                                     {"record": alert_id}))
    return alert


def _list_date(alert: FlowbackAlert) -> date | None:
    value = alert.list_values.get("date")
    return date.fromisoformat(value) if value else None


def confirm(session: Session, actor: User, alert_id: int) -> FlowbackAlert:
    """Apply what the list says, with history (source ``flowback``), and close the alert; the caller commits."""
    alert = _get_open(session, actor, alert_id)
    batch = history.open_batch(session, actor, "flowback", note=f"数据回流：{ALERT_KINDS[alert.kind]}（提醒 #{alert.id}）")
    person_id = alert.person_id
    assert person_id is not None
    if alert.kind == "deceased":
        person_service.end_person(session, actor, person_id, "death", _list_date(alert), batch=batch)
    elif alert.kind == "moved-out":
        person_service.end_person(session, actor, person_id, "moved_out", _list_date(alert),
                                  moved_to=alert.list_values.get("moved_to") or "名单未注明迁往地", batch=batch)
    elif alert.kind == "certificate-expired":
        on = _list_date(alert)
        tag = _open_disability(session, person_id, clock.today())
        if tag is not None:
            tag_service.end_tag(session, actor, tag.id, max(on, tag.valid_from), reason="残疾证过期", batch=batch)
    elif alert.kind == "mismatch":
        name = alert.list_values.get("name")
        person = session.get(Person, person_id)
        if name and person is not None and name != person.name:
            person_service.update_person(session, actor, person_id, {"name": name}, batch=batch)
        else:
            require_write(actor, alert.area_code)
    else:  # pension-deceased: the base data is right; confirming records that the payer is told
        require_write(actor, alert.area_code, tag_department="hrss")
    alert.status, alert.resolved_by, alert.resolved_at, alert.change_batch_id = "confirmed", actor.id, utcnow(), batch.id
    session.flush()
    return alert


def dismiss(session: Session, actor: User, alert_id: int, reason: str) -> FlowbackAlert:
    """Close an alert without changing the base data; who and why are recorded; the caller commits."""
    alert = _get_open(session, actor, alert_id)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(Issue("reason-required", "忽略提醒须填写原因", {"field": "reason"}))
    tag_department = {"certificate-expired": "cdpf", "pension-deceased": "hrss"}.get(alert.kind)
    require_write(actor, alert.area_code, tag_department=tag_department)
    alert.status, alert.resolved_by, alert.resolved_at, alert.reason = "dismissed", actor.id, utcnow(), reason[:500]
    session.flush()
    return alert

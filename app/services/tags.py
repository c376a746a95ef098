"""Tags on persons and households: grant (with attributes and evidence) and end."""

from __future__ import annotations

from datetime import date
from types import EllipsisType
from typing import Any

from sqlalchemy import or_, select
from sqlmodel import Session

from app import clock
from app.issues import Conflict, Issue, NotFound, ValidationFailed
from app.models import ChangeBatch, ChangeLog, Household, Person, Tag, TagType, User
from app.services import history, rules
from app.services.codelists import code_lists
from app.services.persons import ALIVE
from app.services.scope import hidden_tags, holder_tag_codes, require_read, require_write, scope_of


def tag_types(session: Session) -> dict[str, TagType]:
    return {t.code: t for t in session.execute(select(TagType).order_by(TagType.sort_order)).scalars()}


def _subject_area(session: Session, tag_type: TagType, subject_id: int) -> tuple[str, Person | Household]:
    model = Person if tag_type.subject == "person" else Household
    subject = session.get(model, subject_id)
    if subject is None:
        kind = "人员" if model is Person else "户"
        raise ValidationFailed(Issue("unknown-subject", f"{kind} #{subject_id} 不存在", {"field": "subject"}))
    return subject.area_code, subject


def check_attrs(session: Session, tag_type: TagType, attrs: dict[str, Any], *,
                pending: list[str] | None = None) -> tuple[dict[str, Any], list[Issue]]:
    """Validate tag attributes against the tag type's schema; returns the cleaned attributes. A required
    attribute named in ``pending`` may be missing (待补充: an import kept the tag without it)."""
    issues: list[Issue] = []
    clean: dict[str, Any] = {}
    lists = code_lists(session)
    known = {a["name"] for a in tag_type.attributes}
    for name in set(attrs) - known:
        issues.append(Issue("unknown-attribute", f"{tag_type.name}没有属性“{name}”", {"field": name},
                            hint="可用属性：" + "、".join(a["label"] for a in tag_type.attributes) if known else None))
    for spec in tag_type.attributes:
        name, label = spec["name"], spec["label"]
        value = attrs.get(name)
        if value in (None, ""):
            if spec.get("required") and name not in (pending or ()):
                issues.append(Issue("required", f"{tag_type.name}须填写{label}", {"field": name}))
            continue
        kind = spec.get("type", "text")
        if kind == "code" and str(value) not in lists.get(spec["code_list"], {}):
            issues.append(Issue("unknown-code", f"{label}的值“{value}”不在代码表中", {"field": name}))
        elif kind == "number":
            try:
                value = float(value)
            except (TypeError, ValueError):
                issues.append(Issue("not-a-number", f"{label}须为数字，现为“{value}”", {"field": name}))
        elif kind == "date" and isinstance(value, date):
            value = value.isoformat()
        clean[name] = str(value) if kind == "code" else value
    return clean, issues


def grant_tag(
    session: Session,
    actor: User,
    tag_code: str,
    subject_id: int,
    valid_from: date,
    *,
    attrs: dict[str, Any] | None = None,
    evidence: str | None = None,
    valid_to: date | None = None,
    batch: ChangeBatch | None = None,
    confirm_warnings: bool = False,
    pending: list[str] | None = None,
) -> Tag:
    """Grant a tag over ``[valid_from, valid_to)`` after the attribute checks and ``rules.tag_rules``
    (a deceased person holds no current tag; age-group tags match the holder's age)."""
    tag_type = session.get(TagType, tag_code)
    if tag_type is None:
        raise ValidationFailed(Issue("unknown-tag", f"标签“{tag_code}”不在标签字典中", {"field": "tag_code"}))
    area_code, subject = _subject_area(session, tag_type, subject_id)
    require_write(actor, area_code, tag_department=tag_type.department)
    pending = [p for p in pending or () if p not in (attrs or {})] or None
    clean, issues = check_attrs(session, tag_type, attrs or {}, pending=pending)
    if isinstance(subject, Person) and subject.living_status != ALIVE and subject.status_date and subject.status_date <= valid_from:
        issues.append(Issue("subject-ended", f"{subject.name}已死亡或迁出，不能再添加标签", {"field": "subject"}))
    if valid_to is not None and valid_to < valid_from:
        issues.append(Issue("bad-interval", "结束日期早于开始日期", {"field": "valid_to"}))
    issues += rules.tag_rules(session, tag_type, subject, valid_from, valid_to)
    open_same = session.execute(
        select(Tag.id).where(
            Tag.tag_code == tag_code,
            (Tag.person_id if tag_type.subject == "person" else Tag.household_id) == subject_id,
            or_(Tag.valid_to.is_(None), Tag.valid_to > valid_from),
        )
    ).first()
    if open_same:
        issues.append(Issue("tag-already-held", f"该对象已有有效的“{tag_type.name}”标签，请先结束原标签", {"field": "tag_code"}))
    rules.enforce(issues, confirm_warnings=confirm_warnings)
    batch = batch or history.open_batch(session, actor, "web")
    tag = Tag(
        tag_code=tag_code,
        person_id=subject_id if tag_type.subject == "person" else None,
        household_id=subject_id if tag_type.subject == "household" else None,
        valid_from=valid_from,
        valid_to=valid_to,
        attrs=clean,
        pending_attrs=pending,
        evidence=evidence,
        batch_id=batch.id,
    )
    session.add(tag)
    session.flush()
    history.log_change(
        session, batch, "tag", tag.id, "create",
        {"tag_code": (None, tag_code), "subject": (None, f"{tag_type.subject}:{subject_id}"), "attrs": (None, clean),
         "valid_from": (None, valid_from), **({"pending_attrs": (None, pending)} if pending else {})},
        valid_from,
    )
    return tag


def end_tag(session: Session, actor: User, tag_id: int, on: date, *, reason: str = "", batch: ChangeBatch | None = None) -> Tag:
    tag = session.get(Tag, tag_id)
    if tag is None:
        raise NotFound(Issue("not-found", f"标签 #{tag_id} 不存在", {"record": tag_id}))
    tag_type = session.get(TagType, tag.tag_code)
    area_code, _ = _subject_area(session, tag_type, tag.person_id or tag.household_id)
    require_write(actor, area_code, tag_department=tag_type.department)
    if tag.valid_to is not None and tag.valid_to <= on:
        raise ValidationFailed(Issue("tag-already-ended", f"该标签已于{tag.valid_to}结束", {"record": tag_id}))
    if on < tag.valid_from:
        raise ValidationFailed(Issue("bad-interval", "结束日期早于开始日期", {"field": "valid_to"}))
    batch = batch or history.open_batch(session, actor, "web", note=reason)
    old = tag.valid_to
    tag.valid_to = on
    tag.row_version += 1
    history.log_change(session, batch, "tag", tag.id, "end", {"valid_to": (old, on)}, on)
    session.flush()
    return tag


def get_tag(session: Session, actor: User, tag_id: int) -> tuple[Tag, TagType, Person | Household]:
    """One tag with its type and subject, if the actor may read it (a hidden tag is "not found")."""
    tag = session.get(Tag, tag_id)
    if tag is None or tag.tag_code in hidden_tags(session, actor):
        raise NotFound(Issue("not-found", f"标签 #{tag_id} 不存在", {"record": tag_id}))
    tag_type = session.get(TagType, tag.tag_code)
    area_code, subject = _subject_area(session, tag_type, tag.person_id or tag.household_id)
    require_read(actor, area_code)
    return tag, tag_type, subject


def tags_of(session: Session, actor: User, *, person_id: int | None = None, household_id: int | None = None,
            on: date | None = None) -> list[Tag]:
    """Tags of one subject; only those valid on ``on`` when given."""
    if person_id is not None:
        subject = session.get(Person, person_id)
        query = select(Tag).where(Tag.person_id == person_id)
    else:
        subject = session.get(Household, household_id)
        query = select(Tag).where(Tag.household_id == household_id)
    if subject is None:
        raise NotFound(Issue("not-found", "对象不存在"))
    require_read(actor, subject.area_code)
    if on is not None:
        query = query.where(Tag.valid_from <= on, or_(Tag.valid_to.is_(None), Tag.valid_to > on))
    hidden = hidden_tags(session, actor)
    return [t for t in session.execute(query.order_by(Tag.valid_from)).scalars() if t.tag_code not in hidden]


def current_tags_of_many(session: Session, *, person_ids: list[int] = (), household_ids: list[int] = (),
                         on: date | None = None) -> dict[int, list[str]]:
    """Tag codes valid on ``on`` (default today) by subject id, for one page of a list (one query).

    Callers pass ids they already read through a scoped service.
    """
    on = on or clock.today()
    if not person_ids and not household_ids:
        return {}
    subject = Tag.person_id if person_ids else Tag.household_id
    ids = person_ids or household_ids
    out: dict[int, list[str]] = {}
    for subject_id, code in session.execute(
        select(subject, Tag.tag_code).where(subject.in_(ids), Tag.valid_from <= on,
                                            or_(Tag.valid_to.is_(None), Tag.valid_to > on)).order_by(Tag.valid_from)
    ):
        out.setdefault(subject_id, []).append(code)
    return out


def pending_tags(session: Session, actor: User, *, area_prefix: str | None = None, batch_id: int | None = None,
                 import_id: int | None = None, limit: int = 500) -> list[tuple[Tag, TagType, Person | Household]]:
    """Current tags with attributes still 待补充, within the actor's scope (the village's to-do list);
    ``batch_id``: only those one change batch granted; ``import_id``: those one import granted (any chunk)."""
    out: list[tuple[Tag, TagType, Person | Household]] = []
    types = tag_types(session)
    today = clock.today()
    allowed = holder_tag_codes(session, actor)  # need-to-know: a department's to-do is its own (and granted) tags
    for model, column in ((Person, Tag.person_id), (Household, Tag.household_id)):
        query = (select(Tag, model).join(model, column == model.id)
                 .where(Tag.pending_attrs.is_not(None), or_(Tag.valid_to.is_(None), Tag.valid_to > today),
                        scope_of(actor).clause(model.area_code)))
        if allowed is not None:
            query = query.where(Tag.tag_code.in_(sorted(allowed)))
        if area_prefix:
            query = query.where(model.area_code.startswith(area_prefix))
        if batch_id is not None:
            query = query.where(Tag.batch_id == batch_id)
        if import_id is not None:
            query = query.where(Tag.batch_id.in_(select(ChangeBatch.id).where(ChangeBatch.import_id == import_id)))
        for tag, subject in session.execute(query.order_by(Tag.id).limit(limit)):
            if tag.pending_attrs:
                out.append((tag, types[tag.tag_code], subject))
    out.sort(key=lambda t: t[0].id or 0)
    return out[:limit]


def _tag_conflict(session: Session, tag: Tag, tag_type: TagType, seen: int) -> Issue:
    """A Chinese message naming who changed the tag since the version the editor loaded, when, and what."""
    entries = session.execute(
        select(ChangeLog, ChangeBatch, User)
        .join(ChangeBatch, ChangeLog.batch_id == ChangeBatch.id)
        .join(User, ChangeBatch.actor_id == User.id, isouter=True)
        .where(ChangeLog.entity == "tag", ChangeLog.entity_id == str(tag.id))
        .order_by(ChangeLog.id.desc())
        .limit(max(1, tag.row_version - seen))
    ).all()
    labels = {a["name"]: a["label"] for a in tag_type.attributes}
    parts = []
    for log, batch, user in entries:
        who = user.display_name if user else "系统"
        if "replaced_by" in log.changes:
            what = f"修改了属性（自{log.effective_date}起生效）"
        elif log.action == "end":
            what = f"将该标签结束于{log.changes.get('valid_to', [None, tag.valid_to])[-1]}"
        elif "attrs" in log.changes:
            old, new = log.changes["attrs"]
            names = [n for n in {**(old or {}), **(new or {})} if (old or {}).get(n) != (new or {}).get(n)]
            what = "修改了" + ("、".join(labels.get(n, n) for n in names) or "属性")
        else:
            what = "修改了该标签"
        parts.append(f"{who}于{clock.display(batch.created_at)}{what}")
    detail = "；".join(parts) if parts else "该标签已被他人修改"
    return Issue("edit-conflict", f"保存被拒绝：您打开后，{detail}。请刷新后重新修改。", {"record": tag.id},
                 hint="刷新页面查看最新内容")


def edit_tag_attrs(
    session: Session,
    actor: User,
    tag_id: int,
    attrs: dict[str, Any],
    effective: date,
    *,
    expected_version: int | None = None,
    evidence: str | None | EllipsisType = ...,
    batch: ChangeBatch | None = None,
) -> Tag:
    """Change a tag's attributes from ``effective`` on, in one batch; returns the tag holding the new values.

    ``attrs`` is the tag's full new attribute set (what the form shows); ``evidence`` the new 证明材料
    (left out: kept; empty: cleared). Each tag row is one fact over one
    interval (see ``Tag``), so a change after the tag's start ends the tag on ``effective`` and continues it
    from that day with the new attributes (same subject, same end); reports as of an earlier day keep
    reading the old values. A change on the start day itself corrects the tag in place. The editor's
    ``expected_version`` is checked first: a stale edit is refused naming who changed the tag and when.
    Filled 待补充 attributes leave ``pending_attrs``. Nothing is written on any issue.
    """
    tag = session.get(Tag, tag_id)
    if tag is None:
        raise NotFound(Issue("not-found", f"标签 #{tag_id} 不存在", {"record": tag_id}))
    tag_type = session.get(TagType, tag.tag_code)
    subject_id = tag.person_id or tag.household_id
    area_code, _subject = _subject_area(session, tag_type, subject_id)
    require_write(actor, area_code, tag_department=tag_type.department)
    if tag.tag_code in hidden_tags(session, actor):
        raise NotFound(Issue("not-found", f"标签 #{tag_id} 不存在", {"record": tag_id}))
    if expected_version is not None and expected_version != tag.row_version:
        raise Conflict(_tag_conflict(session, tag, tag_type, expected_version))
    if not tag_type.attributes:
        raise ValidationFailed(Issue("no-attributes", f"“{tag_type.name}”标签没有可修改的属性", {"record": tag_id}))
    issues: list[Issue] = []
    if effective < tag.valid_from:
        issues.append(Issue("before-start", f"生效日期不能早于标签的开始日期{tag.valid_from}", {"field": "valid_from"}))
    if tag.valid_to is not None and effective >= tag.valid_to:
        issues.append(Issue("tag-already-ended", f"该标签已于{tag.valid_to}结束，生效日期须早于结束日期",
                            {"field": "valid_from"}))
    if effective > clock.today() and effective != tag.valid_from:  # a tag granted ahead may be corrected in place
        issues.append(Issue("future-date", "生效日期不能晚于今天", {"field": "valid_from"}))
    given = {k: v for k, v in attrs.items() if v not in (None, "")}
    still_pending = [p for p in tag.pending_attrs or () if p not in given]
    clean, attr_issues = check_attrs(session, tag_type, given, pending=still_pending)
    issues += attr_issues
    evidence = tag.evidence if evidence is ... else (evidence or "").strip() or None
    if evidence is not None and len(evidence) > 500:
        issues.append(Issue("too-long", "证明材料 / 依据不能超过500字", {"field": "evidence"}))
    if not issues and clean == (tag.attrs or {}) and evidence == tag.evidence:
        issues.append(Issue("no-change", "属性没有变化，未保存", {"record": tag_id}))
    if issues:
        raise ValidationFailed(issues)
    batch = batch or history.open_batch(session, actor, "web")
    old_attrs, old_pending = dict(tag.attrs or {}), tag.pending_attrs
    new_pending = still_pending or None
    if effective == tag.valid_from:  # a correction from the start: the same fact, corrected
        tag.attrs, tag.pending_attrs, tag.evidence = clean, new_pending, evidence
        tag.row_version += 1
        changes: dict[str, tuple[Any, Any]] = {"attrs": (old_attrs, clean)}
        if old_pending != new_pending:
            changes["pending_attrs"] = (old_pending, new_pending)
        session.add(tag)
        history.log_change(session, batch, "tag", tag.id, "update", changes, effective)
        session.flush()
        return tag
    successor = Tag(
        tag_code=tag.tag_code, person_id=tag.person_id, household_id=tag.household_id, valid_from=effective,
        valid_to=tag.valid_to, attrs=clean, pending_attrs=new_pending, evidence=evidence, batch_id=batch.id,
    )
    old_to = tag.valid_to
    tag.valid_to = effective
    tag.row_version += 1
    session.add(tag)
    session.add(successor)
    session.flush()
    history.log_change(session, batch, "tag", tag.id, "end",
                       {"valid_to": (old_to, effective), "replaced_by": (None, successor.id)}, effective)
    history.log_change(
        session, batch, "tag", successor.id, "create",
        {"tag_code": (None, tag.tag_code), "subject": (None, f"{tag_type.subject}:{subject_id}"),
         "attrs": (old_attrs, clean), "valid_from": (None, effective), "replaces": (None, tag.id),
         **({"pending_attrs": (old_pending, new_pending)} if old_pending != new_pending else {})},
        effective,
    )
    return successor

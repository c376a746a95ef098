"""Recording changes and reading the past.

Every write to a base record goes through this module: it opens a ``ChangeBatch`` (who, when,
source), keeps the effective-dated versions of the record consistent (current row + history rows)
and writes one ``ChangeLog`` entry with the old and new value of every changed field.

Reading the past: ``as_of_select`` gives the versions valid on a date; ``changes_between`` compares
two such snapshots.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Select, or_, select, union_all, update
from sqlmodel import Session, SQLModel

from app import clock
from app.issues import Conflict, Issue, NotFound
from app.models import VERSIONED, Area, ChangeBatch, ChangeLog, Tag, User
from app.models.base import utcnow

# Columns that describe the version rather than the entity; never part of a change's diff.
BOOKKEEPING = {"id", "hid", "valid_from", "valid_to", "batch_id", "row_version"}


def open_batch(session: Session, actor: User | None, source: str, note: str = "", file_name: str | None = None) -> ChangeBatch:
    """Start a recorded change; every version and log entry written under it points back to it."""
    batch = ChangeBatch(source=source, actor_id=actor.id if actor else None, note=note, file_name=file_name, created_at=utcnow())
    session.add(batch)
    session.flush()
    return batch


def entity_fields(entity: str) -> list[str]:
    """The business fields of a versioned entity, in table order."""
    current, _ = VERSIONED[entity]
    return [c.name for c in current.__table__.columns if c.name not in BOOKKEEPING]


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def log_change(
    session: Session,
    batch: ChangeBatch,
    entity: str,
    entity_id: Any,
    action: str,
    changes: dict[str, tuple[Any, Any]],
    effective: date | None = None,
) -> ChangeLog:
    entry = ChangeLog(
        batch_id=batch.id,
        entity=entity,
        entity_id=str(entity_id),
        action=action,
        effective_date=effective,
        changes={k: [_jsonable(old), _jsonable(new)] for k, (old, new) in changes.items()},
    )
    session.add(entry)
    return entry


def create_version(session: Session, batch: ChangeBatch, entity: str, values: dict[str, Any], effective: date) -> Any:
    """Insert a new entity whose first state starts on ``effective``."""
    current, _ = VERSIONED[entity]
    row = current(**values, valid_from=effective, batch_id=batch.id)
    session.add(row)
    session.flush()
    log_change(session, batch, entity, row.id, "create", {k: (None, v) for k, v in values.items() if v is not None}, effective)
    return row


def _copy(model: type[SQLModel], source: SQLModel, **overrides: Any) -> Any:
    names = {c.name for c in model.__table__.columns} - {"hid", "row_version"}
    data = {n: getattr(source, n) for n in names if hasattr(source, n)}
    data.update(overrides)
    return model(**data)


@dataclass
class Change:
    """What one update did: the fields that changed, old → new."""

    entity: str
    entity_id: int
    fields: dict[str, tuple[Any, Any]] = field(default_factory=dict)


def change_version(
    session: Session,
    batch: ChangeBatch,
    entity: str,
    entity_id: int,
    changes: dict[str, Any],
    effective: date,
    *,
    expected_version: int | None = None,
    action: str = "update",
) -> Change:
    """Set ``changes`` on an entity from ``effective`` on, keeping earlier states in the history.

    A date on or after the current state's start closes that state and opens a new one. An earlier
    date (a correction, or a late-recorded event) rewrites every version from that date on and splits
    the version that spans it. ``expected_version`` is the row version the editor saw: a mismatch is
    a ``Conflict`` (someone else saved in between) and nothing is written.
    """
    current_model, history_model = VERSIONED[entity]
    row = session.get(current_model, entity_id, populate_existing=True, with_for_update=session.bind.dialect.name != "sqlite")
    if row is None:
        raise NotFound(Issue("not-found", f"记录不存在（{entity} #{entity_id}）", {"record": entity_id}))
    if expected_version is not None and row.row_version != expected_version:
        raise Conflict(_conflict_issue(session, entity, entity_id, expected_version, row.row_version))

    unknown = set(changes) - set(entity_fields(entity))
    if unknown:
        raise ValueError(f"unknown fields for {entity}: {sorted(unknown)}")
    diff = {k: (getattr(row, k), v) for k, v in changes.items() if getattr(row, k) != v}
    result = Change(entity, entity_id, diff)
    if not diff:
        return result
    new_values = {k: new for k, (_old, new) in diff.items()}

    if effective > row.valid_from:
        session.add(_copy(history_model, row, valid_to=effective))
        row.valid_from = effective
    elif effective < row.valid_from:
        earlier = session.execute(
            select(history_model)
            .where(history_model.id == entity_id, history_model.valid_to > effective)
            .order_by(history_model.valid_from)
        ).scalars()
        for version in list(earlier):
            if version.valid_from < effective:
                session.add(_copy(history_model, version, valid_from=effective, batch_id=batch.id, **new_values))
                version.valid_to = effective
            else:
                for k, v in new_values.items():
                    setattr(version, k, v)
                version.batch_id = batch.id
    for k, v in new_values.items():
        setattr(row, k, v)
    row.batch_id = batch.id
    session.flush()

    # The lock counter moves with a guarded UPDATE, so two writers cannot both pass the check.
    bumped = session.execute(
        update(current_model)
        .where(current_model.id == entity_id, current_model.row_version == row.row_version)
        .values(row_version=current_model.row_version + 1)
        .execution_options(synchronize_session=False)
    )
    if bumped.rowcount != 1:
        raise Conflict(_conflict_issue(session, entity, entity_id, row.row_version, None))
    session.refresh(row)
    log_change(session, batch, entity, entity_id, action, diff, effective)
    return result


def _field_label(entity: str, name: str) -> str:
    """A column's Chinese label (its ``info["label"]``), never the raw field name such as ``phone``."""
    model = VERSIONED.get(entity, (None,))[0]
    column = model.__table__.columns.get(name) if model is not None else None  # type: ignore[union-attr]
    return (column.info.get("label") if column is not None else None) or name


def _shown(value: Any) -> str:
    if value in (None, ""):
        return "（空）"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _conflict_issue(session: Session, entity: str, entity_id: int, seen: int, now: int | None) -> Issue:
    """A Chinese message naming what the other editor changed since the version the user saw."""
    entries = session.execute(
        select(ChangeLog, ChangeBatch, User)
        .join(ChangeBatch, ChangeLog.batch_id == ChangeBatch.id)
        .join(User, ChangeBatch.actor_id == User.id, isouter=True)
        .where(ChangeLog.entity == entity, ChangeLog.entity_id == str(entity_id))
        .order_by(ChangeLog.id.desc())
        .limit(max(1, (now or seen + 1) - seen))
    ).all()
    parts = []
    for log, batch, user in entries:
        who = user.display_name if user else "系统"
        fields = "、".join(f"{_field_label(entity, k)}：{_shown(old)}→{_shown(new)}" for k, (old, new) in log.changes.items())
        parts.append(f"{who}于{clock.display(batch.created_at)}修改了 {fields}")
    detail = "；".join(parts) if parts else "记录已被他人修改"
    return Issue("edit-conflict", f"保存被拒绝：您打开后，{detail}。请刷新后重新修改。", {"record": entity_id},
                 hint="刷新页面查看最新内容")


# ---------------------------------------------------------------- reading the past


def as_of_select(entity: str, on: date, area_prefix: str | None = None) -> Select:
    """A SELECT of every entity's state on ``on`` (one row per entity that existed then).

    Columns: ``id`` plus the business fields plus ``valid_from``. Entities first recorded after
    ``on`` are absent. ``area_prefix`` limits rows to an area subtree (by ``area_code`` prefix).
    """
    current, history = VERSIONED[entity]
    names = ["id", *entity_fields(entity), "valid_from"]
    cur_q = select(*[getattr(current, n) for n in names]).where(current.valid_from <= on)
    hist_q = select(*[getattr(history, n) for n in names]).where(history.valid_from <= on, history.valid_to > on)
    if area_prefix:
        cur_q = cur_q.where(current.area_code.startswith(area_prefix))
        hist_q = hist_q.where(history.area_code.startswith(area_prefix))
    union = union_all(cur_q, hist_q).subquery(f"{entity}_as_of")
    return select(union).order_by(union.c.id)


def tags_as_of_select(on: date) -> Select:
    """Tags valid on ``on``: started on or before it and not yet ended."""
    return select(Tag).where(Tag.valid_from <= on, or_(Tag.valid_to.is_(None), Tag.valid_to > on)).order_by(Tag.id)


def areas_as_of_select(on: date) -> Select:
    """Areas that existed on ``on``."""
    return (
        select(Area)
        .where(Area.valid_from <= on, or_(Area.valid_to.is_(None), Area.valid_to > on))
        .order_by(Area.code)
    )


def as_of(session: Session, entity: str, on: date, area_prefix: str | None = None) -> list[dict[str, Any]]:
    """The state of every entity of a kind on a date, as plain dicts keyed by field."""
    return [dict(r._mapping) for r in session.execute(as_of_select(entity, on, area_prefix))]


@dataclass(frozen=True)
class SnapshotChange:
    """One entity's difference between two dates.

    ``kind``: ``added`` (exists on the later date only), ``removed`` (on the earlier date only),
    ``changed`` (field values differ; ``fields`` holds old → new).
    """

    entity: str
    entity_id: int
    kind: str
    fields: dict[str, tuple[Any, Any]]
    before: dict[str, Any] | None
    after: dict[str, Any] | None


def changes_between(
    session: Session, entity: str, start: date, end: date, area_prefix: str | None = None
) -> list[SnapshotChange]:
    """How the base data of one kind changed from the state on ``start`` to the state on ``end``.

    ``entity`` is a versioned entity name, ``tag`` or ``area``. For persons a death or moving out
    shows as ``changed`` with ``living_status`` in ``fields``: the person still exists, ended.
    """
    if entity == "tag":
        before = {t.id: _tag_dict(t) for t in session.execute(tags_as_of_select(start)).scalars()}
        after = {t.id: _tag_dict(t) for t in session.execute(tags_as_of_select(end)).scalars()}
    elif entity == "area":
        before = {a.code: a.model_dump() for a in session.execute(areas_as_of_select(start)).scalars()}
        after = {a.code: a.model_dump() for a in session.execute(areas_as_of_select(end)).scalars()}
    else:
        before = {r["id"]: r for r in as_of(session, entity, start, area_prefix)}
        after = {r["id"]: r for r in as_of(session, entity, end, area_prefix)}
    out: list[SnapshotChange] = []
    for key in sorted(set(before) | set(after), key=str):
        b, a = before.get(key), after.get(key)
        if b is None:
            out.append(SnapshotChange(entity, key, "added", {}, None, a))
        elif a is None:
            out.append(SnapshotChange(entity, key, "removed", {}, b, None))
        else:
            diff = {k: (b[k], a[k]) for k in a if k not in BOOKKEEPING and b.get(k) != a[k]}
            if diff:
                out.append(SnapshotChange(entity, key, "changed", diff, b, a))
    return out


def _tag_dict(tag: Tag) -> dict[str, Any]:
    return tag.model_dump()


def record_history(session: Session, entity: str, entity_id: Any) -> list[dict[str, Any]]:
    """Every recorded change of one record, newest first: when, who, source, action, old → new."""
    rows = session.execute(
        select(ChangeLog, ChangeBatch, User)
        .join(ChangeBatch, ChangeLog.batch_id == ChangeBatch.id)
        .join(User, ChangeBatch.actor_id == User.id, isouter=True)
        .where(ChangeLog.entity == entity, ChangeLog.entity_id == str(entity_id))
        .order_by(ChangeLog.id.desc())
    ).all()
    return [
        {
            "at": batch.created_at,
            "actor": user.display_name if user else None,
            "source": batch.source,
            "batch_id": batch.id,
            "action": log.action,
            "effective_date": log.effective_date,
            "changes": log.changes,
        }
        for log, batch, user in rows
    ]

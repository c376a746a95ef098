"""What a collection task asks a village to check: the records and fields a projection covers.

Derived from the parsed projection, never per report: a roster covers the rows it selects and its
columns' underlying base fields (``age`` → birth date, ``household.number`` → the household's 户号); a
summary covers, per subject, the records any of its indicators counts and the fields and tags their
filters use. Each value carries how old it is (the effective date of the last recorded change of that
field) and empty fields the projection needs are listed as missing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import polars as pl
from sqlalchemy import select
from sqlmodel import Session, SQLModel

from app.models import (
    Area,
    ChangeBatch,
    ChangeLog,
    House,
    Household,
    Observation,
    ObservationItem,
    Organisation,
    Person,
    Tag,
    TagType,
    User,
)
from app.models.base import utcnow
from app.registry.schema import Indicator, ReportSpec, TagFilter, Where
from app.reporting import evaluate, projections, rosters
from app.reporting.frames import Snapshot
from app.reporting.safe import mask_address, mask_id_number, mask_phone
from app.services.codelists import code_lists
from app.services.scope import (
    ID_DERIVED,
    PERSONAL_FIELDS,
    hidden_tags,
    house_need_to_know,
    may_see_tag_attributes,
    needs_to_know,
    unmasked_fields,
    visible_subject_ids,
)

SUBJECT_ENTITY = {"persons": "person", "households": "household", "houses": "house", "organisations": "organisation"}
ENTITY_MODEL: dict[str, type[SQLModel]] = {"person": Person, "household": Household, "house": House, "organisation": Organisation}
ENTITY_LABEL = {"person": "人员", "household": "户", "house": "房屋", "organisation": "单位"}
# Entities a village corrects in a task (through the persons / households services, with history).
EDITABLE_ENTITIES = {"person", "household"}
# Fields that change only through their own flows (death, moving out, moving house, 注销), never inline.
NOT_INLINE = {"area_code", "household_id", "living_status", "status_date", "moved_to", "status"}
# The field that names a record in lists.
TITLE_FIELD = {"person": "name", "household": "number", "house": "address", "organisation": "name"}
# Roster / filter names that stand for a base field.
DERIVED_FROM = {"age": "birth_date", "alive": "living_status"}
# Fields that may stay empty while the person is alive.
EMPTY_WHILE_ALIVE = {"status_date", "moved_to"}


@dataclass
class Need:
    """What one subject of the projection needs: the records selected and the fields and tags used."""

    entity: str
    fields: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    ids: set[int] = field(default_factory=set)

    def add_field(self, name: str) -> None:
        if name not in self.fields:
            self.fields.append(name)

    def add_tag(self, code: str) -> None:
        if code not in self.tags:
            self.tags.append(code)


@dataclass
class Cell:
    name: str
    value: Any
    text: str
    since: date | None
    missing: bool


@dataclass
class Record:
    id: int
    title: str
    row_version: int | None
    cells: list[Cell]
    tags: list[str]

    @property
    def missing(self) -> list[str]:
        return [c.name for c in self.cells if c.missing]


@dataclass
class FieldInfo:
    name: str
    label: str
    editable: bool
    kind: str  # text | code | date | number
    options: list[tuple[str, str]] = field(default_factory=list)
    required: bool = False


@dataclass
class Section:
    entity: str
    label: str
    fields: list[FieldInfo]
    tag_names: list[str]
    records: list[Record]

    @property
    def missing_count(self) -> int:
        return sum(len(r.missing) for r in self.records)


# ------------------------------------------------------------------------------- derivation


def _base_field(subject: str, name: str) -> tuple[str, str] | None:
    """(entity, base field) behind a roster column or filter field of ``subject``, or None if derived."""
    name = DERIVED_FROM.get(name, name)
    if name.startswith("household."):
        attr = name.split(".", 1)[1]
        return ("household", attr) if attr in Household.__table__.columns else None
    entity = SUBJECT_ENTITY.get(subject)
    if entity is None:
        return None
    columns = ENTITY_MODEL[entity].__table__.columns
    if name in columns and name not in {"id", "row_version", "batch_id", "valid_from"}:
        return entity, name
    return None


def _where_needs(needs: dict[str, Need], subject: str, where: Where) -> None:
    entity = SUBJECT_ENTITY.get(subject)
    if entity is None:
        return
    need = needs.setdefault(entity, Need(entity))
    for f in where.fields:
        base = _base_field(subject, f.field)
        if base:
            needs.setdefault(base[0], Need(base[0])).add_field(base[1])
    for t in where.tags:
        if t.household and subject == "persons":
            needs.setdefault("household", Need("household")).add_tag(t.code)
        else:
            need.add_tag(t.code)


def derive_needs(spec: ReportSpec, indicators: dict[str, Indicator]) -> dict[str, Need]:
    """The entities, fields and tags a projection reads (records are selected later, per village)."""
    needs: dict[str, Need] = {}
    if spec.kind == "roster":
        entity = SUBJECT_ENTITY[spec.subject]
        needs[entity] = Need(entity)
        needs[entity].add_field(TITLE_FIELD[entity] if entity == "person" else "number")
        for leaf in spec.leaves():
            name = leaf.field or ""
            if name.startswith("tag."):
                code = name.split(".")[1]
                target = "household" if code in _household_tag_codes() and spec.subject == "persons" else entity
                needs.setdefault(target, Need(target)).add_tag(code)
                continue
            base = _base_field(spec.subject, name)
            if base:
                needs.setdefault(base[0], Need(base[0])).add_field(base[1])
        _where_needs(needs, spec.subject, spec.where)
        return needs
    for code in spec.indicator_codes():
        c = indicators[code].compute
        if c.subject not in SUBJECT_ENTITY:
            continue
        entity = SUBJECT_ENTITY[c.subject]
        need = needs.setdefault(entity, Need(entity))
        need.add_field(TITLE_FIELD[entity])
        _where_needs(needs, c.subject, c.where)
        if c.value_field:
            base = _base_field(c.subject, c.value_field)
            if base:
                need.add_field(base[1])
        if c.tag_attr:
            need.add_tag(c.tag_attr[0])
    return needs


def _household_tag_codes() -> frozenset[str]:
    return rosters._household_tags()


def select_records(spec: ReportSpec, indicators: dict[str, Indicator], needs: dict[str, Need], snap: Snapshot,
                   ctx: projections.RunContext) -> None:
    """Fill ``ids`` of every need: the records of the village the projection selects on the date."""
    village = pl.col("village") == ctx.area_code[:12]
    if spec.kind == "roster":
        frame = rosters.roster_frame(spec, snap, ctx)
        entity = SUBJECT_ENTITY[spec.subject]
        needs[entity].ids |= set(frame.get_column("id").to_list())
        if entity == "person" and "household" in needs:
            needs["household"].ids |= set(frame.get_column("household_id").drop_nulls().to_list())
        return
    groups: dict[tuple[str, date], list[Where]] = {}
    for code in spec.indicator_codes():
        c = indicators[code].compute
        if c.subject not in SUBJECT_ENTITY:
            continue
        where = c.where
        if c.tag_attr:  # a sum of a tag attribute reads only the records holding that tag
            where = Where(where.fields, (*where.tags, TagFilter(c.tag_attr[0])))
        groups.setdefault((c.subject, (evaluate.age_date(ctx.on, c.age_date, c.age_rule) if c.age_date else evaluate.age_date(ctx.on, spec.age_date))), []).append(where)
    for (subject, at), wheres in groups.items():
        frame = evaluate.prepared(snap, subject, at).filter(village)
        mask = pl.lit(False)
        for where in wheres:
            mask = mask | evaluate.where_expr(snap, where, subject)
        chosen = frame.filter(mask)
        entity = SUBJECT_ENTITY[subject]
        needs[entity].ids |= set(chosen.get_column("id").to_list())
        for where in wheres:  # the households whose tags put these persons in
            if subject == "persons" and any(t.household for t in where.tags):
                held = frame.filter(evaluate.where_expr(snap, where, subject))
                needs["household"].ids |= set(held.get_column("household_id").drop_nulls().to_list())


# ------------------------------------------------------------------------------- reading


def field_ages(session: Session, entity: str, ids: list[int]) -> dict[int, dict[str, date]]:
    """For each record, the effective date of the last recorded change of each field."""
    ages: dict[int, dict[str, date]] = {}
    if not ids:
        return ages
    wanted = [str(i) for i in ids]
    for start in range(0, len(wanted), 900):
        rows = session.execute(
            select(ChangeLog.entity_id, ChangeLog.effective_date, ChangeLog.changes, ChangeBatch.created_at)
            .join(ChangeBatch, ChangeLog.batch_id == ChangeBatch.id)
            .where(ChangeLog.entity == entity, ChangeLog.entity_id.in_(wanted[start:start + 900]))
            .order_by(ChangeLog.id)
        ).all()
        for entity_id, effective, changes, created in rows:
            when = effective or created.date()
            record = ages.setdefault(int(entity_id), {})
            for name in changes or {}:
                record[name] = when
    return ages


def _field_info(session: Session, entity: str, name: str) -> FieldInfo:
    column = ENTITY_MODEL[entity].__table__.columns[name]
    info = column.info
    lists = code_lists(session)
    python_type = column.type.python_type
    kind = "code" if info.get("code_list") else "date" if python_type is date else "number" if python_type in (int, float) else "text"
    options = list(lists.get(info.get("code_list") or "", {}).items())
    editable = entity in EDITABLE_ENTITIES and name not in NOT_INLINE
    required = not column.nullable and column.default is None
    return FieldInfo(name, info.get("label", name), editable, kind, options, required)


def _text(session: Session, fi: FieldInfo, value: Any) -> str:
    if value is None:
        return ""
    if fi.kind == "code":
        label = dict(fi.options).get(str(value))
        return f"{label}" if label else str(value)
    if isinstance(value, date):
        return value.isoformat()
    return _plain(value)


def _plain(value: Any) -> str:
    """A number as people write it: 5, not 5.0 (a float column stores whole numbers with .0)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _tag_texts(session: Session, entity: str, codes: list[str], ids: list[int], on: date, *,
               mask_ids: bool = False, actor: User | None = None) -> dict[int, list[str]]:
    """The covered tags each record holds on the date, e.g. ``低保（类别：农村低保；月保障金额：800）自2024-02-01``;
    ``mask_ids``: attributes containing an ID number (残疾证号) masked."""
    out: dict[int, list[str]] = {}
    if not codes or not ids or entity not in ("person", "household"):
        return out
    types = {t.code: t for t in session.execute(select(TagType).where(TagType.code.in_(codes))).scalars()}
    lists = code_lists(session)
    key = Tag.person_id if entity == "person" else Tag.household_id
    query = (select(Tag).where(Tag.tag_code.in_(codes), key.in_(ids), Tag.valid_from <= on)
             .where((Tag.valid_to.is_(None)) | (Tag.valid_to > on)).order_by(Tag.id))
    for tag in session.execute(query).scalars():
        tag_type = types[tag.tag_code]
        attrs = []
        if actor is not None and not may_see_tag_attributes(session, actor, tag_type.department):
            attrs.append("属性未授权查看")  # another department's tag, no grant of its attributes
        for spec in tag_type.attributes if not attrs else ():
            value = (tag.attrs or {}).get(spec["name"])
            if value in (None, ""):
                continue
            if spec.get("type") == "code":
                value = lists.get(spec["code_list"], {}).get(str(value), value)
            elif mask_ids and spec["name"] in ID_DERIVED:
                value = mask_id_number(value)
            attrs.append(f"{spec['label']}：{_plain(value)}")
        text = tag_type.name + (f"（{'；'.join(attrs)}）" if attrs else "") + f" 自{tag.valid_from.isoformat()}"
        out.setdefault(int(getattr(tag, "person_id" if entity == "person" else "household_id")), []).append(text)
    return out


def sections(session: Session, needs: dict[str, Need], on: date, *, actor: User | None = None,
             rows_authorised: bool = False) -> list[Section]:
    """The records of every need with their current values, ages, tags and missing fields.

    With an ``actor`` under need-to-know (a department issuing the task): only the persons and
    households within its need to know — or, ``rows_authorised``, the rows of its own roster — and the
    houses they live in; personal fields masked unless granted; other departments' sensitive tags left out."""
    out: list[Section] = []
    types = {t.code: t.name for t in session.execute(select(TagType)).scalars()}
    restricted = actor is not None and needs_to_know(actor)
    hidden = hidden_tags(session, actor) if restricted else frozenset()
    allowed = unmasked_fields(session, actor) if restricted else frozenset(PERSONAL_FIELDS)
    for entity in ("person", "household", "house", "organisation"):
        need = needs.get(entity)
        if need is None:
            continue
        model = ENTITY_MODEL[entity]
        fields = [_field_info(session, entity, name) for name in need.fields]
        ids = sorted(need.ids)
        if restricted and entity in ("person", "household") and not rows_authorised:
            ids = sorted(visible_subject_ids(session, actor, entity, set(ids)))
        elif restricted and entity == "house":
            ids = sorted(session.execute(select(House.id).where(House.id.in_(ids), house_need_to_know(
                session, actor, House.household_id))).scalars()) if ids else []
        shown_tags = [c for c in need.tags if c not in hidden]
        rows: list[Any] = []
        for start in range(0, len(ids), 900):
            rows += list(session.execute(select(model).where(model.id.in_(ids[start:start + 900]))).scalars())
        rows.sort(key=lambda r: _sort_key(entity, r))
        ages = field_ages(session, entity, ids)
        tags = _tag_texts(session, entity, shown_tags, ids, on, mask_ids="id_number" not in allowed,
                          actor=actor if restricted else None)
        records = []
        for row in rows:
            alive = getattr(row, "living_status", "1") == "1"
            cells = []
            for fi in fields:
                value = getattr(row, fi.name)
                empty = value in (None, "")
                missing = empty and not (alive and fi.name in EMPTY_WHILE_ALIVE)
                since = ages.get(row.id, {}).get(fi.name) or (None if empty else row.valid_from)
                text = _text(session, fi, value)
                if restricted and not empty and _masked_field(entity, fi.name) not in allowed | {None}:
                    value = text = _mask(_masked_field(entity, fi.name), value)
                cells.append(Cell(fi.name, value, text, since, missing))
            title = str(getattr(row, TITLE_FIELD[entity]) or f"#{row.id}")
            if restricted and entity == "house" and "address" not in allowed:
                title = mask_address(title)
            records.append(Record(row.id, title, getattr(row, "row_version", None), cells, tags.get(row.id, [])))
        out.append(Section(entity, ENTITY_LABEL[entity], fields, [types.get(c, c) for c in shown_tags], records))
    return out


def _masked_field(entity: str, name: str) -> str | None:
    """The personal field (of ``PERSONAL_FIELDS``) a column holds or derives from, or None."""
    if name in ID_DERIVED:
        return "id_number"
    if name in ("phone", "address"):
        return name
    return None


def _mask(kind: str | None, value: Any) -> Any:
    return {"id_number": mask_id_number, "phone": mask_phone, "address": mask_address}[kind](value) if kind else value


def _sort_key(entity: str, row: Any) -> tuple:
    if entity == "person":
        return (row.household_id or 0, row.relation or "~", row.birth_date, row.id)
    return (getattr(row, "number", "") or "", row.id)


def village_context(session: Session, village_code: str, on: date) -> projections.RunContext:
    area = session.get(Area, village_code)
    return projections.RunContext(area_code=village_code, area_name=area.name if area else village_code, on=on, period=None,
                                  code_lists=code_lists(session), generated_at=utcnow(), generated_by="采集任务",
                                  department_label="")


def observation_section(session: Session, spec: ReportSpec, indicators: dict[str, Indicator],
                        village_code: str, on: date) -> Section | None:
    """The periodic values (台账) a summary's observation indicators read: one line per item and
    period window, missing when the village has recorded no value for it (read-only here)."""
    wanted: dict[tuple[str, date, date], None] = {}
    if spec.kind == "roster":
        return None
    for code in spec.indicator_codes():
        c = indicators[code].compute
        if c.subject == "observations" and c.item:
            start, end = evaluate.observation_period(on, c.period)
            wanted[(c.item, start, end)] = None
    if not wanted:
        return None
    items = {i.code: i for i in session.execute(select(ObservationItem).where(
        ObservationItem.code.in_({k[0] for k in wanted}))).scalars()}
    fields = [FieldInfo("period", "报告期", False, "text"), FieldInfo("value", "数值", False, "number")]
    records = []
    for item_code, start, end in wanted:
        item = items.get(item_code)
        rows = session.execute(
            select(Observation, ChangeBatch.created_at).join(ChangeBatch, Observation.batch_id == ChangeBatch.id)
            .where(Observation.item_code == item_code, Observation.area_code.startswith(village_code),
                   Observation.period_start >= start, Observation.period_end <= end)
            .order_by(Observation.period_start)
        ).all()
        title = f"{item.name if item else item_code}（{item.unit if item else ''}）"
        if not rows:
            window = f"{start.isoformat()}至{end.isoformat()}"
            records.append(Record(0, title, None, [Cell("period", window, window, None, False),
                                                   Cell("value", None, "", None, True)], []))
        for obs, created in rows:
            since = created.date()
            records.append(Record(obs.id, title, None, [Cell("period", obs.period, obs.period, since, False),
                                                        Cell("value", obs.value, f"{obs.value:g}", since, False)], []))
    return Section("observation", "台账数据", fields, [], records)

"""Comparing an uploaded workbook with the current database: the preview of what applying it would do.

Rows are matched by the locked record id; a row without one is new. A row whose record was saved on
the server after the download (row version in the file < current) and which the cadre also edited is a
conflict: shown with the server's changes since the download and the cadre's, never overwritten unless
the cadre takes it. A record of the download missing from the file is listed as "表中缺少" and left alone.
Validation is the web's: ``persons.check_person``, ``households.check_household``, ``tags.check_attrs``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from app.issues import Issue
from app.models import ChangeBatch, ChangeLog, Household, Person, Tag, TagType, User, WorkbookDownload
from app.models.history import SOURCES
from app.services import households as household_service
from app.services import persons as person_service
from app.services import rules
from app.services.codelists import code_lists
from app.services.persons import ALIVE, today
from app.services.tags import check_attrs, tag_types
from app.services.workbook.columns import (
    CODE,
    DATE,
    HOUSEHOLD_SHEET,
    INFO,
    KEY,
    PERSON_SHEET,
    TAG_NAME_LIST,
    TAG_SHEET,
    VERSION,
    WbColumn,
    household_columns,
    person_columns,
    tag_columns,
)
from app.services.workbook.download import in_area
from app.services.workbook.plan import CellChange, RowPlan
from app.services.workbook.reader import Parsed, Row

ENDED_PERSON = {"2": "death", "3": "moved_out"}
ENDED_HOUSEHOLD = "2"
CHUNK = 5000


def _chunks(ids: list[int]) -> list[list[int]]:
    return [ids[i:i + CHUNK] for i in range(0, len(ids), CHUNK)]


def _norm(value: Any) -> Any:
    """Comparable form of a value from the file, the database or a change-log entry."""
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class Context:
    """What the comparison needs from the database, read once per preview."""

    def __init__(self, session: Session, download: WorkbookDownload, village_code: str):
        self.session = session
        self.download = download
        self.village_code = village_code
        self.types: dict[str, TagType] = tag_types(session)
        self.lists = {**code_lists(session), TAG_NAME_LIST: {t.code: t.name for t in self.types.values()}}
        self.columns = {PERSON_SHEET: person_columns(), HOUSEHOLD_SHEET: household_columns(),
                        TAG_SHEET: tag_columns(list(self.types.values()))}
        self.households: dict[int, Household] = {}
        self.household_by_number: dict[str, Household] = {}
        self.persons: dict[int, Person] = {}
        self.person_by_id_number: dict[str, Person] = {}
        self.tags: dict[int, Tag] = {}

    def load(self, parsed: Parsed) -> None:
        """The village's households and persons, and every record the file or the download names.

        Read as plain rows (not ORM objects: 20,000 of those cost a second); the few records that
        change are loaded as objects when their row is checked.
        """
        s, code = self.session, self.village_code
        ids = {e: set(self.download.record_ids.get(e, [])) for e in ("person", "household", "tag")}
        for entity, sheet in (("person", PERSON_SHEET), ("household", HOUSEHOLD_SHEET), ("tag", TAG_SHEET)):
            ids[entity] |= {r.record_id for r in parsed.rows[sheet] if r.record_id is not None}
        households, persons, tags = Household.__table__, Person.__table__, Tag.__table__
        for h in s.execute(select(households).where(in_area(households.c.area_code, code))):
            self.households[h.id] = h
        for chunk in _chunks(sorted(ids["household"] - set(self.households))):
            for h in s.execute(select(households).where(households.c.id.in_(chunk))):
                self.households[h.id] = h
        self.household_by_number = {h.number: h for h in self.households.values()}
        for p in s.execute(select(persons).where(in_area(persons.c.area_code, code))):
            self.persons[p.id] = p
        for chunk in _chunks(sorted(ids["person"] - set(self.persons))):
            for p in s.execute(select(persons).where(persons.c.id.in_(chunk))):
                self.persons[p.id] = p
        self.person_by_id_number = {p.id_number: p for p in self.persons.values()}
        for chunk in _chunks(sorted(ids["tag"])):
            for t in s.execute(select(tags).where(tags.c.id.in_(chunk))):
                self.tags[t.id] = t

    def display(self, column: WbColumn, value: Any) -> Any:
        if value is None:
            return ""
        if column.kind == CODE and column.code_list:
            return self.lists.get(column.code_list, {}).get(str(value), str(value))
        if isinstance(value, date):
            return value.isoformat()
        return value

    def in_village(self, area_code: str | None) -> bool:
        return bool(area_code) and area_code.startswith(self.village_code)


def _locate(row: Row, issues: list[Issue], labels: dict[str, str]) -> list[Issue]:
    """Service issues (located by model field) placed at the row's sheet, row and column."""
    out = []
    for issue in issues:
        key = issue.location.get("field")
        key = "household_number" if key in ("household_id", "area_code") else key
        out.append(issue.at(sheet=row.sheet, row=row.number, column=row.columns.get(key),
                            field=labels.get(key, issue.location.get("field"))))
    return out


def _errors(issues: list[Issue]) -> list[Issue]:
    return [i for i in issues if i.severity == "error"]


# ------------------------------------------------------------------------------ conflicts


def _server_changes(ctx: Context, entity: str, record_id: int) -> tuple[dict[str, Any], str]:
    """Fields the server changed since the download (field -> value at download time) and who did it."""
    entries = ctx.session.execute(
        select(ChangeLog, ChangeBatch, User)
        .join(ChangeBatch, ChangeLog.batch_id == ChangeBatch.id)
        .join(User, ChangeBatch.actor_id == User.id, isouter=True)
        .where(ChangeLog.entity == entity, ChangeLog.entity_id == str(record_id),
               ChangeLog.batch_id > ctx.download.data_version)
        .order_by(ChangeLog.id)
    ).all()
    original: dict[str, Any] = {}
    notes = []
    for log, batch, user in entries:
        for name, (old, _new) in log.changes.items():
            original.setdefault(name, old)
        who = user.display_name if user else "系统"
        notes.append(f"{who}于{batch.created_at:%Y-%m-%d %H:%M}（{SOURCES.get(batch.source, batch.source)}）")
    return original, "；".join(dict.fromkeys(notes))


def _conflict(ctx: Context, row: Row, entity: str, record: Any, file_values: dict[str, Any],
              current: dict[str, Any], columns: list[WbColumn], title: str) -> RowPlan | None:
    """A stale row: the cadre's edits (file vs the record at download time) and the server's since."""
    original, note = _server_changes(ctx, entity, record.id)
    if "household_id" in original:
        old = original.pop("household_id")
        h = ctx.households.get(int(old)) if old is not None else None
        original["household_number"] = h.number if h else None
    at_download = {k: original.get(k, current[k]) for k in current}
    # the cadre's edits: what differs from the download, unless the server already holds that value
    mine = {k: v for k, v in file_values.items() if _norm(v) != _norm(at_download[k]) and _norm(v) != _norm(current[k])}
    if not mine:
        return None  # nothing of the cadre's left to write: the server's newer values simply stand
    labels = {c.key: c for c in columns}
    plan = RowPlan(entity, "conflict", row.sheet, row.number, record.id, title, values=mine,
                   expected_version=record.row_version, server_note=note)
    plan.changes = [CellChange(k, labels[k].header, ctx.display(labels[k], _typed(labels[k], at_download[k])),
                               ctx.display(labels[k], v), row.columns.get(k)) for k, v in mine.items()]
    plan.server_changes = [
        CellChange(k, labels[k].header, ctx.display(labels[k], _typed(labels[k], at_download[k])),
                   ctx.display(labels[k], current[k]))
        for k in original if k in labels and _norm(original[k]) != _norm(current[k])
    ]
    return plan


def _typed(column: WbColumn, value: Any) -> Any:
    if column.kind == DATE and isinstance(value, str) and value:
        return date.fromisoformat(value)
    return value


# ------------------------------------------------------------------------------ households


def _household_values(h: Household, columns: list[WbColumn]) -> dict[str, Any]:
    return {c.key: getattr(h, c.key) for c in columns if c.kind not in (KEY, VERSION)}


def households_plan(ctx: Context, rows: list[Row]) -> tuple[list[RowPlan], int]:
    columns = ctx.columns[HOUSEHOLD_SHEET]
    labels = {c.key: c.header for c in columns}
    editable = [c for c in columns if c.kind not in (KEY, VERSION, INFO)]
    out: list[RowPlan] = []
    unchanged = 0
    numbers_in_file: dict[str, int] = {}
    for row in rows:
        number = row.values.get("number")
        title = f"户号 {number or '（空）'}"
        if number and number in numbers_in_file:
            row.issues.append(Issue("duplicate-household-number", f"户号 {number} 与第{numbers_in_file[number]}行重复",
                                    {"sheet": row.sheet, "row": row.number, "column": row.columns.get("number"), "field": "户号"}))
        elif number:
            numbers_in_file[number] = row.number
        file_values = {c.key: row.values.get(c.key) for c in editable}
        if row.record_id is None:
            values, issues = household_service.check_household(ctx.session, {**file_values, "area_code": ctx.village_code})
            if number and number in ctx.household_by_number or (
                number and ctx.session.execute(select(Household.id).where(Household.number == number)).first()
            ):
                issues.append(Issue("duplicate-household-number", f"户号 {number} 已存在", {"field": "number"}))
            issues = row.issues + _locate(row, _errors(issues), labels)
            plan = RowPlan("household", "invalid" if issues else "new", row.sheet, row.number, None, title,
                           values={k: v for k, v in values.items() if k in file_values or k == "area_code"}, issues=issues)
            plan.changes = [CellChange(c.key, c.header, "", ctx.display(c, values.get(c.key)), row.columns.get(c.key))
                            for c in editable if values.get(c.key) is not None]
            out.append(plan)
            continue
        h = ctx.households.get(row.record_id)
        if h is None or not ctx.in_village(h.area_code) or row.record_id not in set(ctx.download.record_ids.get("household", [])):
            out.append(RowPlan("household", "invalid", row.sheet, row.number, row.record_id, title, issues=[*row.issues, Issue(
                "unknown-record", f"记录号 {row.record_id} 不是本村一表中的户", {"sheet": row.sheet, "row": row.number,
                                                                       "column": row.columns.get("id")},
                hint="记录号请勿修改；新增的户请把记录号留空")]))
            continue
        title = f"户号 {h.number}"
        current = _household_values(h, columns)
        if row.issues:
            out.append(RowPlan("household", "invalid", row.sheet, row.number, h.id, title, issues=row.issues))
            continue
        diff = {k: v for k, v in file_values.items() if v != current[k] and _norm(v) != _norm(current[k])}
        if not diff:
            unchanged += 1
            continue
        if row.values.get("row_version") != h.row_version:
            conflict = _conflict(ctx, row, "household", h, file_values, current, columns, title)
            if conflict is None:
                unchanged += 1
            else:
                out.append(conflict)
            continue
        values, issues = household_service.check_household(ctx.session, {**current, "area_code": h.area_code, **diff})
        if diff.get("number") and ctx.session.execute(
            select(Household.id).where(Household.number == diff["number"], Household.id != h.id)
        ).first():
            issues.append(Issue("duplicate-household-number", f"户号 {diff['number']} 已存在", {"field": "number"}))
        ending = diff.get("status") == ENDED_HOUSEHOLD and h.status != ENDED_HOUSEHOLD
        if ending and not values.get("status_date"):
            issues.append(Issue("status-date-required", "注销的户须填写注销日期", {"field": "status_date"}))
        issues = _locate(row, _errors(issues), labels)
        kind = "invalid" if issues else ("ended" if ending else "changed")
        plan = RowPlan("household", kind, row.sheet, row.number, h.id, title, values=diff, issues=issues,
                       expected_version=h.row_version)
        plan.changes = [CellChange(k, labels[k], ctx.display(_col(columns, k), current[k]),
                                   ctx.display(_col(columns, k), v), row.columns.get(k)) for k, v in diff.items()]
        out.append(plan)
    return out, unchanged


def _col(columns: list[WbColumn], key: str) -> WbColumn:
    return next(c for c in columns if c.key == key)


# ------------------------------------------------------------------------------ persons


def _person_values(ctx: Context, p: Person, columns: list[WbColumn]) -> dict[str, Any]:
    out = {}
    for c in columns:
        if c.kind in (KEY, VERSION):
            continue
        if c.key == "household_number":
            h = ctx.households.get(p.household_id) if p.household_id else None
            out[c.key] = h.number if h else None
        else:
            out[c.key] = getattr(p, c.key)
    return out


def persons_plan(ctx: Context, rows: list[Row], new_households: dict[str, RowPlan]) -> tuple[list[RowPlan], int]:
    columns = ctx.columns[PERSON_SHEET]
    labels = {c.key: c.header for c in columns}
    editable = [c for c in columns if c.kind not in (KEY, VERSION, INFO)]
    downloaded = set(ctx.download.record_ids.get("person", []))
    out: list[RowPlan] = []
    unchanged = 0
    id_numbers_in_file: dict[str, int] = {}
    for row in rows:
        file_values = {c.key: row.values.get(c.key) for c in editable}
        raw_id = (file_values.get("id_number") or "").upper()
        title = f"{file_values.get('name') or '（无姓名）'} {raw_id}"
        if raw_id and raw_id in id_numbers_in_file:
            row.issues.append(Issue("duplicate-id-number", f"身份证号与第{id_numbers_in_file[raw_id]}行重复",
                                    {"sheet": row.sheet, "row": row.number, "column": row.columns.get("id_number"),
                                     "field": labels["id_number"]}))
        elif raw_id:
            id_numbers_in_file[raw_id] = row.number
        person = ctx.persons.get(row.record_id) if row.record_id is not None else None
        if row.record_id is not None and (person is None or row.record_id not in downloaded):
            out.append(RowPlan("person", "invalid", row.sheet, row.number, row.record_id, title, issues=[*row.issues, Issue(
                "unknown-record", f"记录号 {row.record_id} 不是本村一表中的人员",
                {"sheet": row.sheet, "row": row.number, "column": row.columns.get("id")},
                hint="记录号请勿修改；新增的人员请把记录号留空")]))
            continue
        if person is not None:
            title = f"{person.name} {person.id_number}"
        current = _person_values(ctx, person, columns) if person is not None else None
        if row.issues:
            out.append(RowPlan("person", "invalid", row.sheet, row.number, row.record_id, title, issues=row.issues))
            continue
        if current is not None:
            diff = {k: v for k, v in file_values.items() if v != current[k] and _norm(v) != _norm(current[k])}
            if not diff:
                unchanged += 1
                continue
            if row.values.get("row_version") != person.row_version:
                conflict = _conflict(ctx, row, "person", person, file_values, current, columns, title)
                if conflict is None:
                    unchanged += 1
                else:
                    out.append(conflict)
                continue
        else:
            diff = {k: v for k, v in file_values.items() if v is not None}
        out.append(_person_row(ctx, row, person, current, diff, new_households, columns, labels, title))
    _heads_in_file(ctx, rows, out)
    return out, unchanged


def _heads_in_file(ctx: Context, rows: list[Row], plans: list[RowPlan]) -> None:
    """"One head per household" judged on the file as a whole: a swap of heads between two rows is fine.

    The per-row rule compares each row with the database, where the old head is still head.
    """
    heads: dict[str, int] = {}
    in_file = set()
    for row in rows:
        v = row.values
        in_file.add(row.record_id)
        if v.get("relation") == rules.HEAD and v.get("living_status") in (None, ALIVE) and v.get("household_number"):
            heads[v["household_number"]] = heads.get(v["household_number"], 0) + 1
    for p in ctx.persons.values():  # living heads the file does not show (rows deleted, or another area)
        h = ctx.households.get(p.household_id) if p.household_id else None
        if p.id not in in_file and p.relation == rules.HEAD and p.living_status == ALIVE and h is not None:
            heads[h.number] = heads.get(h.number, 0) + 1
    for plan in plans:
        if plan.kind != "invalid" or not plan.intended:
            continue
        number = plan.values.get("household_number") or _household_number(ctx, plan.record_id)
        if heads.get(number) == 1:
            plan.issues = [i for i in plan.issues if i.code != "second-head"]
            if not plan.issues:
                plan.kind = plan.intended


def _household_number(ctx: Context, person_id: int | None) -> str | None:
    p = ctx.persons.get(person_id) if person_id is not None else None
    h = ctx.households.get(p.household_id) if p is not None and p.household_id else None
    return h.number if h else None


def _person_row(ctx: Context, row: Row, person: Person | None, current: dict[str, Any] | None, diff: dict[str, Any],
                new_households: dict[str, RowPlan], columns: list[WbColumn], labels: dict[str, str], title: str) -> RowPlan:
    issues: list[Issue] = []
    number = diff.get("household_number", current and current["household_number"])
    household = ctx.household_by_number.get(number) if number else None
    model_values = {k: v for k, v in diff.items() if k != "household_number"}
    if not number:
        issues.append(Issue("required", "户号不能为空", {"field": "household_number"}))
    elif household is not None and household.status == ENDED_HOUSEHOLD:
        issues.append(Issue("household-ended", f"户号 {number} 已注销", {"field": "household_number"}))
    elif household is None and number not in new_households:
        issues.append(Issue("unknown-household", f"户号 {number} 不在本村，也不在“户”表的新增行中", {"field": "household_number"},
                            hint="请先在“户”表中新增该户，或改为本村已有的户号"))
    if household is not None and "household_number" in diff:
        model_values["household_id"], model_values["area_code"] = household.id, household.area_code
    base = ctx.session.get(Person, person.id).model_dump(exclude={"id", "row_version", "batch_id", "valid_from"}) if person else {}
    merged = {**base, **model_values}
    if household is None:
        merged.pop("household_id", None)
        merged["area_code"] = merged.get("area_code") or ctx.village_code
    elif person is None:
        merged["household_id"], merged["area_code"] = household.id, household.area_code
    checked, found = person_service.check_person(ctx.session, merged)
    issues += found
    new_id = checked.get("id_number")
    if new_id and (person is None or new_id != person.id_number):
        other = ctx.session.execute(select(Person.id).where(Person.id_number == new_id)).first()
        if other and (person is None or other[0] != person.id):
            issues.append(Issue("duplicate-id-number", f"身份证号 {new_id} 已登记", {"field": "id_number"}))
    ending = person is not None and diff.get("living_status") in ENDED_PERSON and person.living_status == ALIVE
    if ending:
        if checked.get("status_date") and checked["status_date"] > today():
            issues.append(Issue("future-date", "死亡或迁出日期不能晚于今天", {"field": "status_date"}))
        if checked.get("living_status") == "3" and not checked.get("moved_to"):
            issues.append(Issue("moved-to-required", "迁出须填写迁往地", {"field": "moved_to"}))
    elif person is None and checked.get("living_status", ALIVE) != ALIVE:
        issues.append(Issue("new-person-ended", "新增的人员须为在世状态", {"field": "living_status"}))
    warnings: list[Issue] = []
    if not _errors(issues):
        found = rules.person_rules(ctx.session, checked, person_id=person.id if person else None, on=today(),
                                   action="end" if ending else "update")
        issues += _errors(found)
        warnings = _locate(row, [i for i in found if i.severity == "warning"], labels)
    issues = _locate(row, _errors(issues), labels)
    intended = "new" if person is None else "ended" if ending else "changed"
    kind = "invalid" if issues else intended
    if person is None:
        # the normalised values (birth date and sex filled from the ID number) are what gets written
        values = {k: v for k, v in checked.items() if k not in ("household_id", "area_code") and v is not None}
        values["household_number"] = number
    else:
        values = {k: checked.get(k, v) if k != "household_number" else v for k, v in diff.items()}
    plan = RowPlan("person", kind, row.sheet, row.number, person.id if person else None, title, values=values,
                   issues=issues, expected_version=person.row_version if person else None, warnings=warnings,
                   intended=intended)
    plan.changes = [
        CellChange(k, labels[k], ctx.display(_col(columns, k), current[k]) if current else "",
                   ctx.display(_col(columns, k), v), row.columns.get(k))
        for k, v in values.items() if k in labels
    ]
    return plan


# ------------------------------------------------------------------------------ tags


def tags_plan(ctx: Context, rows: list[Row], new_persons: dict[str, RowPlan],
              new_households: dict[str, RowPlan]) -> tuple[list[RowPlan], int]:
    columns = ctx.columns[TAG_SHEET]
    labels = {c.key: c.header for c in columns}
    downloaded = set(ctx.download.record_ids.get("tag", []))
    out: list[RowPlan] = []
    unchanged = 0
    for row in rows:
        v = row.values
        tag_code = v.get("tag_code")
        tag_type = ctx.types.get(tag_code) if tag_code else None
        name = tag_type.name if tag_type else (tag_code or "（未填标签）")
        title = f"{name} · {v.get('subject') or '（未填对象）'}"
        issues = list(row.issues)

        def at(key: str, issue: Issue, row: Row = row) -> Issue:
            return issue.at(sheet=row.sheet, row=row.number, column=row.columns.get(key), field=labels.get(key, key))

        attrs: dict[str, Any] = {}
        for c in columns:
            if c.tag_code is None or v.get(c.key) is None:
                continue
            if c.tag_code != tag_code:
                issues.append(at(c.key, Issue("attribute-of-other-tag", f"“{c.header}”只适用于{ctx.types[c.tag_code].name}标签")))
            else:
                value = v[c.key]
                attrs[c.key.split(".", 1)[1]] = value.isoformat() if isinstance(value, date) else value
        tag = ctx.tags.get(row.record_id) if row.record_id is not None else None
        if row.record_id is not None and (tag is None or row.record_id not in downloaded):
            issues.append(at("id", Issue("unknown-record", f"记录号 {row.record_id} 不是本村一表中的标签",
                                         hint="记录号请勿修改；新增的标签请把记录号留空")))
            out.append(RowPlan("tag", "invalid", row.sheet, row.number, row.record_id, title, issues=issues))
            continue
        if tag is None:
            out.append(_new_tag(ctx, row, tag_type, attrs, issues, at, new_persons, new_households, title))
            continue
        tag_type = ctx.types[tag.tag_code]
        subject = _subject_key(ctx, tag)
        title = f"{tag_type.name} · {subject}"
        for key, old in (("subject", subject), ("tag_code", tag.tag_code), ("valid_from", tag.valid_from)):
            if _norm(v.get(key)) != _norm(old):
                issues.append(at(key, Issue("tag-fixed-field", f"已有标签的{labels[key]}不能修改",
                                            hint="请在“结束日期”中结束原标签，另起一行新增")))
        old_attrs = {k: x for k, x in tag.attrs.items() if x not in (None, "")}
        if {k: _norm(x) for k, x in attrs.items()} == {k: _norm(x) for k, x in old_attrs.items()}:
            clean = old_attrs  # untouched: nothing to check (most rows)
        else:
            clean, found = check_attrs(ctx.session, tag_type, attrs)
            issues += [at(f"{tag_type.code}.{i.location.get('field')}", i) for i in _errors(found)]
        if issues:
            out.append(RowPlan("tag", "invalid", row.sheet, row.number, tag.id, title, issues=issues))
            continue
        diff: dict[str, Any] = {}
        if _norm(v.get("valid_to")) != _norm(tag.valid_to):
            diff["valid_to"] = v.get("valid_to")
        if _norm(v.get("evidence")) != _norm(tag.evidence):
            diff["evidence"] = v.get("evidence")
        if {k: _norm(x) for k, x in clean.items()} != {k: _norm(x) for k, x in old_attrs.items()}:
            diff["attrs"] = clean
        if not diff:
            unchanged += 1
            continue
        changes = [CellChange(k, labels.get(k, "属性"), _show_tag(ctx, tag_type, k, getattr(tag, k)),
                              _show_tag(ctx, tag_type, k, x), row.columns.get(k)) for k, x in diff.items()]
        if v.get("row_version") != tag.row_version:
            out.append(RowPlan("tag", "conflict", row.sheet, row.number, tag.id, title, values=diff, changes=changes,
                               expected_version=tag.row_version,
                               server_note=_server_changes(ctx, "tag", tag.id)[1],
                               server_changes=[CellChange("valid_to", "结束日期", "", _norm(tag.valid_to) or "")]))
            continue
        if "valid_to" in diff:
            end = diff["valid_to"]
            if tag.valid_to is not None or end is None:
                issues.append(at("valid_to", Issue("tag-end-fixed", "已设定的结束日期不能在一表中修改或清除")))
            elif end < tag.valid_from:
                issues.append(at("valid_to", Issue("bad-interval", "结束日期早于开始日期")))
            elif end > today():
                issues.append(at("valid_to", Issue("future-date", "结束日期不能晚于今天")))
            if len(diff) > 1:
                issues.append(at("valid_to", Issue("end-and-change", "同一行不能既结束标签又修改属性或证明材料",
                                                   hint="只填写结束日期；属性的变化请另起一行新增")))
        kind = "invalid" if issues else ("ended" if "valid_to" in diff else "changed")
        out.append(RowPlan("tag", kind, row.sheet, row.number, tag.id, title, values=diff, changes=changes, issues=issues,
                           expected_version=tag.row_version))
    return out, unchanged


def _show_tag(ctx: Context, tag_type: TagType, key: str, value: Any) -> str:
    if key != "attrs":
        return _norm(value) or ""
    parts = []
    for spec in tag_type.attributes:
        x = (value or {}).get(spec["name"])
        if x in (None, ""):
            continue
        if spec.get("type") == "code":
            x = ctx.lists.get(spec["code_list"], {}).get(str(x), x)
        x = _norm(x)
        parts.append(f"{spec['label']}：{x}")
    return "；".join(parts)


def _subject_key(ctx: Context, tag: Tag) -> str:
    if tag.person_id is not None:
        p = ctx.persons.get(tag.person_id) or ctx.session.get(Person, tag.person_id)
        return p.id_number if p else str(tag.person_id)
    h = ctx.households.get(tag.household_id) or ctx.session.get(Household, tag.household_id)
    return h.number if h else str(tag.household_id)


def _new_tag(ctx: Context, row: Row, tag_type: TagType | None, attrs: dict[str, Any], issues: list[Issue], at: Any,
             new_persons: dict[str, RowPlan], new_households: dict[str, RowPlan], title: str) -> RowPlan:
    v = row.values
    subject = v.get("subject")
    warnings: list[Issue] = []
    if tag_type is None:
        issues.append(at("tag_code", Issue("required", "标签不能为空")))
    if v.get("valid_from") is None:
        issues.append(at("valid_from", Issue("required", "开始日期不能为空")))
    if v.get("valid_to") is not None:
        issues.append(at("valid_to", Issue("new-tag-ended", "新增的标签不必填写结束日期")))
    if not subject:
        issues.append(at("subject", Issue("required", "对象不能为空")))
    elif tag_type is not None:
        if tag_type.subject == "person":
            key = subject.upper()
            person = ctx.person_by_id_number.get(key)
            if (person is None or not ctx.in_village(person.area_code)) and key not in new_persons:
                issues.append(at("subject", Issue("unknown-subject", f"身份证号 {subject} 不是本村人员",
                                                  hint=f"{tag_type.name}是人员标签，对象填身份证号")))
            elif person is not None and person.living_status != ALIVE:
                issues.append(at("subject", Issue("subject-ended", f"{person.name}已死亡或迁出，不能再添加标签")))
            elif person is not None and v.get("valid_from") is not None:
                found = rules.tag_rules(ctx.session, tag_type, ctx.session.get(Person, person.id), v["valid_from"], None)
                issues += [at(i.location.get("field", "subject"), i) for i in _errors(found)]
                warnings += [at(i.location.get("field", "subject"), i) for i in found if i.severity == "warning"]
        else:
            household = ctx.household_by_number.get(subject)
            if (household is None or not ctx.in_village(household.area_code)) and subject not in new_households:
                issues.append(at("subject", Issue("unknown-subject", f"户号 {subject} 不是本村的户",
                                                  hint=f"{tag_type.name}是户标签，对象填户号")))
    clean: dict[str, Any] = {}
    if tag_type is not None:
        clean, found = check_attrs(ctx.session, tag_type, attrs)
        issues += [at(f"{tag_type.code}.{i.location.get('field')}", i) for i in _errors(found)]
    values = {"tag_code": tag_type.code if tag_type else None, "subject": subject.upper() if subject and tag_type and
              tag_type.subject == "person" else subject, "valid_from": v.get("valid_from"), "attrs": clean,
              "evidence": v.get("evidence")}
    plan = RowPlan("tag", "invalid" if issues else "new", row.sheet, row.number, None, title, values=values, issues=issues,
                   warnings=warnings)
    if not issues:
        plan.changes = [CellChange("valid_from", "开始日期", "", _norm(v.get("valid_from"))),
                        CellChange("attrs", "属性", "", _show_tag(ctx, tag_type, "attrs", clean))]
    return plan


def missing(ctx: Context, parsed: Parsed) -> list[RowPlan]:
    """Records of the download that the file no longer has and that are still current: asked, not ended."""
    out = []
    in_file = {sheet: {r.record_id for r in rows if r.record_id is not None} for sheet, rows in parsed.rows.items()}
    for pid in ctx.download.record_ids.get("person", []):
        p = ctx.persons.get(pid)
        if pid not in in_file[PERSON_SHEET] and p is not None and p.living_status == ALIVE:
            out.append(RowPlan("person", "missing", PERSON_SHEET, None, pid, f"{p.name} {p.id_number}"))
    for hid in ctx.download.record_ids.get("household", []):
        h = ctx.households.get(hid)
        if hid not in in_file[HOUSEHOLD_SHEET] and h is not None and h.status != ENDED_HOUSEHOLD:
            out.append(RowPlan("household", "missing", HOUSEHOLD_SHEET, None, hid, f"户号 {h.number}"))
    for tid in ctx.download.record_ids.get("tag", []):
        t = ctx.tags.get(tid)
        if tid not in in_file[TAG_SHEET] and t is not None and (t.valid_to is None or t.valid_to > today()):
            tag_type = ctx.types.get(t.tag_code)
            out.append(RowPlan("tag", "missing", TAG_SHEET, None, tid,
                               f"{tag_type.name if tag_type else t.tag_code} · {_subject_key(ctx, t)}"))
    return out

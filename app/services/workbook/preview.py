"""Comparing an uploaded workbook with the current database: the preview of what applying it would do.

Rows are matched by the locked record id; a row without one is new. A row whose record was saved on
the server after the download (row version in the file < current) and which the cadre also edited is a
conflict: shown with the server's changes since the download and the cadre's, never overwritten unless
the cadre takes it. A record of the download missing from the file is listed as "表中缺少" and left alone.
Validation is the web's: ``persons.check_person`` and ``rules.person_rules``, ``households.check_household``;
tag rows are in ``tag_rows``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.clock import today
from app.issues import Issue
from app.models import Household, Person
from app.services import households as household_service
from app.services import persons as person_service
from app.services import rules
from app.services.persons import ALIVE
from app.services.workbook.columns import (
    HOUSE_SHEET,
    HOUSEHOLD_SHEET,
    INFO,
    KEY,
    PERSON_SHEET,
    TAG_SHEET,
    VERSION,
    WbColumn,
)
from app.services.workbook.context import (
    ENDED_HOUSEHOLD,
    ENDED_PERSON,
    Context,
    column,
    conflict_row,
    errors,
    locate,
    norm,
)
from app.services.workbook.house_rows import missing_houses
from app.services.workbook.plan import CellChange, RowPlan
from app.services.workbook.reader import Parsed, Row
from app.services.workbook.tag_rows import subject_key, tags_plan

__all__ = ["households_plan", "missing", "persons_plan", "tags_plan"]


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
            issues = row.issues + locate(row, errors(issues), labels)
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
        diff = {k: v for k, v in file_values.items() if v != current[k] and norm(v) != norm(current[k])}
        if not diff:
            unchanged += 1
            continue
        if row.values.get("row_version") != h.row_version:
            stale = conflict_row(ctx, row, "household", h, file_values, current, columns, title)
            if stale is None:
                unchanged += 1
            else:
                out.append(stale)
            continue
        values, issues = household_service.check_household(ctx.session, {**current, "area_code": h.area_code, **diff})
        if diff.get("number") and ctx.session.execute(
            select(Household.id).where(Household.number == diff["number"], Household.id != h.id)
        ).first():
            issues.append(Issue("duplicate-household-number", f"户号 {diff['number']} 已存在", {"field": "number"}))
        ending = diff.get("status") == ENDED_HOUSEHOLD and h.status != ENDED_HOUSEHOLD
        if ending and not values.get("status_date"):
            issues.append(Issue("status-date-required", "注销的户须填写注销日期", {"field": "status_date"}))
        issues = locate(row, errors(issues), labels)
        kind = "invalid" if issues else ("ended" if ending else "changed")
        plan = RowPlan("household", kind, row.sheet, row.number, h.id, title, values=diff, issues=issues,
                       expected_version=h.row_version)
        plan.changes = [CellChange(k, labels[k], ctx.display(column(columns, k), current[k]),
                                   ctx.display(column(columns, k), v), row.columns.get(k)) for k, v in diff.items()]
        out.append(plan)
    return out, unchanged



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
            diff = {k: v for k, v in file_values.items() if v != current[k] and norm(v) != norm(current[k])}
            if not diff:
                unchanged += 1
                continue
            if row.values.get("row_version") != person.row_version:
                stale = conflict_row(ctx, row, "person", person, file_values, current, columns, title)
                if stale is None:
                    unchanged += 1
                else:
                    out.append(stale)
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
    if not errors(issues):
        found = rules.person_rules(ctx.session, checked, person_id=person.id if person else None, on=today(),
                                   action="end" if ending else "update")
        issues += errors(found)
        warnings = locate(row, [i for i in found if i.severity == "warning"], labels)
    issues = locate(row, errors(issues), labels)
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
        CellChange(k, labels[k], ctx.display(column(columns, k), current[k]) if current else "",
                   ctx.display(column(columns, k), v), row.columns.get(k))
        for k, v in values.items() if k in labels
    ]
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
                               f"{tag_type.name if tag_type else t.tag_code} · {subject_key(ctx, t)}"))
    return out + missing_houses(ctx, {r.record_id for r in parsed.rows.get(HOUSE_SHEET, []) if r.record_id is not None})

"""House rows of the upload (the 房屋 sheet): new houses, changed ones (a new safety grade, the household
living there by its 户号), demolitions (状态 set to 注销), conflicts and invalid cells.

Validation is the web's: ``houses.check_house``; the apply writes through the house service.
"""

from __future__ import annotations

from typing import Any

from app.issues import Issue
from app.models import House, Household
from app.services import houses as house_service
from app.services.workbook.columns import HOUSE_SHEET, INFO, KEY, VERSION, WbColumn
from app.services.workbook.context import Context, column, conflict_row, errors, locate, norm
from app.services.workbook.plan import CellChange, RowPlan
from app.services.workbook.reader import Row

BOOKKEEPING = {"id", "row_version", "batch_id", "valid_from"}


def _current(ctx: Context, house: Any, columns: list[WbColumn]) -> dict[str, Any]:
    out = {}
    for c in columns:
        if c.kind in (KEY, VERSION, INFO):
            continue
        if c.key == "household_number":
            h = ctx.households.get(house.household_id) if house.household_id else None
            out[c.key] = h.number if h else None
        else:
            out[c.key] = getattr(house, c.key)
    return out


def _household(ctx: Context, number: str | None, new_households: dict[str, RowPlan]) -> tuple[Household | None, list[Issue]]:
    """The household a 居住户户号 names: one of the village's, or one added by this upload (None then)."""
    if not number:
        return None, []
    household = ctx.household_by_number.get(number)
    if household is None:
        if number in new_households:
            return None, []
        return None, [Issue("unknown-household", f"户号 {number} 不在本村，也不在“户”表的新增行中", {"field": "household_number"},
                            hint="请填写本村已有的户号，或先在“户”表中新增该户")]
    return household, []


def houses_plan(ctx: Context, rows: list[Row], new_households: dict[str, RowPlan]) -> tuple[list[RowPlan], int]:
    columns = ctx.columns[HOUSE_SHEET]
    labels = {c.key: c.header for c in columns}
    editable = [c for c in columns if c.kind not in (KEY, VERSION, INFO)]
    downloaded = set(ctx.download.record_ids.get("house", []))
    out: list[RowPlan] = []
    unchanged = 0
    for row in rows:
        file_values = {c.key: row.values.get(c.key) for c in editable}
        title = f"房屋 {file_values.get('address') or '（未填地址）'}"
        house = ctx.houses.get(row.record_id) if row.record_id is not None else None
        if row.record_id is not None and (house is None or row.record_id not in downloaded or not ctx.in_village(house.area_code)):
            out.append(RowPlan("house", "invalid", row.sheet, row.number, row.record_id, title, issues=[*row.issues, Issue(
                "unknown-record", f"记录号 {row.record_id} 不是本村一表中的房屋",
                {"sheet": row.sheet, "row": row.number, "column": row.columns.get("id")},
                hint="记录号请勿修改；新增的房屋请把记录号留空")]))
            continue
        if house is not None:
            title = f"房屋 {house.address}"
        if row.issues:
            out.append(RowPlan("house", "invalid", row.sheet, row.number, row.record_id, title, issues=row.issues))
            continue
        if house is None:
            out.append(_new_house(ctx, row, file_values, new_households, editable, labels, title))
            continue
        current = _current(ctx, house, columns)
        diff = {k: v for k, v in file_values.items() if v != current[k] and norm(v) != norm(current[k])}
        if not diff:
            unchanged += 1
            continue
        if house.status != house_service.IN_USE:
            out.append(RowPlan("house", "invalid", row.sheet, row.number, house.id, title, issues=locate(row, [Issue(
                "house-demolished", "该房屋已在系统中登记拆除（注销），不能再修改", {"field": "status"})], labels)))
            continue
        if row.values.get("row_version") != house.row_version:
            stale = conflict_row(ctx, row, "house", house, file_values, current, columns, title)
            if stale is None:
                unchanged += 1
            else:
                out.append(stale)
            continue
        out.append(_changed_house(ctx, row, house, current, diff, new_households, columns, labels, title))
    return out, unchanged


def _new_house(ctx: Context, row: Row, file_values: dict[str, Any], new_households: dict[str, RowPlan],
               editable: list[WbColumn], labels: dict[str, str], title: str) -> RowPlan:
    household, issues = _household(ctx, file_values.get("household_number"), new_households)
    model_values = {k: v for k, v in file_values.items() if k not in ("household_number", "status")}
    checked, found = house_service.check_house(ctx.session, {
        **model_values, "area_code": ctx.village_code, "household_id": household.id if household else None,
        "status": house_service.IN_USE})
    issues += found
    if file_values.get("status") not in (None, house_service.IN_USE):
        issues.append(Issue("new-house-ended", "新增的房屋须为正常（在用）状态", {"field": "status"}))
    issues = locate(row, errors(issues), labels)
    values = {k: checked[k] for k in model_values if checked.get(k) is not None}
    values["household_number"] = file_values.get("household_number")
    plan = RowPlan("house", "invalid" if issues else "new", row.sheet, row.number, None, title, values=values,
                   issues=issues, intended="new")
    plan.changes = [CellChange(c.key, c.header, "", ctx.display(c, values.get(c.key)), row.columns.get(c.key))
                    for c in editable if values.get(c.key) is not None]
    return plan


def _changed_house(ctx: Context, row: Row, house: Any, current: dict[str, Any], diff: dict[str, Any],
                   new_households: dict[str, RowPlan], columns: list[WbColumn], labels: dict[str, str],
                   title: str) -> RowPlan:
    issues: list[Issue] = []
    model_diff = {k: v for k, v in diff.items() if k != "household_number"}
    if "household_number" in diff:
        household, issues = _household(ctx, diff["household_number"], new_households)
        model_diff["household_id"] = household.id if household else None
    base = ctx.session.get(House, house.id).model_dump(exclude=BOOKKEEPING)
    merged = {**base, **model_diff}
    ending = model_diff.get("status") == house_service.DEMOLISHED
    if ending:
        merged["status"] = house_service.IN_USE  # the house's other values are checked as they stand before
    checked, found = house_service.check_house(ctx.session, merged)
    issues += found
    issues = locate(row, errors(issues), labels)
    values = {k: (checked.get(k, v) if k not in ("household_number", "status") else v) for k, v in diff.items()}
    kind = "invalid" if issues else ("ended" if ending else "changed")
    plan = RowPlan("house", kind, row.sheet, row.number, house.id, title, values=values, issues=issues,
                   expected_version=house.row_version, intended="ended" if ending else "changed")
    plan.changes = [CellChange(k, labels[k], ctx.display(column(columns, k), current[k]),
                               ctx.display(column(columns, k), v), row.columns.get(k)) for k, v in values.items()]
    return plan


def missing_houses(ctx: Context, in_file: set[int]) -> list[RowPlan]:
    """Houses of the download that the file no longer has and that are still in use: asked, not demolished."""
    out = []
    for hid in ctx.download.record_ids.get("house", []):
        house = ctx.houses.get(hid)
        if hid not in in_file and house is not None and house.status == house_service.IN_USE:
            out.append(RowPlan("house", "missing", HOUSE_SHEET, None, hid, f"房屋 {house.address}"))
    return out

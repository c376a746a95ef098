"""Flat exports of a report: CSV (one sheet) and JSON (everything), with values neutralised."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import IO, Any

from app.reporting.cells import plain_value
from app.reporting.safe import neutralise
from app.reporting.table import Report, Sheet, leaf_paths, validate_report

PATH_SEPARATOR = "/"


def _pick(report: Report, sheet: str | int | None) -> Sheet:
    if sheet is None:
        return report.sheets[0]
    if isinstance(sheet, int):
        return report.sheets[sheet]
    for candidate in report.sheets:
        if candidate.name == sheet:
            return candidate
    raise KeyError(f"工作表 {sheet} 不存在")


def column_paths(sheet: Sheet) -> dict[str, list[str]]:
    """Column key -> header labels from the top group down to the leaf."""
    paths = leaf_paths(sheet.header_tree())
    return {c.key: list(paths.get(c.key, (c.label,))) for c in sheet.columns}


def _csv_cell(kind: str, value: Any, decimals: int) -> Any:
    plain = plain_value(kind, value, decimals)
    return "" if plain is None else neutralise(plain)


def write_csv(report: Report, target: str | Path | IO[bytes], *, sheet: str | int | None = None) -> None:
    """One sheet (the first unless ``sheet``) as UTF-8 CSV with BOM, so Excel reads the Chinese right.

    One header row: the leaf labels with their groups joined by "/" (e.g. "低保/户数"). Subtotal and total
    rows are included as they are; text starting with = + - @ TAB CR is prefixed with ``'``.
    """
    validate_report(report)
    chosen = _pick(report, sheet)
    paths = column_paths(chosen)
    columns = chosen.columns
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([neutralise(PATH_SEPARATOR.join(paths[c.key])) for c in columns])
    specs = [(c.key, c.kind, c.decimals) for c in columns]
    for row in chosen.rows:
        values = row.values
        writer.writerow([_csv_cell(kind, values.get(key), dec) for key, kind, dec in specs])
    data = buf.getvalue().encode("utf-8-sig")
    if isinstance(target, str | Path):
        Path(target).write_bytes(data)
    else:
        target.write(data)


def _sheet_json(sheet: Sheet) -> dict[str, Any]:
    paths = column_paths(sheet)
    columns = [
        {
            "key": c.key,
            "label": neutralise(c.label),
            "kind": c.kind,
            "decimals": c.decimals,
            "path": [neutralise(p) for p in paths[c.key]],
        }
        for c in sheet.columns
    ]
    rows = []
    for row in sheet.rows:
        item: dict[str, Any] = {"_kind": row.kind}
        if row.group is not None:
            item["_group"] = neutralise(row.group)
        for c in sheet.columns:
            value = plain_value(c.kind, row.values.get(c.key), c.decimals)
            item[c.key] = neutralise(value)
        rows.append(item)
    return {
        "name": sheet.name,
        "title": neutralise(sheet.title),
        "columns": columns,
        "column_numbers": sheet.column_numbers,
        "merge_columns": list(sheet.merge_columns),
        "notes": [neutralise(n) for n in sheet.notes],
        "rows": rows,
    }


def to_json(report: Report) -> dict[str, Any]:
    """The report as plain JSON data: meta, statutory block, form lines and every sheet's rows.

    Rows are objects keyed by column key plus ``_kind`` (data/subtotal/total) and ``_group`` when set.
    Values are neutralised like CSV; dates are ISO strings; IDs stay strings.
    """
    validate_report(report)
    return {
        "meta": {k: neutralise(v) for k, v in report.meta.items()},
        "statutory": {k: neutralise(v) for k, v in report.statutory.items()},
        "filler": neutralise(report.filler),
        "period_line": neutralise(report.period_line),
        "unit_line": neutralise(report.unit_line),
        "footer": [{"label": neutralise(k), "value": neutralise(v)} for k, v in report.footer],
        "paper": report.paper,
        "sheets": [_sheet_json(s) for s in report.sheets],
    }


def write_json(report: Report, target: str | Path | IO[bytes]) -> None:
    """``to_json`` written as UTF-8 (``ensure_ascii=False``)."""
    data = json.dumps(to_json(report), ensure_ascii=False, indent=1).encode("utf-8")
    if isinstance(target, str | Path):
        Path(target).write_bytes(data)
    else:
        target.write(data)

"""Render a report sheet as an HTML table for the in-browser preview (merged header, 栏次, masks)."""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from app.reporting.layout import continuation_flags
from app.reporting.safe import mask_id_number
from app.reporting.table import HeaderCell, Sheet, header_depth

NUMERIC_KINDS = ("integer", "decimal", "percent")
_PLACEHOLDER = re.compile(r"\{\w+\}")


@dataclass
class Cell:
    text: str
    colspan: int = 1
    rowspan: int = 1


def plain_title(title: str) -> str:
    """A projection's title template without its ``{area}`` / ``{period}`` / ``{date}`` placeholders,
    for lists and headings: ``{area}65岁及以上老年人健康管理底数（截至{date}）`` → ``65岁及以上老年人健康管理底数``."""
    text = _PLACEHOLDER.sub("", title)
    text = re.sub(r"截至(?=[，,）)])", "", text)
    text = text.replace("（，", "（").replace("(,", "(").replace("（）", "").replace("()", "")
    return text.strip() or title


def _leaves(node: HeaderCell) -> int:
    return 1 if node.is_leaf else sum(_leaves(c) for c in node.children)


def header_rows(tree: list[HeaderCell]) -> list[list[Cell]]:
    """Rows of header cells with colspan / rowspan, as a printed form has them."""
    depth = header_depth(tree)
    rows: list[list[Cell]] = [[] for _ in range(depth)]

    def place(nodes: list[HeaderCell], level: int) -> None:
        for node in nodes:
            if node.is_leaf:
                rows[level].append(Cell(node.label, 1, depth - level))
            else:
                rows[level].append(Cell(node.label, _leaves(node)))
                place(node.children, level + 1)

    place(tree, 0)
    return rows


def format_value(value: Any, kind: str, decimals: int = 0) -> str:
    """A cell as the preview shows it: thousands separators, fixed decimals, percentages, ISO dates."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if kind in NUMERIC_KINDS and isinstance(value, int | float | Decimal):
        number = float(value)
        if not math.isfinite(number):
            return ""
        if kind == "percent":
            return f"{number * 100:,.{max(decimals, 1)}f}%"
        return f"{number:,.{decimals if kind == 'decimal' else 0}f}"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _spans(flags: list[bool]) -> list[int]:
    """Rows each block's first row spans (1 + its continuation rows); 0 for a continuation row."""
    spans = [0 if f else 1 for f in flags]
    start = 0
    for i, continued in enumerate(flags):
        if continued:
            spans[start] += 1
        else:
            start = i
    return spans


def sheet_html(sheet: Sheet, limit: int) -> dict[str, Any]:
    """What the template needs: title, header rows, 栏次, body rows (cut at ``limit``), notes.

    Household-level columns (``merge_columns``) span a household's rows, as in the xlsx file. ID-number
    columns a projection writes in full (``unmasked``) are still masked on screen: a preview is not a
    logged download.
    """
    columns = sheet.columns
    masked = [c.kind == "id" for c in columns]
    numeric = [c.kind in NUMERIC_KINDS for c in columns]
    rows = sheet.rows[:limit]
    merged = [c.key in sheet.merge_columns for c in columns]
    spans = _spans(continuation_flags(rows)) if any(merged) else [1] * len(rows)
    # 栏次 of each numeric column (1, 2, …): what a click on a cell asks lineage to explain
    numbers = [sum(numeric[: i + 1]) if num else None for i, num in enumerate(numeric)]
    body = []
    for row, span in zip(rows, spans, strict=True):
        cells = []
        for column, mask, merge, num, col in zip(columns, masked, merged, numeric, numbers, strict=True):
            if merge and span == 0:
                continue  # covered by the block's first row
            value = row.values.get(column.key)
            cells.append({"text": format_value(mask_id_number(value) if mask else value, column.kind, column.decimals),
                          "rowspan": span if merge else 1, "num": num, "col": col})
        body.append({"kind": row.kind, "cells": cells, "code": row.values.get("code")})
    return {
        "name": sheet.name,
        "title": sheet.title,
        "header": header_rows(sheet.header_tree()),
        "numbers": sheet.column_numbers,
        "rows": body,
        "total_rows": len(sheet.rows),
        "limit": limit,
        "notes": sheet.notes,
        "masked": any(masked),
        "columns": len(columns),
    }

"""Render a report sheet as an HTML table for the in-browser preview (merged header, 栏次, masks)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.reporting.table import HeaderCell, Sheet, header_depth


@dataclass
class Cell:
    text: str
    colspan: int = 1
    rowspan: int = 1


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


def _fmt(value: Any, kind: str, decimals: int) -> str:
    if value is None:
        return ""
    if kind in ("integer", "decimal") and isinstance(value, int | float):
        return f"{value:,.{decimals if kind == 'decimal' else 0}f}"
    return str(value)


def sheet_html(sheet: Sheet, limit: int) -> dict[str, Any]:
    """What the template needs: title, header rows, 栏次, body rows (cut at ``limit``), notes."""
    columns = sheet.columns
    body = []
    for row in sheet.rows[:limit]:
        cells = [_fmt(row.values.get(c.key), c.kind, c.decimals) for c in columns]
        body.append({"kind": row.kind, "cells": cells, "numeric": [c.kind in ("integer", "decimal") for c in columns]})
    return {
        "name": sheet.name,
        "title": sheet.title,
        "header": header_rows(sheet.header_tree()),
        "numbers": sheet.column_numbers,
        "rows": body,
        "total_rows": len(sheet.rows),
        "limit": limit,
        "notes": sheet.notes,
    }

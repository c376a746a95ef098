"""Where everything goes on a sheet: the one layout plan that every xlsx backend renders.

Rows and columns are 1-based, as in Excel. Body cells are not materialised (a roster may have 100,000
rows): the plan gives the body's first row, the style of every column per row kind, which rows continue
the previous row's block, and the vertical merges; backends stream the rows themselves.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from openpyxl.utils import get_column_letter

from app.reporting import styles
from app.reporting.cells import to_cell
from app.reporting.safe import clean_text
from app.reporting.table import ROW_KINDS, Column, HeaderCell, Report, Row, Sheet, header_depth
from app.reporting.widths import display_width, estimate_widths

Merge = tuple[int, int, int, int]  # first row, first column, last row, last column
FOOTER_GAP = " " * 8
LINE_HEIGHT = 14.0
TITLE_HEIGHT = 30.0
TITLE_SCALE = 1.6  # a 16pt title character against the 10pt-based width estimate
INFO_SCALE = 1.1


@dataclass
class Placed:
    """A non-body cell: its value (None for a styled blank inside a merge) and its style."""

    row: int
    col: int
    value: str | None
    style: styles.StyleSpec


@dataclass
class SheetLayout:
    """The plan of one sheet: fixed cells and merges, body geometry and styles, widths, print setup."""

    sheet: Sheet
    ncols: int
    widths: list[float]
    cells: list[Placed]
    merges: list[Merge]
    row_heights: dict[int, float]
    header_top: int
    body_start: int
    body_styles: dict[str, list[styles.StyleSpec]]
    merge_cols: list[int]
    continuation: list[bool]
    body_merges: list[Merge]
    freeze: str | None
    last_row: int

    @property
    def print_titles(self) -> tuple[int, int]:
        """First and last row repeated on every printed page (header plus 栏次 row)."""
        return self.header_top, self.body_start - 1

    @property
    def top_cells(self) -> list[Placed]:
        return [c for c in self.cells if c.row < self.body_start]

    @property
    def bottom_cells(self) -> list[Placed]:
        return [c for c in self.cells if c.row >= self.body_start]


def pad_key(key: str) -> str:
    """Statutory keys padded to four CJK characters: 表号 -> 表    号, 有效期 -> 有 效 期."""
    if len(key) == 2:
        return key[0] + "    " + key[1]
    if len(key) == 3:
        return " ".join(key)
    return key


def footer_line(footer: list[tuple[str, str]]) -> str:
    """``单位负责人：        统计负责人：        …        报出日期：2025年7月5日``."""
    return FOOTER_GAP.join(f"{label}：{value}" for label, value in footer)


class _Builder:
    def __init__(self, ncols: int) -> None:
        self.ncols = ncols
        self.cells: list[Placed] = []
        self.merges: list[Merge] = []

    def put(
        self, row: int, c1: int, c2: int, value: str, style: styles.StyleSpec, r2: int | None = None
    ) -> None:
        """Place a value at (row, c1), merged to (r2, c2) when that is more than one cell."""
        r2 = row if r2 is None else r2
        self.cells.append(Placed(row, c1, clean_text(value), style))
        if (r2, c2) != (row, c1):
            self.merges.append((row, c1, r2, c2))
            if style.border:  # style the covered cells too, so the borders print all round
                for r in range(row, r2 + 1):
                    for c in range(c1, c2 + 1):
                        if (r, c) != (row, c1):
                            self.cells.append(Placed(r, c, None, style))


def _info_texts(report: Report) -> tuple[list[str], list[str]]:
    """Left lines (filler, period) and right lines (statutory block, then the unit line)."""
    left = [t for t in (report.filler, report.period_line) if t]
    right = [f"{pad_key(k)}：{v}" for k, v in report.statutory.items()]
    return left, right


def _text_need(lines: list[str]) -> float:
    """Column width units an 11pt line needs (0 for no lines)."""
    return max((display_width(t) * INFO_SCALE + 1 for t in lines), default=0.0)


def _info_lines(report: Report, b: _Builder, top: int, widths: list[float]) -> int:
    """Filler/period top-left, statutory block and unit line top-right; returns rows used."""
    left, right = _info_texts(report)
    unit = report.unit_line
    n = b.ncols
    if n == 1:
        stacked = [(t, styles.INFO_LEFT) for t in left] + [
            (t, styles.INFO_RIGHT) for t in (*right, unit) if t
        ]
        for i, (text, style) in enumerate(stacked):
            b.put(top + i, 1, 1, text, style)
        return len(stacked)
    need = _text_need([*right, unit] if unit else right)
    start = n - max(1, math.ceil(n / 3)) + 1  # first column of the right-hand block
    while start > 2 and sum(widths[start - 1 :]) < need:
        start -= 1
    rows = max(len(left), len(right) + (1 if unit else 0))
    for i, text in enumerate(left):
        b.put(top + i, 1, start - 1, text, styles.INFO_LEFT)
    for i, text in enumerate(right):
        b.put(top + i, start, n, text, styles.INFO_RIGHT)
    if unit:
        b.put(top + rows - 1, start, n, unit, styles.INFO_RIGHT)
    return rows


def _header(tree: list[HeaderCell], b: _Builder, top: int, depth: int) -> list[tuple[int, int, int, str]]:
    """Place the header tree; returns (first row, rows spanned, first col, label) of every node."""
    placed: list[tuple[int, int, int, str]] = []

    def walk(nodes: list[HeaderCell], level: int, col: int) -> int:
        for node in nodes:
            if node.children:
                end = walk(node.children, level + 1, col)
                b.put(top + level, col, end - 1, node.label, styles.HEADER)
                placed.append((top + level, 1, col, node.label))
                col = end
            else:
                b.put(top + level, col, col, node.label, styles.HEADER, r2=top + depth - 1)
                placed.append((top + level, depth - level, col, node.label))
                col += 1
        return col

    walk(tree, 0, 1)
    return placed


def _header_heights(
    placed: list[tuple[int, int, int, str]], widths: list[float], b: _Builder
) -> dict[int, float]:
    """Row heights so wrapped header labels fit, spread evenly over the rows a cell spans."""
    spans = {(m[0], m[1]): m[3] for m in b.merges}
    heights: dict[int, float] = {}
    for row, nrows, col, label in placed:
        width = sum(widths[col - 1 : spans.get((row, col), col)])
        lines = max(1, math.ceil(display_width(label) / max(width - 1.5, 1.0)))
        per_row = max(18.0, lines * LINE_HEIGHT / nrows + 4)
        for r in range(row, row + nrows):
            heights[r] = max(heights.get(r, 0.0), per_row)
    return heights


def continuation_flags(rows: list[Row]) -> list[bool]:
    """True for a row that belongs to the same (non-None) group as the row above it."""
    flags = [False] * len(rows)
    prev: str | None = None
    for i, row in enumerate(rows):
        group = row.group
        flags[i] = group is not None and group == prev
        prev = group
    return flags


def block_merges(flags: list[bool], first_row: int, merge_cols: list[int]) -> list[Merge]:
    """Vertical merges for every run of continued rows, in every merge column."""
    runs: list[tuple[int, int]] = []
    start = None
    for i, cont in enumerate(flags):
        if cont and start is None:
            start = i - 1
        elif not cont and start is not None:
            runs.append((start, i - 1))
            start = None
    if start is not None:
        runs.append((start, len(flags) - 1))
    return [(first_row + a, c, first_row + z, c) for a, z in runs for c in merge_cols]


def _freeze_cell(columns: list[Column], body_start: int) -> str:
    """Below the header, and right of the first text column when it is among the first three."""
    col = next((i + 1 for i, c in enumerate(columns[:3]) if c.kind == "text"), 0)
    return f"{get_column_letter(col + 1)}{body_start}"


def plan_sheet(report: Report, sheet: Sheet) -> SheetLayout:
    """The complete layout of one (validated) sheet."""
    columns = sheet.columns
    n = len(columns)
    tree = sheet.header_tree()
    depth = header_depth(tree)
    b = _Builder(n)
    left, right = _info_texts(report)
    min_total = max(
        display_width(sheet.title) * TITLE_SCALE,
        _text_need(left) + _text_need([*right, report.unit_line]) + 1,
    )
    widths = estimate_widths(sheet, tree, min_total=min_total)

    b.put(1, 1, n, sheet.title, styles.TITLE)
    header_top = 2 + _info_lines(report, b, 2, widths)
    placed = _header(tree, b, header_top, depth)
    row = header_top + depth
    heights = {1: TITLE_HEIGHT, **_header_heights(placed, widths, b)}
    if sheet.column_numbers is not None:
        for i, label in enumerate(sheet.column_numbers):
            b.put(row, i + 1, i + 1, label, styles.COLUMN_NUMBER)
        row += 1
    body_start = row
    row += len(sheet.rows)
    total_width = sum(widths)
    for note in sheet.notes:
        b.put(row, 1, n, note, styles.NOTE)
        lines = math.ceil(display_width(note) / max(total_width - 2, 1.0))
        if lines > 1:
            heights[row] = lines * LINE_HEIGHT + 2
        row += 1
    if report.footer:
        b.put(row, 1, n, footer_line(report.footer), styles.FOOTER)
        heights[row] = 24.0
        row += 1

    body_styles = {kind: [styles.body_style(c, kind) for c in columns] for kind in ROW_KINDS}
    keys = [c.key for c in columns]
    merge_cols = [keys.index(k) + 1 for k in sheet.merge_columns]
    flags = continuation_flags(sheet.rows) if merge_cols else [False] * len(sheet.rows)
    b.cells.sort(key=lambda p: (p.row, p.col))
    return SheetLayout(
        sheet=sheet,
        ncols=n,
        widths=widths,
        cells=b.cells,
        merges=b.merges,
        row_heights=heights,
        header_top=header_top,
        body_start=body_start,
        body_styles=body_styles,
        merge_cols=merge_cols,
        continuation=flags,
        body_merges=block_merges(flags, body_start, merge_cols) if merge_cols else [],
        freeze=_freeze_cell(columns, body_start) if sheet.freeze else None,
        last_row=max(row - 1, body_start - 1),
    )


def meta_rows(report: Report) -> list[tuple[str, str]]:
    """Key/value rows of the hidden ``_meta`` sheet."""
    return [(clean_text(str(k)), clean_text("" if v is None else str(v))) for k, v in report.meta.items()]


def body_cells(layout: SheetLayout, index: int, row: Row) -> list[tuple[int, object, styles.StyleSpec]]:
    """The (column, cell, style) of one body row; the generic path used by the openpyxl backend."""
    specs = layout.body_styles.get(row.kind, layout.body_styles["data"])
    skip = layout.merge_cols if layout.continuation[index] else ()
    out: list[tuple[int, object, styles.StyleSpec]] = []
    for i, column in enumerate(layout.sheet.columns):
        cell = None if i + 1 in skip else to_cell(column.kind, row.values.get(column.key))
        out.append((i + 1, cell, specs[i]))
    return out

"""Column widths estimated from header labels and content (CJK characters count double)."""

from __future__ import annotations

import datetime as dt
import unicodedata
from functools import lru_cache

from app.reporting.cells import to_cell
from app.reporting.table import Column, HeaderCell, Sheet, leaf_paths

SAMPLE_ROWS = 2000
MIN_WIDTH = 5.0
MAX_WIDTH = {"text": 40.0, "id": 24.0}
DEFAULT_MAX = 20.0
HEADER_WRAP = 12  # longer leaf labels wrap instead of widening the column
PADDING = 2.0


@lru_cache(maxsize=4096)
def _char_width(ch: str) -> int:
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def display_width(text: str) -> int:
    """Width in half-width character units: CJK and full-width characters count 2."""
    if text.isascii():
        return len(text)
    return sum(_char_width(ch) for ch in text)


def _shown(column: Column, value: object) -> int:
    cell = to_cell(column.kind, value)
    if cell is None:
        return 0
    ctype, v = cell
    if ctype == "s":
        return display_width(v)
    if ctype == "d":
        return 10 if not isinstance(v, dt.datetime) else 19
    dec = column.decimals
    if column.kind == "percent":
        return len(f"{v * 100:.{max(dec, 1)}f}%")
    if column.kind == "decimal":
        return len(f"{v:,.{dec}f}")
    return len(f"{v:,.0f}") if isinstance(v, float) else len(f"{v:,}")


def estimate_widths(sheet: Sheet, tree: list[HeaderCell], min_total: float = 0.0) -> list[float]:
    """One width per column: the given ``width`` or an estimate from a sample of rows, capped.

    When the columns together are narrower than ``min_total`` (title, info lines), every estimated
    column is widened evenly.
    """
    paths = leaf_paths(tree)
    rows = sheet.rows
    sample = rows if len(rows) <= SAMPLE_ROWS else [*rows[:SAMPLE_ROWS], *rows[-50:]]
    widths: list[float] = []
    for column in sheet.columns:
        if column.width is not None:
            widths.append(float(column.width))
            continue
        label = paths.get(column.key, (column.label,))[-1]
        best = min(display_width(label), HEADER_WRAP)
        key = column.key
        for row in sample:
            value = row.values.get(key)
            if value is not None:
                best = max(best, _shown(column, value))
        cap = MAX_WIDTH.get(column.kind, DEFAULT_MAX)
        widths.append(min(max(best + PADDING, MIN_WIDTH), cap))
    total = sum(widths)
    free = [i for i, c in enumerate(sheet.columns) if c.width is None]
    if free and total < min_total:
        extra = (min_total - total) / len(free)
        for i in free:
            widths[i] = round(widths[i] + extra, 1)
    return [round(w, 1) for w in widths]

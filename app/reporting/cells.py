"""Turning report values into typed cell values, shared by every writer."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from typing import Any, Literal

from app.reporting.safe import clean_text

CellType = Literal["s", "n", "d"]
Cell = tuple[CellType, Any]

YES, NO = "是", "否"


def _number_text(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)


def as_text(value: Any) -> str:
    """The text of a value for a text or ID column (IDs stay exactly as given; never a float)."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, bool):
        return YES if value else NO
    if isinstance(value, float):
        return _number_text(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return clean_text(str(value))


def to_cell(kind: str, value: Any) -> Cell | None:
    """``(type, value)`` of one cell, or None for an empty cell.

    ``"s"`` is literal text (never a formula), ``"n"`` a number, ``"d"`` a date or datetime. Text and ID
    columns always give text; a string in a numeric column (e.g. "—") stays text; NaN and infinities
    are left empty because a spreadsheet cannot hold them.
    """
    if value is None:
        return None
    if kind in ("text", "id"):
        return "s", as_text(value)
    if isinstance(value, bool):
        return "s", YES if value else NO
    if isinstance(value, int):
        return "n", value
    if isinstance(value, float | Decimal):
        number = float(value)
        return ("n", number) if math.isfinite(number) else None
    if isinstance(value, dt.date):
        return "d", value
    if isinstance(value, str):
        return "s", clean_text(value)
    return "s", clean_text(str(value))


def plain_value(kind: str, value: Any, decimals: int = 0) -> Any:
    """The JSON/CSV form of a value: text for text/ID columns, numbers rounded for decimals, ISO dates."""
    cell = to_cell(kind, value)
    if cell is None:
        return None
    ctype, v = cell
    if ctype == "d":
        return v.isoformat()
    if ctype == "n" and isinstance(v, float):
        if kind == "decimal":
            return round(v, decimals) if decimals else int(round(v))
        if kind == "percent":
            return round(v, 10)
        if kind == "integer" and v.is_integer():
            return int(v)
    return v

"""Numbers from URLs and forms, bounded so that a huge or negative value is refused (404 for a path
segment, "not given" for a query argument) instead of overflowing the database driver (a 500)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from werkzeug.routing import IntegerConverter

# Record ids are PostgreSQL ``integer`` columns (SQLite's are wider): nothing above this can exist.
MAX_ID = 2**31 - 1
MAX_PAGE = 1_000_000


class BoundedIntConverter(IntegerConverter):
    """``<int:…>`` in routes: a value outside 0..MAX_ID does not match the route, so the answer is 404."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def int_arg(values: Mapping[str, str], name: str, *, low: int = 1, high: int = MAX_ID) -> int | None:
    """The integer ``values[name]`` when it is one within [low, high]; otherwise None (as if not given)."""
    raw = (values.get(name) or "").strip()
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 12:  # "²".isdigit() but int("²") fails
        return None
    number = int(raw)
    return number if low <= number <= high else None


def page_arg(values: Mapping[str, str]) -> int:
    """A page number: anything unusable is page 1, anything huge the last page (the services clamp)."""
    raw = (values.get("page") or "").strip()
    if raw.isascii() and raw.isdigit() and len(raw) > 7:
        return MAX_PAGE
    return int_arg(values, "page", high=MAX_PAGE) or 1

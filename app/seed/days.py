"""Day numbers: the demo generator keeps dates as int32 days since 1970-01-01 in its numpy arrays.

``NO_DAY`` (the largest int32) stands for "no date" (an open end, no status date).
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import numpy as np

_EPOCH = date(1970, 1, 1)
NO_DAY = np.iinfo(np.int32).max  # "no date" in the int32 day-number arrays


def day(d: date) -> int:
    return (d - _EPOCH).days


def from_day(n: int) -> date:
    return _EPOCH + timedelta(days=int(n))


@lru_cache(maxsize=100_000)
def iso(n: int) -> str | None:
    return None if n == NO_DAY else from_day(n).isoformat()


def ymd(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Year, month and day of the month of each day number."""
    d = np.asarray(days).astype("datetime64[D]")
    months = d.astype("datetime64[M]")
    y = months.astype(np.int64) // 12 + 1970
    m = months.astype(np.int64) % 12 + 1
    dd = (d - months.astype("datetime64[D]")).astype(np.int64) + 1
    return y, m, dd


def add_years(days: np.ndarray, years: int | np.ndarray) -> np.ndarray:
    """Day numbers of the same calendar day ``years`` later (29 Feb → 1 Mar)."""
    y, m, d = ymd(days)
    months = ((y + years - 1970) * 12 + (m - 1)).astype("datetime64[M]")
    return (months.astype("datetime64[D]") + (d - 1)).astype(np.int64).astype(np.int32)

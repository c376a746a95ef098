"""Numpy arrays → polars columns and frames, for the demo generator's tables."""

from __future__ import annotations

import numpy as np
import polars as pl

from app.seed.days import NO_DAY


def dates(days: np.ndarray, name: str = "") -> pl.Series:
    """Day numbers as a Date column (``NO_DAY`` → null)."""
    s = pl.Series(name, np.asarray(days, dtype=np.int32))
    return pl.select(pl.when(s == NO_DAY).then(None).otherwise(s).cast(pl.Date).alias(name)).to_series()


def ints_or_null(values: np.ndarray, mask: np.ndarray, name: str = "") -> pl.Series:
    s = pl.Series(name, np.asarray(values, dtype=np.int64))
    return pl.select(pl.when(pl.Series(mask)).then(s).otherwise(None).alias(name)).to_series()


def take(frame: pl.DataFrame, idx: np.ndarray) -> pl.DataFrame:
    """The rows ``idx`` of ``frame``, in that order."""
    return frame.select(pl.all().gather(pl.Series(np.asarray(idx, dtype=np.int64))))


def strs(values: np.ndarray, name: str = "", null: str = "") -> pl.Series:
    s = pl.Series(name, values, dtype=pl.String)
    return pl.select(pl.when(s == null).then(None).otherwise(s).alias(name)).to_series()


def json_choice(options: list[str], which: np.ndarray) -> pl.Series:
    """One of a few JSON texts per row (``which``: bool or int index into ``options``)."""
    return pl.Series(options).gather(np.asarray(which, dtype=np.int64))


def codes(values: np.ndarray, name: str = "") -> pl.Series:
    """A numpy array of short code strings as a polars column (via its few distinct values: fast)."""
    uniq, inverse = np.unique(values, return_inverse=True)
    return pl.Series(name, uniq.tolist(), dtype=pl.String).gather(inverse.astype(np.int64))

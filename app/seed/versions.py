"""Versions of the demo county's records: each record's dated changes applied in order give its
current row, history rows of the earlier versions and change-log entries with the real old → new
values (as the services write them)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np
import polars as pl

from app.seed.frames import dates

Changes = dict[int, list[tuple[int, str, dict[str, Any]]]]  # record index → [(day, batch key, new values)]
Version = tuple[int, int, int, int, dict[str, Any]]  # (index, valid_from, valid_to, batch_id, mutable fields)
Entry = tuple[int, int, str, dict[str, Any]]  # (index, day, batch key, {field: (old, new)})
LogRow = tuple[int, int, int, str, str, str, str]  # (day, order, id, entity, action, batch key, changes)
# (row indices, mutable fields, valid_from, batch_id) → rows of an entity's table
Build = Callable[[np.ndarray, dict[str, np.ndarray], np.ndarray, np.ndarray], pl.DataFrame]


def chains(
    changes: Changes,
    vf: np.ndarray,
    batch: np.ndarray,
    rowver: np.ndarray,
    state: dict[str, np.ndarray],
    batches: dict[str, int],
) -> tuple[list[Version], list[Entry]]:
    """Apply each entity's dated changes: history versions out, current state updated in place.

    Returns (history rows: (index, valid_from, valid_to, batch_id, mutable fields), log entries:
    (index, day, batch key, {field: (old, new)})).
    """
    hist: list[Version] = []
    logs: list[Entry] = []
    for i in sorted(changes):
        cur = {f: state[f][i] for f in state}
        cur_vf, cur_batch = int(vf[i]), int(batch[i])
        for d, key, fields in sorted(changes[i], key=lambda c: c[0]):
            diff = {f: (cur[f], v) for f, v in fields.items() if cur[f] != v}
            if not diff:
                continue
            if d > cur_vf:
                hist.append((i, cur_vf, d, cur_batch, dict(cur)))
            cur.update(fields)
            cur_vf, cur_batch = d, batches[key]
            rowver[i] += 1
            logs.append((i, d, key, diff))
        vf[i], batch[i] = cur_vf, cur_batch
        for f in state:
            state[f][i] = cur[f]
    return hist, logs


def history_frame(hist: list[Version], ids: np.ndarray, base: dict[str, np.ndarray], build: Build) -> pl.DataFrame | dict[str, Any]:
    """History rows: the static columns of each entity plus the mutable fields of that version."""
    if not hist:
        return {}
    idx = np.array([h[0] for h in hist], dtype=np.int64)
    state = {f: np.array([h[4][f] for h in hist], dtype=base[f].dtype) for f in base}
    vf = np.array([h[1] for h in hist], dtype=np.int32)
    batch = np.array([h[3] for h in hist], dtype=np.int64)
    return build(idx, state, vf, batch).with_columns(
        pl.Series("id", ids[idx]), dates(np.array([h[2] for h in hist], dtype=np.int32), "valid_to"))


def versioned(
    entity: str,
    order: int,
    vf: np.ndarray,
    state: dict[str, np.ndarray],
    changes: Changes,
    batches: dict[str, int],
    build: Build,
    render: Callable[[str, Any], Any],
    logs: list[LogRow],
) -> tuple[pl.DataFrame, pl.DataFrame | dict[str, Any]]:
    """The current and the history rows of one entity's records (ids 1…n, created in the ``create``
    batch, first valid from ``vf``; ``state``: their mutable fields). Appends the ``update`` log rows
    (``order``: the entity's place among the events of one day; ``render``: a field value as logged)."""
    n = len(vf)
    ids = np.arange(1, n + 1, dtype=np.int64)
    batch = np.full(n, batches["create"], dtype=np.int64)
    rowver = np.ones(n, dtype=np.int64)
    base = {k: v.copy() for k, v in state.items()}
    hist, entries = chains(changes, vf, batch, rowver, state, batches)
    for i, d, key, diff in entries:
        logged = {}
        for f, (old, new) in diff.items():
            logged["area_code" if f == "area" else f] = [render(f, old), render(f, new)]
        logs.append((d, order, int(ids[i]), entity, "update", key, json.dumps(logged, ensure_ascii=False)))
    current = build(np.arange(n), state, vf, batch).with_columns(pl.Series("id", ids), pl.Series("row_version", rowver))
    return current, history_frame(hist, ids, base, build)

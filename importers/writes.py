"""Bulk creation of new persons and households for the apply layer, with their change-log entries.

The records have already passed the services' own checks (``check_person`` / ``check_household``,
scope); this module only writes them fast, inside the caller's transaction: ids are reserved up
front (PostgreSQL: from the table's sequence; SQLite: past the largest id, safe because the import
already holds SQLite's write lock through its change batch), the rows go in with the backend's bulk
path (``app.seed.bulk``), and each gets a ``create`` entry in ``change_log`` like ``history.create_version``
writes.
"""

from __future__ import annotations

import json
from datetime import date
from typing import TYPE_CHECKING, Any

import polars as pl
from sqlalchemy import Boolean, Date, DateTime, Integer, Table, text

from app.models import metadata
from app.seed import bulk

if TYPE_CHECKING:
    from importers.apply import Applier

ID_BLOCK = 1000


def _pending(applier: Applier) -> dict[str, list[dict[str, Any]]]:
    if not hasattr(applier, "_pending_rows"):
        applier._pending_rows = {"person": [], "household": []}  # type: ignore[attr-defined]
        applier._free_ids = {"person": [], "household": []}  # type: ignore[attr-defined]
    return applier._pending_rows  # type: ignore[attr-defined]


def _next_id(applier: Applier, entity: str) -> int:
    _pending(applier)
    free: list[int] = applier._free_ids[entity]  # type: ignore[attr-defined]
    if not free:
        conn = applier.session.connection()
        if conn.dialect.name == "postgresql":
            seq = f"pg_get_serial_sequence('{entity}', 'id')"
            free.extend(conn.execute(text(f"SELECT nextval({seq}) FROM generate_series(1, {ID_BLOCK})")).scalars())
        else:
            last = getattr(applier, f"_last_{entity}_id", None) or bulk.max_id(conn, entity)
            free.extend(range(last + 1, last + 1 + ID_BLOCK))
            setattr(applier, f"_last_{entity}_id", last + ID_BLOCK)
        free.reverse()
    return free.pop()


def reserve(applier: Applier, entity: str, key: str, values: dict[str, Any]) -> int:
    """Take an id for a new record and queue its row; ``flush`` inserts the queued rows."""
    new_id = _next_id(applier, entity)
    _pending(applier)[entity].append({**values, "id": new_id})
    if entity == "household":
        applier.new_households[key] = new_id
        applier.household_areas[new_id] = values["area_code"]
    else:
        applier.new_persons[key] = new_id
    return new_id


def _schema(tbl: Table, names: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in names:
        t = tbl.c[name].type
        if isinstance(t, DateTime):
            out[name] = pl.Datetime("us")
        elif isinstance(t, Date):
            out[name] = pl.Date
        elif isinstance(t, Boolean):
            out[name] = pl.Boolean
        elif isinstance(t, Integer):
            out[name] = pl.Int64
        else:
            out[name] = pl.String
    return out


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def flush(applier: Applier, entity: str) -> int:
    """Insert the queued new rows of one entity, then their ``create`` change-log entries."""
    rows = _pending(applier)[entity]
    if not rows:
        return 0
    tbl = metadata.tables[entity]
    effective = applier.today
    business = [c.name for c in tbl.columns if c.name not in {"id", "valid_from", "batch_id", "row_version"}]
    names = ["id", *business, "valid_from", "batch_id", "row_version"]
    columns: dict[str, list[Any]] = {n: [] for n in names}
    log_changes: list[str] = []
    for row in rows:
        for n in business:
            columns[n].append(row.get(n))
        columns["id"].append(row["id"])
        log_changes.append(json.dumps({k: [None, _plain(row[k])] for k in business if row.get(k) is not None}, ensure_ascii=False))
    n_rows = len(rows)
    columns["valid_from"] = [effective] * n_rows
    columns["batch_id"] = [applier.batch.id] * n_rows
    columns["row_version"] = [1] * n_rows
    conn = applier.session.connection()
    bulk.bulk_insert(conn, tbl, pl.DataFrame(columns, schema=_schema(tbl, names)))
    log = pl.DataFrame({
        "batch_id": [applier.batch.id] * n_rows,
        "entity": [entity] * n_rows,
        "entity_id": [str(i) for i in columns["id"]],
        "action": ["create"] * n_rows,
        "effective_date": [effective] * n_rows,
        "changes": log_changes,
    }, schema={"batch_id": pl.Int64, "entity": pl.String, "entity_id": pl.String, "action": pl.String,
               "effective_date": pl.Date, "changes": pl.String})
    bulk.bulk_insert(conn, "change_log", log)
    rows.clear()
    return n_rows

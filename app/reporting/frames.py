"""Columnar snapshots of the base data on a date, kept between requests by data version.

Reading is the expensive part of a report (docs/performance.md): the engine loads each table it
needs once per (database, data version, date) with connectorx on PostgreSQL, with SQLAlchemy Core on
SQLite (see ``_connectorx_uri``) or when connectorx cannot read the URL, and keeps a few snapshots in
memory. Every write opens a
``change_batch``, so its highest id is the data version: a new batch makes old snapshots stale.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import polars as pl
from sqlalchemy import Date, Select, func, null, select, union_all
from sqlalchemy.engine import Engine

from app.models import VERSIONED, Area, ChangeBatch, Observation, Tag
from app.services.history import entity_fields

log = logging.getLogger(__name__)

# Columns every snapshot table carries, and their types (IDs and codes always text).
_TEXT = pl.String


def data_version(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.coalesce(func.max(ChangeBatch.id), 0))).scalar_one())


def _connectorx_uri(engine: Engine) -> str | None:
    url = engine.url
    if url.get_backend_name() == "sqlite":
        # Never for SQLite: connectorx links its own SQLite library, whose connection, on close, cannot
        # see this process's WAL locks (POSIX locks are per process), checkpoints and deletes the -wal
        # and -shm files under the app's open connections; their next commit is lost or fails with
        # "disk I/O error". The portable read below goes through the app's own driver.
        return None
    if url.get_backend_name() == "postgresql":
        return url.set(drivername="postgresql").render_as_string(hide_password=False)
    return None


def read_frame(engine: Engine, query: Select, schema: dict[str, Any] | None = None) -> pl.DataFrame:
    """Run a SELECT into a polars frame (connectorx when possible), casting to ``schema``."""
    sql = str(query.compile(engine, compile_kwargs={"literal_binds": True}))
    uri = _connectorx_uri(engine)
    frame = None
    if uri is not None:
        try:
            frame = pl.read_database_uri(sql, uri, engine="connectorx")
        except Exception as exc:  # noqa: BLE001 — unsupported types or URL: use the portable path
            log.warning("connectorx read failed, using the slower SQLAlchemy read: %s", exc)
            frame = None
    if frame is None and engine.url.get_backend_name() == "sqlite":
        frame = _read_sqlite(engine, sql)
    if frame is None:
        with engine.connect() as conn:
            result = conn.execute(query)
            names = list(result.keys())
            rows = result.fetchall()
        # JSON columns come back as dicts from a DB-API cursor: keep them as JSON text, as connectorx does
        data = {n: [_json_text(r[i]) if isinstance(r[i], dict | list) else r[i] for r in rows] for i, n in enumerate(names)}
        frame = pl.DataFrame(data, strict=False, infer_schema_length=None)
    return _cast(frame, schema or {})


def _read_sqlite(engine: Engine, sql: str) -> pl.DataFrame:
    """Plain DB-API rows of the app's own sqlite3 driver, built into a frame column by column.

    No SQLAlchemy result processing: dates stay ISO text and JSON stays text, both converted by
    ``_cast`` column-wise — about 10x faster than per-cell Python conversion on a million rows.
    """
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        try:
            cursor.execute(sql)
            names = [d[0] for d in cursor.description]
            rows = cursor.fetchall()
        finally:
            cursor.close()
    finally:
        raw.close()
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    del rows
    return pl.DataFrame([pl.Series(name, values, strict=False) for name, values in zip(names, columns, strict=True)])


def _cast(frame: pl.DataFrame, schema: dict[str, Any]) -> pl.DataFrame:
    exprs = []
    for name, dtype in schema.items():
        if name not in frame.columns:
            exprs.append(pl.lit(None, dtype=dtype).alias(name))
        elif frame.schema[name] != dtype:
            col = pl.col(name)
            if dtype == pl.Date and frame.schema[name] == pl.String:
                exprs.append(col.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False).alias(name))
            elif dtype == pl.String and frame.schema[name] not in (pl.String, pl.Null):
                exprs.append(
                    col.cast(pl.String).alias(name)
                    if frame.schema[name] != pl.Object
                    else col.map_elements(_json_text, return_dtype=pl.String).alias(name)
                )
            else:
                exprs.append(col.cast(dtype, strict=False).alias(name))
    return frame.with_columns(exprs) if exprs else frame


def _json_text(value: Any) -> str:
    import json

    return json.dumps(value, ensure_ascii=False)


PERSON_SCHEMA = {
    "id": pl.Int64,
    "id_number": _TEXT,
    "name": _TEXT,
    "sex": _TEXT,
    "birth_date": pl.Date,
    "ethnic_group": _TEXT,
    "relation": _TEXT,
    "marital_status": _TEXT,
    "education": _TEXT,
    "political_status": _TEXT,
    "residence_type": _TEXT,
    "phone": _TEXT,
    "household_id": pl.Int64,
    "area_code": _TEXT,
    "living_status": _TEXT,
    "status_date": pl.Date,
    "moved_to": _TEXT,
}
HOUSEHOLD_SCHEMA = {
    "id": pl.Int64,
    "number": _TEXT,
    "kind": _TEXT,
    "area_code": _TEXT,
    "address": _TEXT,
    "status": _TEXT,
    "status_date": pl.Date,
}
HOUSE_SCHEMA = {
    "id": pl.Int64,
    "address": _TEXT,
    "area_code": _TEXT,
    "house_type": _TEXT,
    "floor_area": pl.Float64,
    "structure": _TEXT,
    "safety_grade": _TEXT,
    "household_id": pl.Int64,
    "status": _TEXT,
}
ORG_SCHEMA = {
    "id": pl.Int64,
    "uscc": _TEXT,
    "name": _TEXT,
    "kind": _TEXT,
    "industry": _TEXT,
    "area_code": _TEXT,
    "employees": pl.Int64,
    "status": _TEXT,
}
TAG_SCHEMA = {
    "id": pl.Int64,
    "tag_code": _TEXT,
    "person_id": pl.Int64,
    "household_id": pl.Int64,
    "valid_from": pl.Date,
    "valid_to": pl.Date,
    "attrs": _TEXT,
}
AREA_SCHEMA = {"code": _TEXT, "name": _TEXT, "level": pl.Int64, "parent_code": _TEXT}
OBS_SCHEMA = {
    "item_code": _TEXT,
    "area_code": _TEXT,
    "period": _TEXT,
    "period_start": pl.Date,
    "period_end": pl.Date,
    "value": pl.Float64,
}


def _with_area_keys(frame: pl.DataFrame) -> pl.DataFrame:
    """Add ``village`` (12-digit code) and ``township`` (9 digits + 000) for grouping."""
    return frame.with_columns(
        pl.col("area_code").str.slice(0, 12).alias("village"),
        (pl.col("area_code").str.slice(0, 9) + "000").alias("township"),
    )


def _versions_select(entity: str) -> Select:
    """Every state of every entity: current rows (no end) and history rows, one query."""
    current, history = VERSIONED[entity]
    names = ["id", *entity_fields(entity), "valid_from"]
    cur_q = select(*[getattr(current, n) for n in names], null().cast(Date).label("valid_to"))
    hist_q = select(*[getattr(history, n) for n in names], history.valid_to)
    return select(union_all(cur_q, hist_q).subquery(f"{entity}_versions"))


_ENTITIES = {"persons": ("person", PERSON_SCHEMA), "households": ("household", HOUSEHOLD_SCHEMA),
             "houses": ("house", HOUSE_SCHEMA), "organisations": ("organisation", ORG_SCHEMA)}
_INTERVAL = {"valid_from": pl.Date, "valid_to": pl.Date}


def _in_force(frame: pl.DataFrame, on: date) -> pl.Expr:
    return (pl.col("valid_from") <= on) & (pl.col("valid_to").is_null() | (pl.col("valid_to") > on))


class Store:
    """Every version of the base data at one data version, read once; any date is a filter of it.

    Reading is what costs (seconds for a million rows); selecting the rows in force on a date is a
    polars filter (tens of milliseconds). So a report one year back, or the two dates of a change
    list, cost no more reading than a report for today.
    """

    def __init__(self, engine: Engine, version: int, snapshots: int = 2):
        self.engine = engine
        self.version = version
        self._tables: dict[str, pl.DataFrame] = {}
        self._tag_frames: dict[str, pl.DataFrame] = {}
        self._snapshots: OrderedDict[date, Snapshot] = OrderedDict()
        self._size = snapshots
        self._lock = threading.RLock()

    def table(self, name: str) -> pl.DataFrame:
        with self._lock:
            if name not in self._tables:
                self._tables[name] = self._load(name)
            return self._tables[name]

    def _load(self, name: str) -> pl.DataFrame:
        if name in _ENTITIES:
            entity, schema = _ENTITIES[name]
            frame = read_frame(self.engine, _versions_select(entity), {**schema, **_INTERVAL})
            return _with_area_keys(frame).select([*schema, "village", "township", *_INTERVAL])
        if name == "tags":
            query = select(Tag.id, Tag.tag_code, Tag.person_id, Tag.household_id, Tag.valid_from, Tag.valid_to, Tag.attrs)
            return read_frame(self.engine, query, TAG_SCHEMA).select(list(TAG_SCHEMA))
        if name == "areas":
            query = select(Area.code, Area.name, Area.level, Area.parent_code, Area.valid_from, Area.valid_to)
            return read_frame(self.engine, query, {**AREA_SCHEMA, **_INTERVAL}).select([*AREA_SCHEMA, *_INTERVAL])
        if name == "observations":
            query = select(Observation).where(Observation.subject_type == "area")
            return _with_area_keys(read_frame(self.engine, query, OBS_SCHEMA)).select([*OBS_SCHEMA, "village", "township"])
        raise KeyError(name)

    def tag_frame(self, code: str) -> pl.DataFrame:
        """All intervals of one tag type, its attributes parsed into ``attr.<name>`` columns (once)."""
        with self._lock:
            if code not in self._tag_frames:
                tags = self.table("tags").filter(pl.col("tag_code") == code)
                names = _attribute_names(code)
                self._tag_frames[code] = tags.with_columns(
                    [pl.col("attrs").str.json_path_match(f"$.{n}").alias(f"attr.{n}") for n in names]
                ).drop("attrs")
            return self._tag_frames[code]

    def snapshot(self, on: date) -> Snapshot:
        with self._lock:
            snap = self._snapshots.get(on)
            if snap is None:
                snap = Snapshot(self, on)
                self._snapshots[on] = snap
                while len(self._snapshots) > self._size:
                    self._snapshots.popitem(last=False)
            else:
                self._snapshots.move_to_end(on)
            return snap


def _attribute_names(code: str) -> list[str]:
    from app.registry.loader import seed_context

    tag_type = seed_context().tag_types.get(code)
    return [a["name"] for a in tag_type["attributes"]] if tag_type else []


@dataclass
class Snapshot:
    """The base data as it stood on ``on``: each table filtered from the store when first used."""

    store: Store
    on: date
    _tables: dict[str, pl.DataFrame] = field(default_factory=dict)
    _lock: threading.RLock = field(default_factory=threading.RLock)

    @property
    def version(self) -> int:
        return self.store.version

    def table(self, name: str) -> pl.DataFrame:
        with self._lock:
            if name not in self._tables:
                self._tables[name] = self._filtered(name)
            return self._tables[name]

    def _filtered(self, name: str) -> pl.DataFrame:
        if name == "all_areas":
            return self.store.table("areas").drop(*_INTERVAL)
        if name == "observations":
            return self.store.table("observations")
        frame = self.store.table(name)
        return frame.filter(_in_force(frame, self.on)).drop(*_INTERVAL) if name != "tags" else frame.filter(_in_force(frame, self.on))

    def derived(self, key: str, make: Callable[[], pl.DataFrame]) -> pl.DataFrame:
        """A frame computed from this snapshot once (e.g. persons with ages on a date)."""
        with self._lock:
            if key not in self._tables:
                self._tables[key] = make()
            return self._tables[key]

    def tag_frame(self, code: str) -> pl.DataFrame:
        """The intervals of one tag type in force on the date, with parsed attribute columns."""
        key = f"tag:{code}"
        with self._lock:
            if key not in self._tables:
                frame = self.store.tag_frame(code)
                self._tables[key] = frame.filter(_in_force(frame, self.on))
            return self._tables[key]

    @property
    def persons(self) -> pl.DataFrame:
        return self.table("persons")

    @property
    def households(self) -> pl.DataFrame:
        return self.table("households")

    @property
    def areas(self) -> pl.DataFrame:
        return self.table("areas")


class SnapshotCache:
    """The store of the newest data version per database (older versions are dropped)."""

    def __init__(self) -> None:
        self._stores: dict[str, Store] = {}
        self._lock = threading.Lock()

    def store(self, engine: Engine, version: int | None = None) -> Store:
        version = data_version(engine) if version is None else version
        key = str(engine.url)
        with self._lock:
            store = self._stores.get(key)
            if store is None or store.version != version:
                store = Store(engine, version)
                self._stores[key] = store
            return store

    def get(self, engine: Engine, on: date, version: int | None = None) -> Snapshot:
        return self.store(engine, version).snapshot(on)

    def clear(self) -> None:
        with self._lock:
            self._stores.clear()


CACHE = SnapshotCache()

"""Columnar snapshots of the base data on a date, kept between requests by data version.

Reading is the expensive part of a report (performance-notes.md): the engine loads each table it
needs once per (database, data version, date) with connectorx, falls back to SQLAlchemy Core when
connectorx cannot read the URL, and keeps a few snapshots in memory. Every write opens a
``change_batch``, so its highest id is the data version: a new batch makes old snapshots stale.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import polars as pl
from sqlalchemy import Select, func, select
from sqlalchemy.engine import Engine

from app.models import Area, ChangeBatch, Observation
from app.services.history import areas_as_of_select, as_of_select, tags_as_of_select

# Columns every snapshot table carries, and their types (IDs and codes always text).
_TEXT = pl.String


def data_version(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.coalesce(func.max(ChangeBatch.id), 0))).scalar_one())


def _connectorx_uri(engine: Engine) -> str | None:
    url = engine.url
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return f"sqlite://{url.database}" if url.database.startswith("/") else None
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
        except Exception:  # noqa: BLE001 — unsupported types or URL: use the portable path
            frame = None
    if frame is None:
        with engine.connect() as conn:
            result = conn.execute(query)
            names = list(result.keys())
            rows = result.fetchall()
        frame = pl.DataFrame({n: [r[i] for r in rows] for i, n in enumerate(names)}, strict=False, infer_schema_length=None)
    return _cast(frame, schema or {})


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
                exprs.append(col.cast(pl.String).alias(name) if frame.schema[name] != pl.Object else
                             col.map_elements(_json_text, return_dtype=pl.String).alias(name))
            else:
                exprs.append(col.cast(dtype, strict=False).alias(name))
    return frame.with_columns(exprs) if exprs else frame


def _json_text(value: Any) -> str:
    import json

    return json.dumps(value, ensure_ascii=False)


PERSON_SCHEMA = {
    "id": pl.Int64, "id_number": _TEXT, "name": _TEXT, "sex": _TEXT, "birth_date": pl.Date, "ethnic_group": _TEXT,
    "relation": _TEXT, "marital_status": _TEXT, "education": _TEXT, "political_status": _TEXT,
    "residence_type": _TEXT, "phone": _TEXT, "household_id": pl.Int64, "area_code": _TEXT, "living_status": _TEXT,
    "status_date": pl.Date, "moved_to": _TEXT,
}
HOUSEHOLD_SCHEMA = {"id": pl.Int64, "number": _TEXT, "kind": _TEXT, "area_code": _TEXT, "address": _TEXT,
                    "status": _TEXT, "status_date": pl.Date}
HOUSE_SCHEMA = {"id": pl.Int64, "address": _TEXT, "area_code": _TEXT, "house_type": _TEXT, "floor_area": pl.Float64,
                "structure": _TEXT, "safety_grade": _TEXT, "household_id": pl.Int64, "status": _TEXT}
ORG_SCHEMA = {"id": pl.Int64, "uscc": _TEXT, "name": _TEXT, "kind": _TEXT, "industry": _TEXT, "area_code": _TEXT,
              "employees": pl.Int64, "status": _TEXT}
TAG_SCHEMA = {"id": pl.Int64, "tag_code": _TEXT, "person_id": pl.Int64, "household_id": pl.Int64,
              "valid_from": pl.Date, "valid_to": pl.Date, "attrs": _TEXT}
AREA_SCHEMA = {"code": _TEXT, "name": _TEXT, "level": pl.Int64, "parent_code": _TEXT}
OBS_SCHEMA = {"item_code": _TEXT, "area_code": _TEXT, "period": _TEXT, "period_start": pl.Date, "period_end": pl.Date,
              "value": pl.Float64}


def _with_area_keys(frame: pl.DataFrame) -> pl.DataFrame:
    """Add ``village`` (12-digit code) and ``township`` (9 digits + 000) for grouping."""
    return frame.with_columns(
        pl.col("area_code").str.slice(0, 12).alias("village"),
        (pl.col("area_code").str.slice(0, 9) + "000").alias("township"),
    )


@dataclass
class Snapshot:
    """The base data as it stood on ``on`` (tables loaded lazily, each once)."""

    engine: Engine
    on: date
    version: int
    _tables: dict[str, pl.DataFrame] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def table(self, name: str) -> pl.DataFrame:
        with self._lock:
            if name not in self._tables:
                self._tables[name] = self._load(name)
            return self._tables[name]

    @property
    def persons(self) -> pl.DataFrame:
        return self.table("persons")

    @property
    def households(self) -> pl.DataFrame:
        return self.table("households")

    @property
    def tags(self) -> pl.DataFrame:
        return self.table("tags")

    @property
    def areas(self) -> pl.DataFrame:
        return self.table("areas")

    def _load(self, name: str) -> pl.DataFrame:
        on = self.on
        if name == "persons":
            return _with_area_keys(read_frame(self.engine, as_of_select("person", on), PERSON_SCHEMA)).select(
                [*PERSON_SCHEMA, "village", "township"])
        if name == "households":
            return _with_area_keys(read_frame(self.engine, as_of_select("household", on), HOUSEHOLD_SCHEMA)).select(
                [*HOUSEHOLD_SCHEMA, "village", "township"])
        if name == "houses":
            return _with_area_keys(read_frame(self.engine, as_of_select("house", on), HOUSE_SCHEMA)).select(
                [*HOUSE_SCHEMA, "village", "township"])
        if name == "organisations":
            return _with_area_keys(read_frame(self.engine, as_of_select("organisation", on), ORG_SCHEMA)).select(
                [*ORG_SCHEMA, "village", "township"])
        if name == "tags":
            return read_frame(self.engine, tags_as_of_select(on), TAG_SCHEMA).select(list(TAG_SCHEMA))
        if name == "areas":
            return read_frame(self.engine, areas_as_of_select(on), AREA_SCHEMA).select(list(AREA_SCHEMA))
        if name == "all_areas":
            return read_frame(self.engine, select(Area).order_by(Area.code), AREA_SCHEMA).select(list(AREA_SCHEMA))
        if name == "observations":
            query = select(Observation).where(Observation.subject_type == "area")
            return _with_area_keys(read_frame(self.engine, query, OBS_SCHEMA)).select([*OBS_SCHEMA, "village", "township"])
        raise KeyError(name)


class SnapshotCache:
    """A few snapshots per process, keyed by (database URL, data version, date)."""

    def __init__(self, size: int = 4):
        self.size = size
        self._items: OrderedDict[tuple[str, int, date], Snapshot] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, engine: Engine, on: date, version: int | None = None) -> Snapshot:
        version = data_version(engine) if version is None else version
        key = (str(engine.url), version, on)
        with self._lock:
            snap = self._items.get(key)
            if snap is None:
                snap = Snapshot(engine, on, version)
                self._items[key] = snap
                # drop snapshots of older data versions of the same database, then the least recent
                for old in [k for k in self._items if k[0] == key[0] and k[1] < version]:
                    del self._items[old]
                while len(self._items) > self.size:
                    self._items.popitem(last=False)
            else:
                self._items.move_to_end(key)
            return snap

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


CACHE = SnapshotCache()

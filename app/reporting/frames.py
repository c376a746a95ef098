"""Columnar snapshots of the base data on a date, kept between requests by data version.

Reading is the expensive part of a report (docs/performance.md): the engine loads each table it
needs once per (database, data version, date) with connectorx on PostgreSQL, with SQLAlchemy Core on
SQLite (see ``_connectorx_uri``) or when connectorx cannot read the URL, and keeps a few snapshots in
memory. Every write opens a
``change_batch``, so its highest id is the data version: a new batch makes old snapshots stale.

After a write the store is not read again: ``Store.advance`` re-reads only the entities the newer
batches touched (``touched``). Tables are also kept on disk per data version (``DiskSnapshots``,
Arrow IPC under instance/snapshots), so a new process starts from the newest file plus the changes
since. ``YBT_SNAPSHOTS=off`` (``init_app``) turns both off. tests/services/test_store_incremental.py
checks random write sequences: incremental == full read, frame for frame.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import Date, Select, func, null, or_, select, union_all
from sqlalchemy.engine import Engine

from app.models import VERSIONED, Area, ChangeBatch, ChangeLog, Observation, Tag
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
# The columns each store table has, in order: a persisted file with other columns is not used.
COLUMNS: dict[str, list[str]] = {
    **{name: [*schema, "village", "township", *_INTERVAL] for name, (_e, schema) in _ENTITIES.items()},
    "tags": list(TAG_SCHEMA),
    "areas": [*AREA_SCHEMA, *_INTERVAL],
    "observations": [*OBS_SCHEMA, "village", "township"],
}

# Batch ids below the data version that were not visible when a store was read (a transaction still
# open on PostgreSQL, or an empty import batch deleted): each later refresh looks at them again, so a
# batch that commits late is applied. Only the last GAP_WINDOW ids are watched.
GAP_WINDOW = 1000
# More changed entities than this share of a table: reading the whole table is cheaper than the ids.
FULL_RELOAD_SHARE = 0.25
# A table is written to disk again once this many of its entities changed since its file was written.
PERSIST_AFTER_ROWS = 20_000
# Dated snapshots kept per store: a pass over every projection needs today, the day before a
# period and its end, for a few period kinds (bench/bench_live.py).
SNAPSHOTS = 6
_ID_CHUNK = 20_000
SNAPSHOT_FORMAT = 1


def _versions_select(entity: str, ids: list[int] | None = None) -> Select:
    """Every state of every entity (or of ``ids``): current rows (no end) and history rows, one query."""
    current, history = VERSIONED[entity]
    names = ["id", *entity_fields(entity), "valid_from"]
    cur_q = select(*[getattr(current, n) for n in names], null().cast(Date).label("valid_to"))
    hist_q = select(*[getattr(history, n) for n in names], history.valid_to)
    if ids is not None:
        cur_q = cur_q.where(current.id.in_(ids))
        hist_q = hist_q.where(history.id.in_(ids))
    return select(union_all(cur_q, hist_q).subquery(f"{entity}_versions"))


def _in_force(frame: pl.DataFrame, on: date) -> pl.Expr:
    return (pl.col("valid_from") <= on) & (pl.col("valid_to").is_null() | (pl.col("valid_to") > on))


def read_table(engine: Engine, name: str, ids: list[int] | None = None) -> pl.DataFrame:
    """One store table read from the database: every row, or only the rows of entity / tag ``ids``."""
    if name in _ENTITIES:
        entity, schema = _ENTITIES[name]
        frame = read_frame(engine, _versions_select(entity, ids), {**schema, **_INTERVAL})
        return _with_area_keys(frame).select(COLUMNS[name])
    if name == "tags":
        query = select(Tag.id, Tag.tag_code, Tag.person_id, Tag.household_id, Tag.valid_from, Tag.valid_to, Tag.attrs)
        if ids is not None:
            query = query.where(Tag.id.in_(ids))
        return read_frame(engine, query, TAG_SCHEMA).select(COLUMNS[name])
    if name == "areas":
        query = select(Area.code, Area.name, Area.level, Area.parent_code, Area.valid_from, Area.valid_to)
        return read_frame(engine, query, {**AREA_SCHEMA, **_INTERVAL}).select(COLUMNS[name])
    if name == "observations":
        query = select(Observation).where(Observation.subject_type == "area")
        return _with_area_keys(read_frame(engine, query, OBS_SCHEMA)).select(COLUMNS[name])
    raise KeyError(name)


# -- what changed since a data version --------------------------------------------------------------


def _after(column: Any, since: int, pending: frozenset[int]) -> Any:
    """Rows written by a batch after ``since`` or by one of the ``pending`` batches."""
    return or_(column > since, column.in_(sorted(pending))) if pending else column > since


def batch_gaps(engine: Engine, version: int) -> frozenset[int]:
    """Ids at or below ``version`` (within GAP_WINDOW) that no visible batch has."""
    if version <= 0:
        return frozenset()
    low = max(0, version - GAP_WINDOW)
    with engine.connect() as conn:
        seen = set(conn.execute(select(ChangeBatch.id).where(ChangeBatch.id > low, ChangeBatch.id <= version)).scalars())
    return frozenset(set(range(low + 1, version + 1)) - seen)


def batch_stamp(engine: Engine, version: int) -> str | None:
    """The creation time of batch ``version``: tells this database from another one at the same URL."""
    if version <= 0:
        return None
    with engine.connect() as conn:
        value = conn.execute(select(ChangeBatch.created_at).where(ChangeBatch.id == version)).scalar()
    return None if value is None else str(value)


def touched(engine: Engine, since: int, pending: frozenset[int] = frozenset()) -> dict[str, set[int]]:
    """Per store table, the entity (or tag) ids that a batch after ``since`` (or a pending one) wrote.

    An entity counts when its current row, any of its history rows or a change-log entry carries
    such a batch: an update copies the closed state into history with its old batch id, and a
    retroactive correction rewrites history rows, so no single table says it all. The whole entity
    (every version) is then read again. ``observations`` is {0} when any observation changed.
    """
    out: dict[str, set[int]] = {}
    with engine.connect() as conn:
        # one query on the batch id alone: with ``entity = …`` as well, SQLite chose the (entity,
        # entity_id) index and scanned every log entry of persons (11 s on the 1 M county)
        log: dict[str, set[int]] = {}
        for entity, entity_id in conn.execute(select(ChangeLog.entity, ChangeLog.entity_id)
                                              .where(_after(ChangeLog.batch_id, since, pending))):
            if str(entity_id).isdigit():
                log.setdefault(entity, set()).add(int(entity_id))

        def logged(entity: str) -> set[int]:
            return log.get(entity, set())

        for name, (entity, _schema) in _ENTITIES.items():
            current, history = VERSIONED[entity]
            ids = set(conn.execute(select(current.id).where(_after(current.batch_id, since, pending))).scalars())
            ids |= set(conn.execute(select(history.id).where(_after(history.batch_id, since, pending))).scalars())
            out[name] = ids | logged(entity)
        tag_ids = set(conn.execute(select(Tag.id).where(_after(Tag.batch_id, since, pending))).scalars())
        out["tags"] = tag_ids | logged("tag")
        changed = conn.execute(select(Observation.id).where(_after(Observation.batch_id, since, pending)).limit(1)).first()
        out["observations"] = {0} if changed is not None or logged("observation") else set()
    return out


def _chunks(ids: list[int]) -> list[list[int]]:
    return [ids[i:i + _ID_CHUNK] for i in range(0, len(ids), _ID_CHUNK)]


def patch_table(engine: Engine, name: str, frame: pl.DataFrame, changed: dict[str, set[int]]) -> tuple[pl.DataFrame, int]:
    """``frame`` brought forward: the rows of changed ids read again, the rest kept.

    Returns the new frame and how many entities were read again (-1: the whole table was).
    """
    if name == "areas":  # a few thousand rows, no batch ids: always read again
        return read_table(engine, name), -1
    if name == "observations":
        return (read_table(engine, name), -1) if changed.get(name) else (frame, 0)
    ids = changed.get(name) or set()
    if not ids:
        return frame, 0
    if len(ids) > 1000 and len(ids) > FULL_RELOAD_SHARE * frame.height:
        return read_table(engine, name), -1
    ordered = sorted(ids)
    fresh = [read_table(engine, name, chunk) for chunk in _chunks(ordered)]
    kept = frame.filter(~pl.col("id").is_in(pl.Series(ordered, dtype=pl.Int64).implode()))
    return pl.concat([kept, *[f.select(frame.columns).cast(frame.schema) for f in fresh]], how="vertical"), len(ids)


# -- snapshots on disk ------------------------------------------------------------------------------


class DiskSnapshots:
    """Store tables kept as Arrow IPC files per data version, so a new process starts warm.

    ``<dir>/<table>-<version>.json`` (the version's pending batch ids and the stamp of its batch)
    is written first, then ``<table>-<version>.arrow``; each through a temporary file renamed into
    place, so a reader sees a whole file or none, and a crash while writing leaves the older
    version usable. Files are memory-mapped on read; the newest KEEP versions of a table are kept.
    """

    KEEP = 2

    def __init__(self, root: Path, engine: Engine):
        digest = hashlib.sha1(str(engine.url).encode()).hexdigest()[:16]
        self.dir = Path(root) / f"f{SNAPSHOT_FORMAT}-{digest}"

    def _versions(self, name: str) -> list[int]:
        found = []
        for path in self.dir.glob(f"{name}-*.arrow"):
            tail = path.name[len(name) + 1:-len(".arrow")]
            if tail.isdigit():
                found.append(int(tail))
        return sorted(found, reverse=True)

    def load(self, engine: Engine, name: str, version: int) -> tuple[pl.DataFrame, int, frozenset[int]] | None:
        """The newest usable file of ``name`` at or below ``version``: (frame, its version, its pending ids)."""
        for found in self._versions(name):
            if found > version:
                continue
            base = self.dir / f"{name}-{found:012d}"
            try:
                meta = json.loads(base.with_suffix(".json").read_text("utf-8"))
                if meta.get("stamp") != batch_stamp(engine, found):
                    continue  # another database once had this URL
                frame = pl.read_ipc(base.with_suffix(".arrow"))  # memory-mapped: uncompressed IPC from a path
            except Exception as exc:  # noqa: BLE001 — pruned meanwhile, truncated, unreadable: try older, then the database
                log.warning("snapshot file %s not usable: %s", base, exc)
                continue
            if frame.columns != COLUMNS[name]:
                continue
            return frame, found, frozenset(meta.get("pending", []))
        return None

    def save(self, engine: Engine, name: str, version: int, pending: frozenset[int], frame: pl.DataFrame) -> None:
        stamp = batch_stamp(engine, version)
        if stamp is None:
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        base = self.dir / f"{name}-{version:012d}"
        tag = f".tmp-{os.getpid()}-{threading.get_ident()}"
        try:
            meta = json.dumps({"version": version, "pending": sorted(pending), "stamp": stamp})
            _atomic_write(base.with_suffix(".json"), tag, lambda f: f.write(meta.encode("utf-8")))
            _atomic_write(base.with_suffix(".arrow"), tag, lambda f: frame.write_ipc(f, compression="uncompressed"))
        except OSError as exc:  # a full disk must not fail the report: the next process reads the database
            log.warning("could not write snapshot %s: %s", base, exc)
            return
        self.prune(name)

    def prune(self, name: str) -> None:
        for old in self._versions(name)[self.KEEP:]:
            for suffix in (".arrow", ".json"):
                with contextlib.suppress(OSError):  # Windows: a file mapped by another process stays
                    (self.dir / f"{name}-{old:012d}{suffix}").unlink()
        cutoff = time.time() - 3600
        for tmp in self.dir.glob(f"{name}-*.tmp-*"):  # left by a crash while writing
            with contextlib.suppress(OSError):
                if tmp.stat().st_mtime < cutoff:
                    tmp.unlink()


def _atomic_write(path: Path, tag: str, write: Callable[[Any], Any]) -> None:
    tmp = path.with_name(path.name + tag)
    try:
        with open(tmp, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


@dataclass(frozen=True)
class Settings:
    """How a database's store is kept: ``incremental`` (apply changes, not read everything again after
    a write) and ``directory`` (persisted snapshots; None: memory only). YBT_SNAPSHOTS=off: neither."""

    incremental: bool = True
    directory: Path | None = None


# -- the store --------------------------------------------------------------------------------------


class Store:
    """Every version of the base data at one data version, read once; any date is a filter of it.

    Reading is what costs (seconds for a million rows); selecting the rows in force on a date is a
    polars filter (tens of milliseconds). So a report one year back, or the two dates of a change
    list, cost no more reading than a report for today. After a write, ``advance`` makes the store of
    the new version from this one by reading only the entities the new batches touched.
    """

    def __init__(self, engine: Engine, version: int, snapshots: int = SNAPSHOTS, *,
                 settings: Settings | None = None, pending: frozenset[int] | None = None):
        self.engine = engine
        self.version = version
        self.settings = settings or Settings(incremental=False)
        self.pending = pending if pending is not None else (
            batch_gaps(engine, version) if self.settings.incremental else frozenset())
        self.stamp = batch_stamp(engine, version) if self.settings.incremental else None
        self._tables: dict[str, pl.DataFrame] = {}
        self._tag_frames: dict[str, pl.DataFrame] = {}
        self._snapshots: OrderedDict[date, Snapshot] = OrderedDict()
        self._size = snapshots
        self._lock = threading.RLock()
        # per table: the entities changed since its file on disk was written (None: no file of it)
        self._unsaved: dict[str, int | None] = {}
        self._touched: dict[tuple[int, frozenset[int]], dict[str, set[int]]] = {}
        self.disk = DiskSnapshots(self.settings.directory, engine) if self.settings.directory and self.settings.incremental else None

    def table(self, name: str) -> pl.DataFrame:
        with self._lock:
            if name not in self._tables:
                self._tables[name] = self._load(name)
            return self._tables[name]

    def _load(self, name: str) -> pl.DataFrame:
        if self.disk is None:
            return read_table(self.engine, name)
        found = self.disk.load(self.engine, name, self.version)
        if found is None:
            frame = read_table(self.engine, name)
            self._unsaved[name] = None
        else:
            frame, on_disk, pending = found
            if on_disk == self.version and not (pending - self.pending):
                self._unsaved[name] = 0
                return frame
            frame, count = patch_table(self.engine, name, frame, self._touched_since(on_disk, pending))
            self._unsaved[name] = None if count < 0 else count
        self._maybe_save(name, frame)
        return frame

    def _touched_since(self, version: int, pending: frozenset[int]) -> dict[str, set[int]]:
        """``touched`` once per file version: the tables of one process usually share it."""
        key = (version, pending)
        if key not in self._touched:
            self._touched[key] = touched(self.engine, version, pending)
        return self._touched[key]

    def _maybe_save(self, name: str, frame: pl.DataFrame) -> None:
        unsaved = self._unsaved.get(name)
        if self.disk is not None and (unsaved is None or unsaved >= PERSIST_AFTER_ROWS):
            self.disk.save(self.engine, name, self.version, self.pending, frame)
            self._unsaved[name] = 0

    def advance(self, engine: Engine, version: int) -> Store:
        """The store of ``version`` (newer than this one), made from this one plus what changed."""
        new = Store(engine, version, self._size, settings=self.settings)
        with self._lock:
            if not self._tables:
                return new
            changed = touched(engine, self.version, self.pending)
            counts: dict[str, int] = {}
            for name, frame in self._tables.items():
                new._tables[name], counts[name] = patch_table(engine, name, frame, changed)
                before = self._unsaved.get(name, 0)
                new._unsaved[name] = None if counts[name] < 0 or before is None else before + counts[name]
                new._maybe_save(name, new._tables[name])
            if counts.get("tags", 0) == 0:
                new._tag_frames.update(self._tag_frames)
            elif counts["tags"] > 0:  # else the tags were read whole: parsed again when first used
                ids = pl.Series(sorted(changed["tags"]), dtype=pl.Int64).implode()
                fresh = new._tables["tags"].filter(pl.col("id").is_in(ids))
                for code, frame in self._tag_frames.items():
                    added = _parse_tags(fresh.filter(pl.col("tag_code") == code), code)
                    new._tag_frames[code] = pl.concat(
                        [frame.filter(~pl.col("id").is_in(ids)), added.select(frame.columns).cast(frame.schema)])
        return new

    def tag_frame(self, code: str) -> pl.DataFrame:
        """All intervals of one tag type, its attributes parsed into ``attr.<name>`` columns (once)."""
        with self._lock:
            if code not in self._tag_frames:
                self._tag_frames[code] = _parse_tags(self.table("tags").filter(pl.col("tag_code") == code), code)
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


def _parse_tags(tags: pl.DataFrame, code: str) -> pl.DataFrame:
    names = _attribute_names(code)
    return tags.with_columns(
        [pl.col("attrs").str.json_path_match(f"$.{n}").alias(f"attr.{n}") for n in names]
    ).drop("attrs")


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
    """The store of the newest data version per database (older versions are dropped).

    After a write the store is brought forward (``Store.advance``) rather than read again, unless the
    database's settings say otherwise (``configure``; YBT_SNAPSHOTS=off).
    """

    def __init__(self) -> None:
        self._stores: dict[str, Store] = {}
        self._settings: dict[str, Settings] = {}
        self._lock = threading.Lock()

    def configure(self, engine: Engine, *, incremental: bool = True, directory: Path | str | None = None) -> None:
        """Settings for one database (by URL): the app sets them from YBT_SNAPSHOTS / YBT_SNAPSHOT_DIR."""
        with self._lock:
            key = str(engine.url)
            self._settings[key] = Settings(incremental, Path(directory) if directory and incremental else None)
            self._stores.pop(key, None)

    def settings(self, engine: Engine) -> Settings:
        return self._settings.get(str(engine.url), Settings())

    def store(self, engine: Engine, version: int | None = None) -> Store:
        version = data_version(engine) if version is None else version
        key = str(engine.url)
        settings = self._settings.get(key, Settings())
        with self._lock:
            store = self._stores.get(key)
            if store is not None and store.version == version and not _committed(engine, store.pending):
                return store
            if (store is not None and settings.incremental and store.settings == settings
                    and version >= store.version and store.stamp == batch_stamp(engine, store.version)):
                store = store.advance(engine, version)
            else:
                store = Store(engine, version, settings=settings)
            self._stores[key] = store
            return store

    def get(self, engine: Engine, on: date, version: int | None = None) -> Snapshot:
        return self.store(engine, version).snapshot(on)

    def clear(self) -> None:
        with self._lock:
            self._stores.clear()


def _committed(engine: Engine, pending: frozenset[int]) -> bool:
    """Whether a batch that was missing when the store was read is visible now."""
    if not pending:
        return False
    with engine.connect() as conn:
        return conn.execute(select(ChangeBatch.id).where(ChangeBatch.id.in_(sorted(pending))).limit(1)).first() is not None


CACHE = SnapshotCache()


def init_app(app: Any) -> None:
    """Apply YBT_SNAPSHOTS (on | off) and YBT_SNAPSHOT_DIR to the app's database."""
    from app.config import ConfigError
    from app.db import get_db

    value = str(app.config.get("YBT_SNAPSHOTS") or "on").strip().lower()
    if value not in ("on", "off"):
        raise ConfigError(f"YBT_SNAPSHOTS={value!r}: expected on or off")
    directory = app.config.get("YBT_SNAPSHOT_DIR")
    if not directory and not app.config.get("TESTING"):
        directory = Path(app.instance_path) / "snapshots"
    CACHE.configure(get_db(app).engine, incremental=value == "on", directory=directory)

"""Columnar snapshots of the base data on a date, kept between requests by data version.

Reading is the expensive part of a report (docs/performance.md): the engine loads each table it
needs once per (database, data version, date) with connectorx on PostgreSQL, with SQLAlchemy Core on
SQLite (see ``store_read._connectorx_uri``) or when connectorx cannot read the URL, and keeps a few snapshots in
memory. Every write opens a
``change_batch``, so its highest id is the data version: a new batch makes old snapshots stale.

After a write the store is not read again: ``Store.advance`` re-reads only the entities the newer
batches touched (``store_delta.touched``). Tables are also kept on disk per data version
(``store_files.DiskSnapshots``,
Arrow IPC under instance/snapshots), so a new process starts from the newest file plus the changes
since. ``YBT_SNAPSHOTS=off`` (``init_app``) turns both off. tests/services/test_store_incremental.py
checks random write sequences: incremental == full read, frame for frame.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import select
from sqlalchemy.engine import Engine

from app.models import ChangeBatch
from app.reporting.store_delta import batch_gaps, batch_stamp, data_version, patch_table, touched
from app.reporting.store_files import DiskSnapshots
from app.reporting.store_read import _INTERVAL, read_table

# A table is written to disk again once this many of its entities changed since its file was written.
PERSIST_AFTER_ROWS = 20_000
# Dated snapshots kept per store: a pass over every projection needs today, the day before a
# period and its end, for a few period kinds (bench/bench_live.py).
SNAPSHOTS = 6


def _in_force(frame: pl.DataFrame, on: date) -> pl.Expr:
    return (pl.col("valid_from") <= on) & (pl.col("valid_to").is_null() | (pl.col("valid_to") > on))


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
                 settings: Settings | None = None, pending: frozenset[int] | None = None, county: str | None = None):
        self.engine = engine
        self.version = version
        # one county's part only (an area-code prefix; province roll-ups, reporting/province.py):
        # read from the database each time, neither persisted nor brought forward
        self.county = county
        if county is not None:
            settings = Settings(incremental=False)
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
            return read_table(self.engine, name, county=self.county)
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

    def release(self) -> None:
        """Drop every frame now. A store and its snapshots refer to each other, so without this their
        frames wait for Python's cycle collector (province roll-ups: +200 MB per county evicted)."""
        with self._lock:
            for snap in self._snapshots.values():
                snap._tables.clear()  # noqa: SLF001
            self._snapshots.clear()
            self._tables.clear()
            self._tag_frames.clear()

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
    from app.registry.loader import runtime_context

    tag_type = runtime_context().tag_types.get(code)
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

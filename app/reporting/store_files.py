"""Store tables persisted as Arrow IPC files per data version (instance/snapshots), so a new process starts warm."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy.engine import Engine

from app.reporting.store_delta import batch_stamp
from app.reporting.store_read import COLUMNS

log = logging.getLogger(__name__)

# 2: code columns Categorical, only the used columns (store_read.COLUMNS)
SNAPSHOT_FORMAT = 2


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

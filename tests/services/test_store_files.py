"""Persisted snapshots: a new process starts from the files, never from a half-written or foreign one.

Hand-made data: two households and three persons in 甲村; each check compares with a full read.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from flask import Flask
from hand_county import VILLAGE_A, County, id_number
from polars.testing import assert_frame_equal
from sqlalchemy.engine import Engine

from app import create_app
from app.config import ConfigError
from app.db import Database, get_db
from app.reporting import frames, store_delta
from app.reporting.frames import SnapshotCache
from app.reporting.store_read import read_table
from app.services.households import create_household
from app.services.persons import create_person, update_person


def _people(db: Database, county: County) -> list[int]:
    ids = []
    with db.transaction() as s:
        h = create_household(s, county.admin, {"number": "F001", "area_code": VILLAGE_A}, effective=date(2024, 1, 1))
        for seq, name in ((11, "测试甲"), (12, "测试乙"), (13, "测试丙")):
            ids.append(create_person(s, county.admin, {"id_number": id_number(date(1970, 1, seq), seq), "name": name,
                                                       "household_id": h.id, "area_code": VILLAGE_A, "relation": "20"},
                                     effective=date(2024, 1, 1), confirm_warnings=True).id)
    return ids


def _rename(db: Database, county: County, pid: int, name: str) -> None:
    with db.transaction() as s:
        update_person(s, county.admin, pid, {"name": name}, effective=date(2024, 6, 1), confirm_warnings=True)


def _names(store: frames.Store) -> set[str]:
    persons = store.table("persons")
    return set(persons.filter(pl.col("valid_to").is_null())["name"])


def _new_process(db: Database, directory: Path) -> frames.Store:
    cache = SnapshotCache()
    cache.configure(db.engine, directory=directory)
    return cache.store(db.engine)


def test_new_process_starts_from_files_and_applies_changes(db: Database, county: County, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    ids = _people(db, county)
    first = _new_process(db, tmp_path)
    assert _names(first) == {"测试甲", "测试乙", "测试丙"}
    files = sorted(p.name for p in first.disk.dir.glob("persons-*.arrow"))
    assert files == [f"persons-{first.version:012d}.arrow"]

    _rename(db, county, ids[0], "测试丁")
    # the next process finds the older file and reads only person ids[0] again: prove it by poisoning the full read
    def poisoned(engine: Engine, name: str, ids: list[int] | None = None) -> pl.DataFrame:  # the full read fails
        return read_table(engine, name, ids) if ids is not None or name in ("areas", "observations") else pytest.fail(name)
    monkeypatch.setattr(frames, "read_table", poisoned)
    monkeypatch.setattr(store_delta, "read_table", poisoned)
    second = _new_process(db, tmp_path)
    assert second.version == first.version + 1
    assert _names(second) == {"测试丁", "测试乙", "测试丙"}
    monkeypatch.undo()
    assert_frame_equal(second.table("persons").sort("id", "valid_from"), read_table(db.engine, "persons").sort("id", "valid_from"))


def test_half_written_and_corrupt_files_are_not_used(db: Database, county: County, tmp_path: Path) -> None:
    ids = _people(db, county)
    store = _new_process(db, tmp_path)
    store.table("persons")
    _rename(db, county, ids[1], "测试戊")
    version = store_delta.data_version(db.engine)
    directory = store.disk.dir
    # a crash after the meta file and during the data file of the newer version: only a temporary file
    meta = {"version": version, "pending": [], "stamp": store_delta.batch_stamp(db.engine, version)}
    (directory / f"persons-{version:012d}.json").write_text(json.dumps(meta))
    (directory / f"persons-{version:012d}.arrow.tmp-1-1").write_bytes(b"ARROW1 half")
    assert _names(_new_process(db, tmp_path)) == {"测试甲", "测试戊", "测试丙"}
    # a truncated data file under the final name: the older file plus the changes since, or the database
    (directory / f"persons-{version:012d}.arrow").write_bytes(b"ARROW1 truncated")
    assert _names(_new_process(db, tmp_path)) == {"测试甲", "测试戊", "测试丙"}


def test_files_of_another_database_at_the_same_url_are_not_used(db: Database, county: County, tmp_path: Path) -> None:
    ids = _people(db, county)
    store = _new_process(db, tmp_path)
    path = store.disk.dir / f"persons-{store.version:012d}.arrow"
    # same URL, same version number, different data: the batch stamp in the meta file does not match
    other = store.table("persons").with_columns(pl.lit("别人").alias("name"))
    other.write_ipc(path)
    meta = store.disk.dir / f"persons-{store.version:012d}.json"
    meta.write_text(meta.read_text().replace('"stamp": "', '"stamp": "1999-'))
    assert _names(_new_process(db, tmp_path)) == {"测试甲", "测试乙", "测试丙"}
    assert ids


def test_old_versions_are_pruned(db: Database, county: County, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(frames, "PERSIST_AFTER_ROWS", 1)
    ids = _people(db, county)
    cache = SnapshotCache()
    cache.configure(db.engine, directory=tmp_path)
    cache.store(db.engine).table("persons")
    for n in range(3):
        _rename(db, county, ids[2], f"测试{n}")
        cache.store(db.engine)
    versions = sorted(p.name for p in cache.store(db.engine).disk.dir.glob("persons-*.arrow"))
    latest = store_delta.data_version(db.engine)
    assert versions == [f"persons-{latest - 1:012d}.arrow", f"persons-{latest:012d}.arrow"]


def test_ybt_snapshots_off_reads_the_database_and_writes_no_files(db_url: str, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YBT_SNAPSHOTS", "off")
    app: Flask = create_app({"TESTING": True, "DATABASE_URL": db_url, "SECRET_KEY": "test",
                             "YBT_SNAPSHOT_DIR": str(tmp_path / "snap")})
    engine = get_db(app).engine
    try:
        settings = frames.CACHE.settings(engine)
        assert settings == frames.Settings(incremental=False, directory=None)
        frames.CACHE.store(engine).table("persons")
        assert not (tmp_path / "snap").exists()
    finally:
        frames.CACHE.configure(engine)
        engine.dispose()
    monkeypatch.setenv("YBT_SNAPSHOTS", "maybe")
    with pytest.raises(ConfigError, match="YBT_SNAPSHOTS"):
        create_app({"TESTING": True, "DATABASE_URL": db_url, "SECRET_KEY": "test"})

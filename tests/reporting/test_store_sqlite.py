"""The report store reads SQLite through the app's own driver and leaves the WAL of open connections alone.

connectorx links its own SQLite library; on closing it checkpointed and deleted the -wal/-shm files
under the app's open connections, and the app's next commit was lost ("disk I/O error"). This test
fails on such a reader: a write after a store read must commit and stay.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
from sqlalchemy import select, text

from app.db import Database, migrate
from app.models import ChangeBatch
from app.reporting.frames import Store
from app.reporting.store_read import read_frame


def test_a_write_after_a_store_read_is_kept(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'wal.sqlite3'}"
    migrate(url)
    db = Database(url)
    try:
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        holder = db.engine.connect()  # an open connection, as a server always has
        holder.execute(text("SELECT 1"))
        with db.transaction() as session:
            session.add(ChangeBatch(source="web", note="first"))
        store = Store(db.engine, 1)
        assert store.table("persons").height == 0
        frame = read_frame(db.engine, select(ChangeBatch.note, ChangeBatch.created_at))
        assert frame["note"].to_list() == ["first"]
        assert (tmp_path / "wal.sqlite3-wal").exists()
        with db.transaction() as session:
            session.add(ChangeBatch(source="web", note="second"))
        holder.close()
    finally:
        db.engine.dispose()
    db = Database(url)
    try:
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT note FROM change_batch ORDER BY id").scalars().all() == ["first", "second"]
    finally:
        db.engine.dispose()


def test_sqlite_read_converts_dates_and_json_column_wise(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'types.sqlite3'}"
    migrate(url)
    db = Database(url)
    try:
        with db.engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE t (d DATE, j JSON, n INTEGER)")
            conn.exec_driver_sql("""INSERT INTO t VALUES ('2025-03-01', '{"kind": "1"}', 7), (NULL, NULL, NULL)""")
        frame = read_frame(db.engine, select(text("d, j, n")).select_from(text("t")),
                           {"d": pl.Date, "j": pl.String, "n": pl.Int64})
        assert frame["d"].to_list() == [date(2025, 3, 1), None]
        assert frame["j"].to_list() == ['{"kind": "1"}', None]
        assert frame["n"].to_list() == [7, None]
        empty = read_frame(db.engine, select(text("d, n")).select_from(text("t")).where(text("n > 100")), {"d": pl.Date, "n": pl.Int64})
        assert empty.schema == {"d": pl.Date, "n": pl.Int64} and empty.height == 0
    finally:
        db.engine.dispose()

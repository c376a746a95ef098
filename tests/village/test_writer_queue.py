"""SQLite writers of one process wait in line (app/db.py) and the line never stays blocked."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from sqlalchemy import text

from app.db import make_engine


def test_writers_queue_and_the_lock_is_released_however_a_transaction_ends(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'q.sqlite3'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (n INTEGER)"))
    order: list[str] = []

    first = engine.connect()
    first.execute(text("INSERT INTO t VALUES (1)"))  # holds the write turn until its transaction ends

    def second() -> None:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES (2)"))
            order.append("second wrote")

    thread = threading.Thread(target=second)
    thread.start()
    time.sleep(0.3)
    assert order == []  # waiting in line, not failing
    order.append("first commits")
    first.commit()
    thread.join(timeout=10)
    assert order == ["first commits", "second wrote"]

    # a connection closed without commit or rollback gives its turn back too
    first.execute(text("INSERT INTO t VALUES (3)"))
    first.close()
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO t VALUES (4)"))
    # reads never wait for a turn
    other = engine.connect()
    other.execute(text("INSERT INTO t VALUES (5)"))
    with engine.connect() as reader:
        assert reader.execute(text("SELECT n FROM t ORDER BY n")).scalars().all() == [1, 2, 4]
    other.rollback()
    other.close()
    engine.dispose()

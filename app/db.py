"""Database engine and sessions, registered on the app through ``init_app`` (never at import time)."""

from __future__ import annotations

import sqlite3
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import Engine, create_engine, event
from sqlmodel import Session

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
#: How long a SQLite connection waits for another process's write before "database is locked"
#: (answered as a 503 in Chinese, app.views.errors); read at each new connection.
SQLITE_BUSY_MS = 30_000


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine with the settings each backend needs (SQLite: foreign keys on, WAL, busy wait)."""
    if url.startswith("sqlite"):
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_MS)}")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        if QUEUE_SQLITE_WRITERS:
            _queue_writers(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


QUEUE_SQLITE_WRITERS = True  # bench/bench_save.py --no-queue measures the way without it
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP", "ALTER")
_HOLDS = "ybt_write_lock"
WRITE_WAIT_SECONDS = 30


class FairLock:
    """A lock handed to its waiters in the order they came (``threading.Lock`` is not fair: a thread
    that releases it and asks again at once, like an import committing chunk after chunk, usually
    takes it again before a waiting thread wakes, so a save could wait for the whole import)."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._held = False
        self._waiters: deque[threading.Event] = deque()

    def acquire(self, timeout: float = -1) -> bool:
        with self._mutex:
            if not self._held:
                self._held = True
                return True
            turn = threading.Event()
            self._waiters.append(turn)
        turn.wait(None if timeout < 0 else timeout)
        with self._mutex:
            if turn.is_set():  # handed over (perhaps just as the wait timed out)
                return True
            self._waiters.remove(turn)
            return False

    def release(self) -> None:
        with self._mutex:
            if not self._held:
                raise RuntimeError("release of an unheld FairLock")
            if self._waiters:
                self._waiters.popleft().set()  # the lock passes to the first waiter, still held
            else:
                self._held = False


def _queue_writers(engine: Engine) -> None:
    """SQLite has one writer at a time. Threads of this process that want to write wait in line on a
    lock, taken at a transaction's first write and released at its end; without it they wait in
    SQLite's busy handler, which sleeps and retries with growing pauses (1 … 100 ms), so under 20
    concurrent saves some waited 1–2 s while the file was free (bench/bench_save.py). Other
    processes are still kept apart by SQLite itself (busy timeout 30 s)."""
    lock = FairLock()

    @event.listens_for(engine, "before_cursor_execute")
    def _take(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not conn.info.get(_HOLDS) and statement.lstrip()[:7].upper().startswith(_WRITES):
            if not lock.acquire(timeout=WRITE_WAIT_SECONDS):
                raise sqlite3.OperationalError("database is locked (waited for another writer of this process)")
            conn.info[_HOLDS] = True

    def _release(info: dict[str, Any]) -> None:
        if info.pop(_HOLDS, False):
            lock.release()

    event.listen(engine, "commit", lambda conn: _release(conn.info))
    event.listen(engine, "rollback", lambda conn: _release(conn.info))
    # a connection returned to the pool without commit or rollback (e.g. closed after an error)
    event.listen(engine.pool, "checkin", lambda _dbapi, record: _release(record.info) if record is not None else None)


class Database:
    """The engine of one app; sessions are made per request or per CLI command."""

    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work is committed on success and rolled back on any error."""
        with self.session() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise


def init_app(app: Flask) -> None:
    app.extensions["ybt.db"] = Database(app.config["DATABASE_URL"])
    app.teardown_appcontext(_close_session)


def get_db(app: Flask | None = None) -> Database:
    return (app or current_app).extensions["ybt.db"]


def get_session() -> Session:
    """The request's session (one per app context)."""
    if "db_session" not in g:
        g.db_session = get_db().session()
    return g.db_session


def _close_session(_exc: BaseException | None) -> None:
    session: Session | None = g.pop("db_session", None)
    if session is not None:
        session.close()


def alembic_config(url: str) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["configure_logger"] = False
    return cfg


def migrate(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` to ``revision`` (alembic upgrade)."""
    from alembic import command

    command.upgrade(alembic_config(url), revision)


def drift(url: str) -> list[Any]:
    """Differences between the models and the migrated database (empty when in sync)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from app.models import metadata

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": False})
            return list(compare_metadata(ctx, metadata))
    finally:
        engine.dispose()

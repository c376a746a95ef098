"""Shared fixtures: every database test runs on SQLite and on a real PostgreSQL server.

``db_url`` gives each test a fresh, fully migrated, empty database.  Migrations run once per session
per backend into a template which is then copied (SQLite: file copy; PostgreSQL: CREATE DATABASE
... TEMPLATE).  ``pytest --db sqlite`` / ``--db pg`` runs one backend only (default: all).
"""

from __future__ import annotations

import itertools
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from pgserver import PostgresServer  # tests/ is on sys.path (rootdir conftest, no __init__.py)

if TYPE_CHECKING:
    from flask import Flask
    from flask.testing import FlaskClient, FlaskCliRunner

PG_TEMPLATE = "ybt_template"
BACKENDS = [pytest.param("sqlite", id="sqlite"), pytest.param("postgresql", id="pg")]
_pg_counter = itertools.count(1)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        choices=("sqlite", "pg", "all"),
        default="all",
        help="database backend(s) to run the database tests on (default: all)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: end-to-end tests driving a real browser (Playwright)")
    config.addinivalue_line("markers", "slow: slow tests (large data sets, benchmarks)")


def _backend(item: pytest.Item) -> str | None:
    """'sqlite' or 'pg' for a test bound to one backend, None for backend-independent tests."""
    callspec = getattr(item, "callspec", None)
    param = callspec.params.get("db_url") if callspec else None
    if param == "sqlite":
        return "sqlite"
    if param == "postgresql" or "pg_server" in getattr(item, "fixturenames", ()):
        return "pg"
    return None


CHROMIUM = Path("/usr/bin/chromium")
BROWSER_NOTICE = (
    "!! BROWSER TESTS ARE SKIPPED: {chromium} not found, so the end-to-end tests in tests/browser/ do not run\n"
    "!! and this run does NOT cover the web pages in a real browser. Install Debian's packages to run them:\n"
    "!!     sudo apt-get install chromium fonts-noto-cjk\n"
    "!! (set YBT_BROWSER_TESTS=1 to make a missing browser a failure instead of a skip)"
)


def pytest_report_header(config: pytest.Config) -> str | None:
    """Say at the start, loudly, when the browser tests cannot run."""
    return None if CHROMIUM.exists() else BROWSER_NOTICE.format(chromium=CHROMIUM)


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    """...and again at the end, with the number of browser tests skipped."""
    skipped = [r for r in terminalreporter.stats.get("skipped", []) if "tests/browser/" in str(getattr(r, "nodeid", ""))]
    if skipped and not CHROMIUM.exists():
        terminalreporter.section("browser tests skipped", sep="!", red=True, bold=True)
        terminalreporter.write_line(f"!! {len(skipped)} browser tests were SKIPPED, not passed.", red=True, bold=True)
        terminalreporter.write_line(BROWSER_NOTICE.format(chromium=CHROMIUM), red=True, bold=True)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    wanted = config.getoption("--db")
    if wanted == "all":
        return
    keep, drop = [], []
    for item in items:
        backend = _backend(item)
        (drop if backend is not None and backend != wanted else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


# -- servers and templates (session scope, started only when first needed) --------------------


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    """A running PostgreSQL server (private, or the one named by YBT_TEST_PG_URL)."""
    with PostgresServer() as server:
        yield server


@pytest.fixture(scope="session")
def pg_template(pg_server: PostgresServer) -> Iterator[str]:
    """Name of a migrated, empty database to copy test databases from."""
    from app.db import migrate

    pg_server.create_database(PG_TEMPLATE)
    migrate(pg_server.url(PG_TEMPLATE))
    yield PG_TEMPLATE
    pg_server.drop_database(PG_TEMPLATE)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Path of a migrated, empty SQLite file to copy test databases from."""
    from app.db import migrate

    path = tmp_path_factory.mktemp("sqlite-template") / "template.sqlite3"
    migrate(f"sqlite:///{path}")
    # fold the WAL into the main file so that copying that one file copies everything
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


@pytest.fixture(scope="session", autouse=True)
def _cheap_password_hashing() -> Iterator[None]:
    """scrypt costs ~0.2 s a hash; tests create many users, so they use a cheap method."""
    from app.services import users

    saved = users.PASSWORD_METHOD
    users.PASSWORD_METHOD = "pbkdf2:sha256:1000"
    yield
    users.PASSWORD_METHOD = saved


# -- per test ----------------------------------------------------------------------------------


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """SQLAlchemy URL of a fresh, migrated, empty database of this test's own (sqlite | pg)."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "ybt.sqlite3"
        shutil.copyfile(template, path)
        yield f"sqlite:///{path}"
        return
    server: PostgresServer = request.getfixturevalue("pg_server")
    pg_template_name: str = request.getfixturevalue("pg_template")
    name = f"test_{next(_pg_counter)}"
    server.create_database(name, template=pg_template_name)
    try:
        yield server.url(name)
    finally:
        server.drop_database(name)


@pytest.fixture
def app(db_url: str) -> Iterator[Flask]:
    """The app configured for testing on this test's database."""
    from app import create_app

    flask_app = create_app(
        {"TESTING": True, "DATABASE_URL": db_url, "SECRET_KEY": "test", "WTF_CSRF_ENABLED": False}
    )
    yield flask_app
    # close pooled connections before the database is dropped / deleted
    db = flask_app.extensions.get("ybt.db")
    engine = getattr(db, "engine", None)
    if engine is not None:
        engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()

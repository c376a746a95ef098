"""The test infrastructure itself: the private PostgreSQL server and the per-test databases."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
import pytest
import sqlalchemy as sa
from pgserver import PostgresServer, PostgresServerError, find_bindir

if TYPE_CHECKING:
    from flask import Flask
    from flask.testing import FlaskClient, FlaskCliRunner

ROOT = Path(__file__).resolve().parent.parent


# -- the server (no app code involved) --------------------------------------------------------


def test_server_answers_version(pg_server: PostgresServer) -> None:
    with psycopg.connect(pg_server.conninfo("postgres")) as conn:
        (version,) = conn.execute("select version()").fetchone() or ("",)
    assert version.startswith("PostgreSQL ")


def test_server_url_form(pg_server: PostgresServer) -> None:
    url = pg_server.url("somedb")
    assert url.startswith("postgresql+psycopg://") and url.endswith("/somedb")
    if not pg_server.external:
        assert url == f"postgresql+psycopg://postgres@127.0.0.1:{pg_server.port}/somedb"


def test_server_encoding_is_utf8(pg_server: PostgresServer) -> None:
    with pg_server.connect() as conn:
        assert conn.execute("show server_encoding").fetchone() == ("UTF8",)
        # non-ASCII text round-trips unchanged
        assert conn.execute("select %s::text", ("一表通",)).fetchone() == ("一表通",)


def test_sqlalchemy_reaches_server(pg_server: PostgresServer) -> None:
    engine = sa.create_engine(pg_server.url("postgres"), poolclass=sa.NullPool)
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("select 1")).scalar_one() == 1
    finally:
        engine.dispose()


def test_copies_of_a_database_are_independent(pg_server: PostgresServer) -> None:
    """CREATE DATABASE ... TEMPLATE gives independent copies (the mechanism behind ``db_url``)."""
    names = ("infra_src", "infra_a", "infra_b")
    try:
        pg_server.create_database("infra_src")
        with pg_server.connect("infra_src") as conn:
            conn.execute("create table t (v text)")
            conn.execute("insert into t values ('from source')")
        pg_server.create_database("infra_a", template="infra_src")
        pg_server.create_database("infra_b", template="infra_src")
        with pg_server.connect("infra_a") as conn:
            conn.execute("insert into t values ('only in a')")
        with pg_server.connect("infra_b") as conn:
            assert conn.execute("select v from t order by v").fetchall() == [("from source",)]
        with pg_server.connect("infra_a") as conn:
            assert conn.execute("select count(*) from t").fetchone() == (2,)
    finally:
        for name in names:
            pg_server.drop_database(name)


def test_drop_database_disconnects_open_sessions(pg_server: PostgresServer) -> None:
    pg_server.create_database("infra_busy")
    conn = pg_server.connect("infra_busy")
    try:
        pg_server.drop_database("infra_busy")  # WITH (FORCE): no "database is being accessed" error
    finally:
        conn.close()
    with pg_server.connect() as admin:
        row = admin.execute("select count(*) from pg_database where datname = 'infra_busy'").fetchone()
    assert row == (0,)


def test_private_server_starts_and_stops_cleanly(pg_server: PostgresServer) -> None:
    """A second private server runs beside the session one and leaves nothing behind."""
    server = PostgresServer(external_url="")  # "" = always a private server, even with YBT_TEST_PG_URL
    with server:
        assert server.running and server.datadir is not None
        tmpdir = server.datadir.parent
        port = server.port
        with server.connect() as conn:
            assert conn.execute("select 1").fetchone() == (1,)
    assert not server.running
    assert not tmpdir.exists()
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0, "port still answers after stop()"
    server.stop()  # idempotent


def test_missing_binaries_raise_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("YBT_PG_BINDIR", str(tmp_path / "nowhere"))
    monkeypatch.setattr("pgserver.DEFAULT_BINDIRS", ())
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(PostgresServerError, match="binaries"):
        find_bindir()
    server = PostgresServer(external_url="")
    with pytest.raises(PostgresServerError, match="binaries"):
        server.start()
    assert not server.running


def test_external_url_is_used_as_given() -> None:
    server = PostgresServer(external_url="postgresql://ybt:s3cret@db.example:5433/whatever")
    assert server.external
    assert server.url("test_7") == "postgresql+psycopg://ybt:s3cret@db.example:5433/test_7"
    assert server.conninfo("x") == "postgresql://ybt:s3cret@db.example:5433/x"
    assert server.port == 5433


# -- per-test databases from the migrated templates (need app.db.migrate) ----------------------


@pytest.mark.parametrize("round_", [1, 2])
def test_template_copy_is_fresh_and_migrated(db_url: str, round_: int) -> None:
    """Each test gets its own migrated database: a table made by round 1 is absent in round 2."""
    engine = sa.create_engine(db_url, poolclass=sa.NullPool)
    try:
        with engine.begin() as conn:
            tables = set(sa.inspect(conn).get_table_names())
            assert "alembic_version" in tables
            assert conn.execute(sa.text("select count(*) from alembic_version")).scalar_one() == 1
            assert "ybt_probe" not in tables, "database shared between tests"
            conn.execute(sa.text("create table ybt_probe (round integer)"))
            conn.execute(sa.text("insert into ybt_probe values (:r)"), {"r": round_})
    finally:
        engine.dispose()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # one backend only: override the params
def test_template_sqlite_copy_is_a_private_file(db_url: str, sqlite_template: Path) -> None:
    path = Path(db_url.removeprefix("sqlite:///"))
    assert path.is_file() and path != sqlite_template
    assert path.read_bytes()[:16] == b"SQLite format 3\x00"


def test_template_app_fixture_uses_db_url(
    app: Flask, db_url: str, client: FlaskClient, runner: FlaskCliRunner
) -> None:
    assert app.config["DATABASE_URL"] == db_url
    assert app.config["TESTING"] is True
    assert client.get("/no-such-page-ybt").status_code == 404
    assert runner.invoke(args=["--help"]).exit_code == 0


# -- the --db option -----------------------------------------------------------------------------


@pytest.mark.parametrize("option", ["sqlite", "pg"])
def test_db_option_selects_one_backend(option: str) -> None:
    other = "pg" if option == "sqlite" else "sqlite"
    argv = [sys.executable, "-m", "pytest", __file__, "--db", option, "--collect-only", "-q"]
    proc = subprocess.run(
        [*argv, "-p", "no:cacheprovider"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTEST_ADDOPTS": ""},
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    collected = [
        line
        for line in proc.stdout.splitlines()
        if "::" in line and "test_db_option_selects_one_backend" not in line
    ]
    ids = {line.partition("[")[2].rstrip("]").split("-")[0] for line in collected if "[" in line}
    assert ids == {option}
    assert "deselected" in proc.stdout
    # tests that use the server directly belong to the pg backend
    assert any("test_server_answers_version" in line for line in collected) == (option == "pg")
    assert other not in ids

"""A throw-away PostgreSQL server for the test suite.

``PostgresServer`` runs ``initdb`` into a fresh temporary directory, starts ``postgres`` on a free
loopback port with durability switched off (fast, and the data is thrown away), and removes
everything again on ``stop()``.  When the process runs as root the binaries are run as the
``postgres`` system user (postgres refuses to run as root).

``YBT_TEST_PG_URL`` (e.g. ``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``) overrides
all of this: the tests then use that existing server, which must accept ``CREATE DATABASE``.
``YBT_PG_BINDIR`` overrides where the binaries are looked for.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

ENV_URL = "YBT_TEST_PG_URL"
ENV_BINDIR = "YBT_PG_BINDIR"
DEFAULT_BINDIRS = ("/usr/lib/postgresql/15/bin",)
SUPERUSER = "postgres"
SERVER_OPTIONS = (
    "-c listen_addresses=127.0.0.1",
    "-c fsync=off",
    "-c synchronous_commit=off",
    "-c full_page_writes=off",
)


def _runuser() -> str | None:
    """util-linux's runuser: on PATH, or in the sbin folders a minimal root PATH may leave out."""
    return shutil.which("runuser") or next(
        (p for p in ("/usr/sbin/runuser", "/sbin/runuser") if os.access(p, os.X_OK)), None)


class PostgresServerError(RuntimeError):
    """The test server could not be set up, started or reached."""


def find_bindir() -> Path:
    """The directory holding initdb / pg_ctl / postgres."""
    candidates: list[Path] = []
    if os.environ.get(ENV_BINDIR):
        candidates.append(Path(os.environ[ENV_BINDIR]))
    candidates += [Path(d) for d in DEFAULT_BINDIRS]
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    for cand in candidates:
        if all((cand / exe).is_file() for exe in ("initdb", "pg_ctl", "postgres")):
            return cand
    raise PostgresServerError(
        "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found in "
        f"{', '.join(map(str, candidates))}. Install them (Debian: apt-get install postgresql-15), "
        f"set {ENV_BINDIR} to their directory, or set {ENV_URL} to an existing server's URL."
    )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _chown(path: Path, user: str) -> None:
    shutil.chown(path, user=user, group=None)


class PostgresServer:
    """A private PostgreSQL server (or, with ``YBT_TEST_PG_URL``, an existing one)."""

    def __init__(self, bindir: Path | str | None = None, external_url: str | None = None) -> None:
        # external_url=None: take YBT_TEST_PG_URL if set; external_url="": always a private server
        self._external_url = (external_url if external_url is not None else os.environ.get(ENV_URL)) or None
        self._bindir = Path(bindir) if bindir else None
        self._tmpdir: Path | None = None
        self._port: int | None = None
        self._running = False
        self._as_user: str | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def external(self) -> bool:
        """True when an existing server (``YBT_TEST_PG_URL``) is used."""
        return self._external_url is not None

    @property
    def running(self) -> bool:
        return self._running

    @property
    def datadir(self) -> Path | None:
        return self._tmpdir / "data" if self._tmpdir else None

    @property
    def logfile(self) -> Path | None:
        return self._tmpdir / "run" / "postgres.log" if self._tmpdir else None

    def start(self) -> Self:
        """Start the server (no-op if running or external) and wait until it accepts connections."""
        if self._running:
            return self
        if self.external:
            self._check_reachable()
            self._running = True
            return self
        bindir = self._bindir or find_bindir()
        self._bindir = bindir
        self._as_user = self._pick_user()
        tmpdir = Path(tempfile.mkdtemp(prefix="ybt-pg-", dir="/tmp"))
        self._tmpdir = tmpdir
        atexit.register(self.stop)
        try:
            tmpdir.chmod(0o755)  # the postgres user must be able to enter it
            data, run = tmpdir / "data", tmpdir / "run"
            data.mkdir(mode=0o700)
            run.mkdir(mode=0o755)
            if self._as_user:
                _chown(data, self._as_user)
                _chown(run, self._as_user)
            self._initdb(data)
            self._start_server(data, run)
        except BaseException:
            self.stop()
            raise
        self._running = True
        return self

    def stop(self) -> None:
        """Stop the server immediately and delete its files (safe to call more than once)."""
        with contextlib.suppress(Exception):
            atexit.unregister(self.stop)
        tmpdir, self._tmpdir = self._tmpdir, None
        self._running = False
        if self.external or tmpdir is None:
            return
        data = tmpdir / "data"
        try:
            if (data / "postmaster.pid").exists():
                pg_ctl = [self._exe("pg_ctl"), "-D", str(data), "-w"]
                self._run([*pg_ctl, "-m", "immediate", "stop"], check=False)
        finally:
            shutil.rmtree(tmpdir, ignore_errors=True)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- addresses and helpers ---------------------------------------------------------------

    @property
    def port(self) -> int:
        if self.external:
            port = make_url(self._external_url or "").port
            return port or 5432
        if self._port is None:
            raise PostgresServerError("server not started")
        return self._port

    def url(self, dbname: str = "postgres") -> str:
        """SQLAlchemy URL of database ``dbname``: ``postgresql+psycopg://postgres@127.0.0.1:PORT/DBNAME``."""
        if self.external:
            url = make_url(self._external_url or "")
            if url.drivername in ("postgresql", "postgres"):
                url = url.set(drivername="postgresql+psycopg")
            return url.set(database=dbname).render_as_string(hide_password=False)
        if not self._running:
            raise PostgresServerError("server not started")
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{dbname}"

    def conninfo(self, dbname: str = "postgres") -> str:
        """libpq URL of database ``dbname`` (for ``psycopg.connect``)."""
        url = make_url(self.url(dbname)).set(drivername="postgresql")
        return url.render_as_string(hide_password=False)

    def connect(self, dbname: str = "postgres", autocommit: bool = True) -> psycopg.Connection:
        """A psycopg connection (autocommit by default, as CREATE/DROP DATABASE need)."""
        return psycopg.connect(self.conninfo(dbname), autocommit=autocommit, connect_timeout=10)

    def create_database(self, name: str, template: str | None = None) -> None:
        """``CREATE DATABASE name [TEMPLATE template]``, dropping a leftover of the same name first."""
        self.drop_database(name)
        query = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        with self.connect() as conn:
            if template:
                query = sql.SQL("{} TEMPLATE {}").format(query, sql.Identifier(template))
                if conn.info.server_version >= 150000:
                    # a plain file copy is about twice as fast as the default WAL_LOG for small databases
                    query = sql.SQL("{} STRATEGY FILE_COPY").format(query)
            conn.execute(query)

    def drop_database(self, name: str) -> None:
        """``DROP DATABASE IF EXISTS name WITH (FORCE)`` (disconnects remaining sessions)."""
        with self.connect() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    # -- internals ---------------------------------------------------------------------------

    @staticmethod
    def _pick_user() -> str | None:
        """The user to run the binaries as: ``postgres`` when we are root, else ourselves (None)."""
        if os.geteuid() != 0:
            return None
        try:
            import pwd

            pwd.getpwnam(SUPERUSER)
        except KeyError as exc:
            raise PostgresServerError(
                f"running as root, but there is no '{SUPERUSER}' system user to run PostgreSQL as"
            ) from exc
        if not _runuser():
            raise PostgresServerError("running as root, but 'runuser' is missing (util-linux)")
        return SUPERUSER

    def _exe(self, name: str) -> str:
        assert self._bindir is not None
        return str(self._bindir / name)

    def _run(self, argv: Sequence[str], check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = list(argv)
        if self._as_user:
            cmd = [_runuser() or "runuser", "-u", self._as_user, "--", *cmd]
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_ALL"] = "C"  # messages and defaults independent of the caller's locale
        proc = subprocess.run(
            cmd,
            cwd=self._tmpdir or "/",
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
        )
        if check and proc.returncode != 0:
            raise PostgresServerError(
                f"{' '.join(cmd)} failed (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}".rstrip()
            )
        return proc

    def _initdb(self, data: Path) -> None:
        base = [self._exe("initdb"), "-D", str(data), "-A", "trust", "-U", SUPERUSER, "--encoding=UTF8"]
        first = self._run([*base, "--locale=C.UTF-8"], check=False)
        if first.returncode == 0:
            return
        # C.UTF-8 missing on this machine: start again with the plain C locale
        for child in data.iterdir():
            if child.is_dir():
                shutil.rmtree(child)
            else:
                child.unlink()
        second = self._run([*base, "--locale=C"], check=False)
        if second.returncode != 0:
            raise PostgresServerError(
                "initdb failed with --locale=C.UTF-8:\n"
                f"{first.stdout}{first.stderr}\nand with --locale=C:\n{second.stdout}{second.stderr}"
            )

    def _start_server(self, data: Path, run: Path, attempts: int = 5) -> None:
        """pg_ctl start on a free port, retrying if another process grabbed the port meanwhile."""
        log = run / "postgres.log"
        last = ""
        for _ in range(attempts):
            log.unlink(missing_ok=True)
            port = free_port()
            options = " ".join((f"-p {port}", f"-k {run}", *SERVER_OPTIONS))
            pg_ctl = [self._exe("pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "60"]
            proc = self._run([*pg_ctl, "-o", options, "start"], check=False)
            if proc.returncode == 0:
                self._port = port
                return
            log_text = log.read_text(errors="replace") if log.exists() else ""
            last = f"{proc.stdout}{proc.stderr}\n--- {log} ---\n{log_text}"
            if "could not bind" not in log_text and "Address already in use" not in log_text:
                break
        raise PostgresServerError(f"PostgreSQL did not start:\n{last}")

    def _check_reachable(self) -> None:
        try:
            with self.connect() as conn:
                conn.execute("SELECT 1")
        except psycopg.Error as exc:
            raise PostgresServerError(f"{ENV_URL}={self._external_url!r} is not reachable: {exc}") from exc


if __name__ == "__main__":  # python tests/pgserver.py: start, print the URL, stop on Enter / Ctrl-C
    with PostgresServer() as server:
        print(server.url("postgres"), flush=True)
        with contextlib.suppress(KeyboardInterrupt, EOFError):
            input("running; press Enter to stop\n")

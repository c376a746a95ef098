"""Benchmark: saving one person through the real web form, 20 concurrent clients, on the 1,000,000-person county.

    .venv/bin/python bench/bench_save.py --db-url sqlite:////tmp/bench/c-save.sqlite3
    .venv/bin/python bench/bench_save.py --db-url postgresql+psycopg://postgres@127.0.0.1:55432/c_save

The database must be a seeded copy (``ybt seed-demo``); it is migrated to head first. The app is served by
werkzeug's multi-threaded WSGI server (``make_server(threaded=True)``, one process, a thread per
request) in a child process, with CSRF checks on, exactly as ``flask run`` serves it. Each client is a
thread with its own login (the demo village cadre) and its own person of that village: it loads the edit
form once, then saves it again and again (``POST /village/person/<id>/edit``: the whole generated form,
the phone number changed each time, the row version it expects), and times each save until the 302 comes
back. ``--think`` adds a pause between one client's saves (a person at a form), 0 = as fast as possible.
Naive ways beside it (SQLite): ``--no-queue`` lets concurrent writers wait in SQLite's busy handler
(sleep and retry) instead of the app's writer queue (app/db.py); ``--journal delete`` uses a rollback
journal instead of WAL (readers and the writer block each other). ``--workers 2`` pre-forks two server
processes. ``--server gunicorn`` (or ``waitress``) serves through ``ybt serve`` instead, the production
way (``--workers`` processes × ``--threads`` threads). Prints p50 / p95 / p99 and a markdown row for the README.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSWORD = "demo-pass-2026"
RUN = int(time.time()) % 1000
USERNAME = "demo_village"


# -- the server (child process) ----------------------------------------------------------------------


def serve(db_url: str, port: int, journal: str, workers: int, queue: bool) -> None:
    """Serve on ``port``: ``workers`` processes (pre-forked, sharing one listening socket, as gunicorn
    does), each a werkzeug threaded server. The app is built after the fork: no shared connections."""
    import logging
    import socket

    from sqlalchemy import event
    from werkzeug.serving import make_server

    import app.db as app_db
    from app import create_app
    from app.db import get_db

    app_db.QUEUE_SQLITE_WRITERS = queue
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    listener = socket.create_server(("127.0.0.1", port), backlog=256)
    for _ in range(workers - 1):
        if os.fork() == 0:
            break
    app = create_app({"DATABASE_URL": db_url, "SECRET_KEY": "bench-secret", "WTF_CSRF_ENABLED": True})
    engine = get_db(app).engine
    if engine.dialect.name == "sqlite" and journal != "wal":
        @event.listens_for(engine, "connect")
        def _journal(dbapi_conn, _record):  # noqa: ANN001, ANN202 - runs after app.db's WAL pragma
            dbapi_conn.execute(f"PRAGMA journal_mode={journal}")
    server = make_server("127.0.0.1", port, app, threaded=True, fd=listener.fileno())
    print(f"serving on {port}", flush=True)
    server.serve_forever()


def _wait_for(port: int, server: subprocess.Popen, timeout: float = 120.0) -> None:
    """Until the server answers ``/login`` (every worker of gunicorn boots the app on its own)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"server exited with {server.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/login")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.5)
    raise SystemExit("server did not answer in time")


# -- preparing ------------------------------------------------------------------------------------------


def prepare(db_url: str, clients: int) -> list[int]:
    """Migrate the copy to head; pick one living person per client in the demo cadre's village."""
    from sqlalchemy import select

    from app.db import Database
    from app.models import Person, User

    _migrate(db_url)
    db = Database(db_url)
    with db.session() as session:
        user = session.execute(select(User).where(User.username == USERNAME)).scalar_one()
        ids = session.execute(
            select(Person.id).where(Person.area_code.startswith(user.area_code), Person.living_status == "1")
            .order_by(Person.id).limit(clients)
        ).scalars().all()
    db.engine.dispose()
    if len(ids) < clients:
        raise SystemExit(f"only {len(ids)} living persons in {USERNAME}'s village")
    return list(ids)


def _migrate(db_url: str) -> None:
    """Upgrade to head. On a populated SQLite file, foreign keys are off while alembic's batch mode
    rebuilds a referenced table (0004 rebuilds change_batch to change a comment); on with them, SQLite
    refuses to drop the old table."""
    import app.db as app_db

    if not db_url.startswith("sqlite"):
        app_db.migrate(db_url)
        return
    from sqlalchemy import event

    original = app_db.make_engine

    def without_foreign_keys(url: str, **kwargs):  # noqa: ANN003, ANN202
        engine = original(url, **kwargs)
        event.listen(engine, "connect", lambda conn, _rec: conn.execute("PRAGMA foreign_keys=OFF"))
        return engine

    app_db.make_engine = without_foreign_keys
    try:
        app_db.migrate(db_url)
    finally:
        app_db.make_engine = original


# -- a client ---------------------------------------------------------------------------------------------


class Client:
    """One browser: its cookie jar and one keep-alive-free HTTP connection per request."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict[str, str] | None = None, *, keep_cookies: bool = True
                ) -> tuple[int, str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        headers = {"Accept": "text/html"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        text = response.read().decode()
        for header in (response.headers.get_all("Set-Cookie") or []) if keep_cookies else []:
            cookie = SimpleCookie(header)
            self.cookies.update({k: m.value for k, m in cookie.items()})
        conn.close()
        return response.status, text

    def login(self) -> None:
        _status, page = self.request("GET", "/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        status, _ = self.request("POST", "/login", {"csrf_token": token, "username": USERNAME, "password": PASSWORD})
        assert status == 302, f"login failed: {status}"


def form_values(html: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for match in re.finditer(r"<input([^>]*)>", html):
        attrs = dict(re.findall(r'(\w[\w-]*)="([^"]*)"', match.group(1)))
        if "name" in attrs and attrs.get("type") not in ("checkbox", "search"):
            values[attrs["name"]] = attrs.get("value", "")
    for match in re.finditer(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', html, re.S):
        selected = re.search(r'<option value="([^"]*)" selected', match.group(2))
        values[match.group(1)] = selected.group(1) if selected else ""
    return values


def run_client(port: int, person_id: int, saves: int, warmup: int, think: float, start: threading.Barrier,
               out: list[float], errors: list[str]) -> None:
    client = Client(port)
    path = f"/village/person/{person_id}/edit"
    for attempt in range(5):  # the naive ways may refuse even a login now and then
        try:
            client.login()
            status, page = client.request("GET", path)
            assert status == 200, f"edit page: {status}"
            form = form_values(page)
            version = int(form["row_version"])
            break
        except Exception as exc:  # noqa: BLE001 - reported, and the barrier must not hang
            if attempt == 4:
                errors.append(f"setup {person_id}: {exc}")
                start.abort()
                return
            time.sleep(0.5)
    start.wait()
    for i in range(warmup + saves):
        # a value new to this run: a save that changes nothing keeps the row version (and would look stale)
        form.update(phone=f"13{RUN:03d}{person_id % 1000:03d}{i % 1000:03d}", row_version=str(version))
        t0 = time.perf_counter()
        # the session cookie of a save only adds the "已保存" message, which a browser consumes on the
        # page it is redirected to; keeping it would grow the cookie with every save
        status, body = client.request("POST", path, form, keep_cookies=False)
        elapsed = time.perf_counter() - t0
        if status == 302:
            version += 1
            if i >= warmup:
                out.append(elapsed)
        else:
            errors.append(f"{person_id}: HTTP {status} {re.sub(r'<[^>]+>', ' ', body)[:200]!r}")
            status, page = client.request("GET", path)
            form = form_values(page)
            version = int(form["row_version"])
        if think:
            time.sleep(think)


def measure(port: int, ids: list[int], saves: int, warmup: int, think: float) -> tuple[list[float], list[str], float]:
    out: list[float] = []
    errors: list[str] = []
    start = threading.Barrier(len(ids) + 1)
    threads = [threading.Thread(target=run_client, args=(port, pid, saves, warmup, think, start, out, errors))
               for pid in ids]
    for t in threads:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    return out, errors, time.perf_counter() - t0


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db-url", required=True)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--saves", type=int, default=50, help="measured saves per client")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--think", type=float, default=0.0, help="seconds between one client's saves")
    parser.add_argument("--journal", choices=("wal", "delete"), default="wal", help="SQLite journal mode")
    parser.add_argument("--no-queue", action="store_true", help="SQLite: writers wait in SQLite's busy handler (naive)")
    parser.add_argument("--workers", type=int, default=1, help="server processes (pre-forked), each threaded")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--server", choices=("werkzeug", "gunicorn", "waitress"), default="werkzeug",
                        help="werkzeug: pre-forked threaded servers in this script; gunicorn / waitress: `ybt serve`")
    parser.add_argument("--threads", type=int, default=4, help="threads per process (`ybt serve`)")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.db_url, args.port, args.journal, args.workers, not args.no_queue)
        return

    ids = prepare(args.db_url, args.clients)
    port = args.port or 5300 + os.getpid() % 500
    if args.server == "werkzeug":
        server = subprocess.Popen([sys.executable, __file__, "--serve", "--db-url", args.db_url, "--port", str(port),
                                   "--journal", args.journal, "--workers", str(args.workers)]
                                  + (["--no-queue"] if args.no_queue else []),
                                  stdout=subprocess.PIPE, text=True, start_new_session=True)
    else:
        env = {**os.environ, "DATABASE_URL": args.db_url, "SECRET_KEY": "bench-secret-" + "x" * 40}
        server = subprocess.Popen([str(Path(sys.executable).with_name("ybt")), "serve", "--server", args.server,
                                   "--workers", str(args.workers), "--threads", str(args.threads), "--port", str(port)],
                                  env=env, stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert server.stdout is not None
        if args.server == "werkzeug":
            for _ in range(args.workers):
                line = server.stdout.readline()
                assert line.startswith("serving"), line
        else:
            _wait_for(port, server)
        load_before = os.getloadavg()[0]
        times, errors, wall = measure(port, ids, args.saves, args.warmup, args.think)
        load_after = os.getloadavg()[0]
    finally:
        os.killpg(server.pid, signal.SIGTERM)  # the server and the workers it forked (its own session)
        server.wait(timeout=30)
    backend = "SQLite" if args.db_url.startswith("sqlite") else "PostgreSQL"
    way = (f"{args.journal}{', no queue' if args.no_queue else ', queued writers'}" if backend == "SQLite"
           else "read committed, SELECT … FOR UPDATE")
    ms = [t * 1000 for t in times]
    if not ms:
        raise SystemExit(f"no successful saves: {errors[:5]}")
    p50, p95, p99 = (percentile(ms, p) for p in (50, 95, 99))
    way += f", {args.server}" + (f" × {args.threads} threads" if args.server != "werkzeug" else "")
    print(f"{backend} ({way}), {args.workers} worker(s), {args.clients} clients, think {args.think}s: "
          f"{len(ms)} saves in {wall:.1f} s ({len(ms) / wall:.0f}/s), errors {len(errors)}; load {load_before:.1f}→{load_after:.1f}")
    print(f"  p50 {p50:.0f} ms  p95 {p95:.0f} ms  p99 {p99:.0f} ms  mean {statistics.fmean(ms):.0f} ms  max {max(ms):.0f} ms")
    for e in errors[:5]:
        print("  error:", e)
    print(f"| {backend} | {way} | {args.workers} | {args.think:g} s | {len(ms) / wall:.0f}/s | "
          f"**{p50:.0f}** | **{p95:.0f}** | {p99:.0f} | {len(errors)} |")


if __name__ == "__main__":
    main()

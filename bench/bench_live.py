"""Benchmark: reports stay live while villages write — incremental and persisted snapshots.

    .venv/bin/python bench/bench_live.py --db-url sqlite:////tmp/ybt-1m.sqlite3   # an already seeded county
    (seed one once: DATABASE_URL=sqlite:////tmp/ybt-1m.sqlite3 ybt db upgrade && ... ybt seed-demo --persons 1000000)

Needs only the project's own dependencies. It WRITES to the database it is given (one phone number,
then 5,000 phone numbers in one batch per run): use a bench copy. Every measurement runs in a fresh
child process (``--child``) that reports its own peak memory (ru_maxrss of RUSAGE_SELF, read in the
child: RUSAGE_CHILDREN in the parent is the maximum over every child so far, not each child's own).

The report is the county area summary mca_needy_by_village → xlsx (persons, households, tags, areas).
Time is measured inside the child around build + write; ``process`` adds interpreter start, imports
and app set-up, as a user of ``ybt report run`` sees it.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from app.procstat import peak_mb  # noqa: E402

REPORT = "mca_needy_by_village"


def _app(url: str):  # noqa: ANN202
    from app import create_app

    return create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "TESTING": True})


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


CPU: dict[str, float] = {}  # CPU seconds of the last report (the machine is shared: wall time varies with load)


def _report(app) -> float:  # noqa: ANN001
    from app.db import get_db
    from app.services import reports

    db = get_db(app)
    start, cpu0 = time.perf_counter(), cpu_s()
    try:
        return _build(app, db, reports, start)
    finally:
        CPU["last"] = cpu_s() - cpu0


def _build(app, db, reports, start: float) -> float:  # noqa: ANN001
    with db.session() as session:
        registry = reports.registry_for(app, session)
        report = reports.build_report(db, session, registry, None, reports.RunRequest(REPORT, on=date.today()))
        reports.write_report(report, "xlsx", io.BytesIO())
    return time.perf_counter() - start


def _write(app, rows: int, tag: str) -> float:  # noqa: ANN001
    """Change the phone of ``rows`` living persons in one change batch (a web save, or an import's batch)."""
    from sqlalchemy import select

    from app.clock import today
    from app.db import get_db
    from app.models import Person
    from app.services import history

    db = get_db(app)
    start = time.perf_counter()
    with db.transaction() as session:
        ids = session.execute(select(Person.id).where(Person.living_status == "1").order_by(Person.id.desc())
                              .limit(rows)).scalars().all()
        batch = history.open_batch(session, None, "web" if rows == 1 else "import", note=f"bench_live {tag}")
        stamp = int(time.time()) % 10_000_000
        for i, pid in enumerate(ids):
            history.change_version(session, batch, "person", pid, {"phone": f"13{stamp:07d}{i % 100:02d}"[:11]}, today())
    return time.perf_counter() - start


def child(name: str, url: str) -> dict:
    app = _app(url)
    out: dict = {}
    if name in ("full", "new_process"):
        out["report_s"] = _report(app)
        out["report_cpu_s"] = CPU["last"]
    elif name in ("write_1", "write_5000"):
        out["write_s"] = _write(app, 1 if name == "write_1" else 5000, name)
    elif name in ("server", "server_small"):
        out["first_s"] = _report(app)
        out["warm_s"] = min(_report(app) for _ in range(3))
        out["write_1_s"] = _write(app, 1, "server")
        out["after_write_1_s"] = _report(app)
        out["after_write_1_cpu_s"] = CPU["last"]
        if name == "server_small":
            out["peak_mb"] = peak_mb()
            return out
        out["write_5000_s"] = _write(app, 5000, "server")
        out["after_import_5000_s"] = _report(app)
        out["after_import_5000_cpu_s"] = CPU["last"]
        out["warm_again_s"] = _report(app)
    out["peak_mb"] = peak_mb()
    out["process_cpu_s"] = cpu_s()
    return out


def run_child(name: str, url: str, snapshots: str, directory: str) -> dict:
    env = {**os.environ, "YBT_SNAPSHOTS": snapshots, "YBT_SNAPSHOT_DIR": directory}
    start = time.perf_counter()
    done = subprocess.run([sys.executable, __file__, "--child", name, "--db-url", url], env=env, check=True,
                          capture_output=True, text=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["process_s"] = time.perf_counter() - start
    print(f"{name:<12} snapshots={snapshots:<3} {result}", file=sys.stderr)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db-url", required=True)
    parser.add_argument("--child")
    parser.add_argument("--off-from", type=Path, default=None,
                        help="JSON of an earlier run's YBT_SNAPSHOTS=off results (full, server_small): not measured again")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.db_url)))
        return

    directory = tempfile.mkdtemp(prefix="ybt-live-snapshots-")
    earlier = json.loads(args.off_from.read_text()) if args.off_from else {}
    full = earlier.get("full") or run_child("full", args.db_url, "off", directory)
    first = run_child("new_process", args.db_url, "on", directory)  # no files yet: reads whole, writes them
    unchanged = run_child("new_process", args.db_url, "on", directory)
    run_child("write_1", args.db_url, "on", directory)
    after_1 = run_child("new_process", args.db_url, "on", directory)
    server = run_child("server", args.db_url, "on", directory)  # one write, then a 5,000-row batch, in process
    after_5000 = run_child("new_process", args.db_url, "on", directory)  # files older than both writes
    server_off = earlier.get("server_small") or run_child("server_small", args.db_url, "off", directory)
    print(json.dumps({"full": full, "server_small": server_off}), file=sys.stderr)
    size = sum(p.stat().st_size for p in Path(directory).rglob("*.arrow"))

    def row(what: str, r: dict, key: str, target: str, naive: str) -> None:
        print(f"| {what} | {r[key]:.2f} s ({r[key.replace('_s', '_cpu_s')]:.2f} CPU-s) | {r['process_s']:.2f} s "
              f"({r['process_cpu_s']:.2f} CPU-s) | {r['peak_mb']:,.0f} MB | {target} | {naive} |")

    print("| next report (county summary → xlsx) | in process | whole process | peak memory | target | YBT_SNAPSHOTS=off |")
    print("|---|---|---|---|---|---|")
    off = (f"{full['report_s']:.2f} s ({full['report_cpu_s']:.2f} CPU-s) / process {full['process_s']:.2f} s, "
           f"{full['peak_mb']:,.0f} MB")
    row("new process, no snapshot files yet (reads all, writes files)", first, "report_s", "", off)
    row("new process, unchanged data", unchanged, "report_s", "≤ 2 s, ≤ 600 MB", off)
    row("new process after a one-record write", after_1, "report_s", "≤ 2 s", off)
    row("new process after a one-record write and a 5,000-row import batch", after_5000, "report_s", "≤ 2 s", off)
    print(f"| warm server: after a one-record write | {server['after_write_1_s']:.2f} s "
          f"({server['after_write_1_cpu_s']:.2f} CPU-s) | | {server['peak_mb']:,.0f} MB "
          f"| ≤ 0.5 s | {server_off['after_write_1_s']:.2f} s ({server_off['after_write_1_cpu_s']:.2f} CPU-s) |")
    print(f"| warm server: after a 5,000-row import batch | {server['after_import_5000_s']:.2f} s "
          f"({server['after_import_5000_cpu_s']:.2f} CPU-s) | | | ≤ 2 s "
          f"| a full read, as in the first row |")
    print(f"| warm server: unchanged data | {server['warm_s']:.2f} s | | | | {server_off['warm_s']:.2f} s |")
    print(f"| server process peak memory (first report, writes, reports) | | | {server['peak_mb']:,.0f} MB | "
          f"| {server_off['peak_mb']:,.0f} MB |")
    print(f"\nsnapshot files on disk: {size / 2**20:,.0f} MB in {directory}")


if __name__ == "__main__":
    main()

"""Benchmark: the memory of the report store and a warm pass over every shipped projection.

    nice .venv/bin/python bench/bench_store.py --db-url sqlite:////tmp/ybt-1m.sqlite3

Needs only the project's own dependencies; reads the database, never writes to it (snapshot files go
to a temporary folder, or ``--snapshots DIR``). Every measurement runs in a fresh child process
(``--child``) that reports its own CPU seconds and peak memory (``VmHWM``: Linux starts it afresh at
exec, unlike ``ru_maxrss`` of RUSAGE_CHILDREN).

1. ``files``: a new process reads the store from the database and writes the snapshot files.
2. ``store``: a new process loads every store table from those files; the resident store is the
   growth of ``VmRSS`` over the process after app set-up, with the tables and the dated copies of
   today (persons, households, tags in force) made.
3. ``projections``: a new process runs every shipped projection for the county → xlsx once (warm-up:
   files loaded, dated snapshots made) and then again; the second pass is "all projections warm".
4. ``report``: ``ybt report run`` of the county summary in a new process on unchanged data, as a user
   types it (CLI, files present): whole-process CPU seconds and peak memory.
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
TABLES = ("persons", "households", "houses", "organisations", "tags", "areas", "observations")


def _status(key: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _pass(app, today: date) -> tuple[int, float, float]:  # noqa: ANN001
    """Every shipped projection for the county → xlsx: (count, wall s, CPU s)."""
    from app.db import get_db
    from app.services import reports

    db = get_db(app)
    start, cpu0, n = time.perf_counter(), cpu_s(), 0
    with db.session() as session:
        registry = reports.registry_for(app, session)
        for spec in registry.latest():
            period = f"{today.year}-{today.month:02d}" if spec.kind == "change_list" else None
            report = reports.build_report(db, session, registry, None,
                                          reports.RunRequest(spec.id, on=None if period else today, period=period))
            reports.write_report(report, "xlsx", io.BytesIO())
            n += 1
    return n, time.perf_counter() - start, cpu_s() - cpu0


def child(name: str, url: str) -> dict:
    from app import create_app
    from app.db import get_db
    from app.reporting.frames import CACHE

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "TESTING": True})
    out: dict = {}
    today = date.today()
    with app.app_context():
        engine = get_db(app).engine
        base = _status("VmRSS")
        cpu0 = cpu_s()
        if name in ("files", "store"):
            store = CACHE.store(engine)
            for table in TABLES:
                store.table(table)
            out["tables_mb"] = _status("VmRSS") - base
            snap = store.snapshot(today)
            for table in ("persons", "households", "tags"):
                snap.table(table)
            out["store_mb"] = _status("VmRSS") - base
            out["load_cpu_s"] = cpu_s() - cpu0
            out["rows"] = {t: store.table(t).height for t in TABLES}
            out["estimated_mb"] = {t: round(store.table(t).estimated_size("mb"), 1) for t in TABLES}
        elif name == "projections":
            n, wall, cpu = _pass(app, today)
            out |= {"projections": n, "first_s": wall, "first_cpu_s": cpu}
            n, wall, cpu = _pass(app, today)
            out |= {"warm_s": wall, "warm_cpu_s": cpu}
    out["peak_mb"] = _status("VmHWM")
    out["process_cpu_s"] = cpu_s()
    return out


def run(cmd: list[str], env: dict[str, str]) -> tuple[subprocess.CompletedProcess, float, float, float]:
    """Run a child; return it with its wall seconds, CPU seconds and own peak memory (MB, GNU time)."""
    start = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(cmd, env=env, check=False, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{cmd[1:4]} failed:\n{done.stderr[-3000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return done, time.perf_counter() - start, cpu, 0.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db-url", required=True)
    parser.add_argument("--child")
    parser.add_argument("--snapshots", default=None, help="snapshot folder (default: a new temporary one)")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.db_url)))
        return
    directory = args.snapshots or tempfile.mkdtemp(prefix="ybt-store-snapshots-")
    env = {**os.environ, "YBT_SNAPSHOTS": "on", "YBT_SNAPSHOT_DIR": directory}
    results: dict[str, dict] = {}
    for name in ("files", "store", "projections"):
        done, wall, _cpu, _ = run([sys.executable, __file__, "--child", name, "--db-url", args.db_url], env)
        results[name] = json.loads(done.stdout.strip().splitlines()[-1]) | {"process_s": wall}
        print(f"{name}: {results[name]}", file=sys.stderr)
    # `ybt report run` as a user types it: the CLI's own process, measured by the shell's rusage
    with tempfile.TemporaryDirectory() as out_dir:
        cmd = [sys.executable, "-c",
               "import resource,sys,json;from app.cli import main;"
               "sys.argv=['ybt','report','run','mca_needy_by_village','--format','xlsx','--out',sys.argv[1]];"
               "code=0\ntry: main()\nexcept SystemExit as e: code=e.code\n"
               "u=resource.getrusage(resource.RUSAGE_SELF);"
               "print(json.dumps({'code':code,'cpu_s':u.ru_utime+u.ru_stime,"
               "'peak_mb':[int(l.split()[1])/1024 for l in open('/proc/self/status') if l.startswith('VmHWM')][0]}),"
               "file=sys.stderr)", str(Path(out_dir) / "summary.xlsx")]
        done, wall, _cpu, _ = run(cmd, {**env, "DATABASE_URL": args.db_url, "PYTHONPATH": str(ROOT)})
        results["report"] = json.loads(done.stderr.strip().splitlines()[-1]) | {"process_s": wall}
        print(f"report: {results['report']}", file=sys.stderr)
    size = sum(p.stat().st_size for p in Path(directory).rglob("*.arrow"))
    s, p, r = results["store"], results["projections"], results["report"]
    print("| measure | figure | target (1 M county) |")
    print("|---|---|---|")
    print(f"| resident store: every table loaded from the files, plus today's dated persons, households, tags "
          f"| {s['store_mb']:,.0f} MB (tables alone {s['tables_mb']:,.0f} MB; process peak {s['peak_mb']:,.0f} MB) | ≤ 1 GB |")
    print(f"| all {p['projections']} shipped projections → xlsx, warm (second pass) | {p['warm_cpu_s']:.2f} CPU-s "
          f"({p['warm_s']:.2f} s wall; first pass {p['first_cpu_s']:.2f} CPU-s); peak {p['peak_mb']:,.0f} MB | ≤ 8 s |")
    print(f"| `ybt report run mca_needy_by_village` in a new process, unchanged data | {r['cpu_s']:.2f} CPU-s "
          f"({r['process_s']:.2f} s wall), peak {r['peak_mb']:,.0f} MB | ≤ 2 s, ≤ 600 MB |")
    print(f"| reading the store from the database and writing the files (new process) | {results['files']['load_cpu_s']:.2f} CPU-s, "
          f"peak {results['files']['peak_mb']:,.0f} MB | |")
    print(f"\nsnapshot files: {size / 2**20:,.0f} MB in {directory}")


if __name__ == "__main__":
    main()

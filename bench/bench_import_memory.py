"""Benchmark: peak memory (and time) of importing a large CSV upload, each stage in its own process.

    .venv/bin/python bench/bench_import_memory.py                  # 10 MB and 50 MB CSV, SQLite
    .venv/bin/python bench/bench_import_memory.py --mb 10 --stages read preview

A village cadre's ledger as CSV (the columns and messy values of ``bench_import.py``; the household
cells only on the head's row, as a CSV exported from a merged sheet has them), of about ``--mb`` MB.
Stages, each in a fresh child process that reports its own peak resident memory (``VmHWM``, not
``ru_maxrss``, which Linux carries over fork + exec) and CPU seconds:

* ``read``: ``importers.pipeline.parse_file`` — what the web's isolated reading child does;
* ``preview``: ``app.services.imports.run_import(dry_run=True)`` with the file read in the isolated
  child (as the web does): the server-side process's peak, and the reading child's (``child_mb``);
* ``apply``: ``run_import(dry_run=False)`` the same way, into a fresh SQLite database.

Prints one JSON line per stage and a markdown table.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_import import COLUMNS, build_rows, cpu_s, fresh_db, maxrss_mb, villages  # noqa: E402

BYTES_PER_ROW = 150  # about, for the generated columns (measured on the first build)


def write_csv(path: Path, mb: float, db_url: str) -> int:
    """A CSV of about ``mb`` MB; returns its data rows."""
    _town, village_list = villages(db_url)
    n = int(mb * 1024 * 1024 / BYTES_PER_ROW)
    rows, _merges = build_rows(n, village_list)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(["" if row[c] is None else row[c] for c in COLUMNS])
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return len(rows)


def stage(name: str, db_url: str, path: Path) -> dict:
    from sqlalchemy import select

    from app.db import Database
    from app.models import User
    from app.services import imports
    from app.services.codelists import code_lists

    db = Database(db_url)
    child_peaks: list[float] = []
    with db.session() as session:
        actor = session.execute(select(User).where(User.username == "bench_town")).scalar_one()
        content = path.read_bytes()
        t0, c0 = time.perf_counter(), cpu_s()
        if name == "read":
            from importers.pipeline import parse_file

            parsed = parse_file(content, file_name=path.name, code_lists=code_lists(session))
            out = {"rows": parsed.rows_read, "records": len(parsed.records), "file_issues": [str(i) for i in parsed.issues][:3]}
        else:
            import importers.isolated as isolated

            batch, _result = imports.run_import(session, actor, content, path.name, area_code=actor.area_code, policy="queue",
                                                dry_run=name == "preview", isolated=True)
            child_peaks.append(isolated.LAST_CHILD_PEAK_MB)
            out = {"counts": {k: batch.counts.get(k) for k in ("rows_read", "applied", "unchanged", "conflict", "rejected")}}
        t1, c1 = time.perf_counter(), cpu_s()
    db.engine.dispose()
    return {"stage": name, "mb": round(path.stat().st_size / 2**20, 1), "wall_s": round(t1 - t0, 1), "cpu_s": round(c1 - c0, 1),
            "peak_mb": round(maxrss_mb()), "child_mb": round(child_peaks[0]) if child_peaks else None, **out}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=float, nargs="*", default=[10, 50])
    parser.add_argument("--stages", nargs="*", default=["read", "preview", "apply"])
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "bench-import-memory")
    parser.add_argument("--phase", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--db-url", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        print(json.dumps(stage(args.phase, args.db_url, args.file), ensure_ascii=False))
        return
    args.dir.mkdir(parents=True, exist_ok=True)
    results = []
    for mb in args.mb:
        db_url = f"sqlite:///{args.dir / 'bench.sqlite3'}"
        fresh_db(db_url)
        path = args.dir / f"ledger-{mb:g}mb.csv"
        if not path.exists():
            write_csv(path, mb, db_url)
        for name in args.stages:
            if name == "apply":
                fresh_db(db_url)
            out = subprocess.run([sys.executable, __file__, "--phase", name, "--db-url", db_url, "--file", str(path)],
                                 capture_output=True, text=True, check=False)
            if out.returncode != 0:
                result = {"stage": name, "mb": mb, "failed": out.stderr[-1500:]}
            else:
                result = json.loads(out.stdout.strip().splitlines()[-1])
            print(json.dumps(result, ensure_ascii=False), flush=True)
            results.append(result)
    print("\n| file | stage | wall | CPU | peak RSS (this process) | reading child's peak |\n|---|---|---:|---:|---:|---:|")
    for r in results:
        if "failed" in r:
            print(f"| {r['mb']} MB | {r['stage']} | failed | | | |")
            continue
        child = f"{r['child_mb']:,} MB" if r.get("child_mb") else ""
        print(f"| {r['mb']} MB | {r['stage']} | {r['wall_s']} s | {r['cpu_s']} s | {r['peak_mb']:,} MB | {child} |")


if __name__ == "__main__":
    main()

"""Benchmark: ``ybt export`` streamed in chunks against the former all-in-memory way.

    .venv/bin/python bench/bench_export.py --db-url sqlite:////tmp/ybt-1m.sqlite3 [--tables tags persons]
        [--as-of 2025-01-01] [--format csv] [--ways streamed in_memory]

Needs only the project's own dependencies (polars, SQLAlchemy; psycopg for PostgreSQL). Read-only:
it writes the export files into a temporary folder and removes them. Every export runs in a fresh
child process (``--child``) that reports its own wall time around the export, its CPU time and its
own peak resident memory (VmHWM of /proc/self/status, read in the child, so a parent that has grown
does not leak its high-water mark into the figure). The parent also checks that both ways wrote the
same bytes (SHA-256) for CSV.
"""

from __future__ import annotations

import argparse
import hashlib
import json
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


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def child(way: str, table: str, url: str, fmt: str, out: str, on: str | None) -> dict:
    from sqlalchemy import create_engine

    from app.services import export

    engine = create_engine(url)
    before_mb, start, cpu0 = peak_mb(), time.perf_counter(), cpu_s()
    fn = export.export_table if way == "streamed" else export.export_table_in_memory
    rows = fn(engine, table, fmt, Path(out), date.fromisoformat(on) if on else None)
    return {"way": way, "table": table, "rows": rows, "seconds": time.perf_counter() - start,
            "cpu_s": cpu_s() - cpu0, "peak_mb": peak_mb(), "start_mb": before_mb, "bytes": Path(out).stat().st_size}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db-url", required=True)
    parser.add_argument("--tables", nargs="+", default=["tags", "persons"])
    parser.add_argument("--ways", nargs="+", default=["streamed", "in_memory"], choices=["streamed", "in_memory"])
    parser.add_argument("--format", default="csv", choices=["csv", "parquet"])
    parser.add_argument("--as-of", default=None)
    parser.add_argument("--child", nargs=2, metavar=("WAY", "TABLE"), help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], args.child[1], args.db_url, args.format, args.out, args.as_of)))
        return
    print(f"ybt export, {args.format}" + (f", --as-of {args.as_of}" if args.as_of else "") + f" — {args.db_url}")
    print(f"{'table':<14}{'way':<11}{'rows':>11}{'wall s':>9}{'CPU s':>8}{'peak MB':>10}{'file MB':>9}")
    with tempfile.TemporaryDirectory(prefix="ybt-bench-export-") as tmp:
        for table in args.tables:
            digests = {}
            for way in args.ways:
                out = Path(tmp) / f"{table}-{way}.{args.format}"
                cmd = [sys.executable, __file__, "--db-url", args.db_url, "--format", args.format,
                       "--child", way, table, "--out", str(out)] + (["--as-of", args.as_of] if args.as_of else [])
                done = subprocess.run(cmd, capture_output=True, text=True)
                if done.returncode:
                    sys.exit(f"{table} {way} failed (an older database? run `ybt db upgrade` on the copy):\n{done.stderr[-2000:]}")
                r = json.loads(done.stdout.splitlines()[-1])
                print(f"{table:<14}{way:<11}{r['rows']:>11,}{r['seconds']:>9.2f}{r['cpu_s']:>8.2f}{r['peak_mb']:>10,.0f}"
                      f"{r['bytes'] / 2**20:>9.1f}", flush=True)
                digests[way] = hashlib.sha256(out.read_bytes()).hexdigest()
                out.unlink()
            if args.format == "csv" and len(digests) == 2:
                print(f"{'':<14}same bytes both ways: {'yes' if len(set(digests.values())) == 1 else 'NO'}")


if __name__ == "__main__":
    main()

"""Run every benchmark in bench/ one after another (``make bench``), each in its own process.

    .venv/bin/python bench/run_all.py                    # the sizes the README's figures were measured at
    .venv/bin/python bench/run_all.py --quick            # small sizes: checks every benchmark still runs
    .venv/bin/python bench/run_all.py --only seed,reports

One SQLite demo county is seeded first (``ybt seed-demo``) in a temporary folder; the benchmarks that
write (workbook, save) get a copy of it each. Every benchmark prints its own markdown table; this script
adds a summary of which ran, how long each took and which failed, and exits 1 if any failed.
The machines are shared and noisy: compare ratios, not absolute seconds (docs/performance.md).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PY = sys.executable
YBT = str(Path(sys.executable).parent / "ybt")

# benchmark → a package it needs beyond the project's own dependencies (reported and skipped when missing)
EXTRA = {"import": "rustpy_xlsxwriter"}
FULL = {"persons": 1_000_000, "import_rows": 200_000, "naive_rows": 20_000, "writer_rows": 100_000, "clients": 20, "saves": 50}
QUICK = {"persons": 40_000, "import_rows": 2_000, "naive_rows": 300, "writer_rows": 2_000, "clients": 2, "saves": 3}


def plan(sizes: dict[str, int], db: Path, work: Path) -> list[tuple[str, list[str]]]:
    """(name, argv) of every benchmark, in order."""
    def copy(name: str) -> str:
        target = work / f"{name}.sqlite3"
        shutil.copyfile(db, target)
        return f"sqlite:///{target}"

    return [
        ("seed", [PY, str(BENCH / "bench_seed.py"), "--persons", str(sizes["persons"]),
                  "--naive-persons", str(min(sizes["naive_rows"], sizes["persons"]))]),
        ("reports", [PY, str(BENCH / "bench_reports.py"), "--db-url", f"sqlite:///{db}"]),
        ("store", [PY, str(BENCH / "bench_store.py"), "--db-url", f"sqlite:///{db}", "--snapshots", str(work / "snapshots")]),
        ("workbook", [PY, str(BENCH / "bench_workbook.py"), "--db-url", copy("workbook"), "--runs", "1" if sizes is QUICK else "3"]),
        ("save", [PY, str(BENCH / "bench_save.py"), "--db-url", copy("save"), "--clients", str(sizes["clients"]),
                  "--saves", str(sizes["saves"])]),
        ("import", [PY, str(BENCH / "bench_import.py"), "--rows", str(sizes["import_rows"]), "--naive-rows",
                    str(sizes["naive_rows"]), "--dir", str(work / "import")]),
        ("import-memory", [PY, str(BENCH / "bench_import_memory.py"), "--mb", *(["10", "50"] if sizes is FULL else ["1"]),
                           "--dir", str(work / "import-memory")]),
        ("need-to-know", [PY, str(BENCH / "bench_need_to_know.py"), "--db-url", copy("need-to-know")]),
        ("writers", [PY, str(BENCH / "bench_writers.py"), "--rows", str(sizes["writer_rows"]), "--only", "ybt-stream,ybt-openpyxl"]),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a check that every benchmark runs")
    parser.add_argument("--only", default="", help="comma-separated names: seed,reports,workbook,save,import,import-memory,writers")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    sizes = QUICK if args.quick else FULL
    only = {n.strip() for n in args.only.split(",") if n.strip()}

    work = Path(tempfile.mkdtemp(prefix="ybt-bench-"))
    db = work / "county.sqlite3"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db}", "SECRET_KEY": os.environ.get("SECRET_KEY", "bench")}
    results: list[tuple[str, str, float]] = []
    try:
        print(f"## seeding a {sizes['persons']:,}-person demo county into {db}", flush=True)
        for argv in ([YBT, "db", "upgrade"], [YBT, "seed-demo", "--persons", str(sizes["persons"]), "--seed", "1", "--quiet"]):
            subprocess.run(argv, cwd=ROOT, env=env, check=True)
        bench_env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        for name, argv in plan(sizes, db, work):
            if only and name not in only:
                continue
            if name in EXTRA and importlib.util.find_spec(EXTRA[name]) is None:
                print(f"\n## bench {name}: SKIPPED, needs the {EXTRA[name]} package (pip install it to run)", flush=True)
                results.append((name, f"skipped (no {EXTRA[name]})", 0.0))
                continue
            print(f"\n## bench {name}: {' '.join(argv[1:])}", flush=True)
            start = time.perf_counter()
            done = subprocess.run(argv, cwd=ROOT, env=bench_env, check=False)
            results.append((name, "ok" if done.returncode == 0 else f"FAILED (exit {done.returncode})", time.perf_counter() - start))
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    print("\n| benchmark | result | wall seconds |\n|---|---|---|")
    for name, result, seconds in results:
        print(f"| {name} | {result} | {seconds:.1f} |")
    return 0 if results and all(r == "ok" or r.startswith("skipped") for _n, r, _s in results) else 1


if __name__ == "__main__":
    sys.exit(main())

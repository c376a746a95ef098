"""Benchmark: a province roll-up on PostgreSQL, county by county with bounded memory.

    nice .venv/bin/python bench/bench_province.py --db-url postgresql+psycopg://…/province --persons 300000 --counties 3
    nice .venv/bin/python bench/bench_province.py --db-url … --measure-only --lru 1 --lru 3

Needs only the project's own dependencies and a PostgreSQL database it may fill (an empty one, or one
it filled before). Building the province:

1. ``ybt seed-demo --persons N`` makes the demo county 云溪县 (339901) in 示范市 (3399);
2. it is copied in SQL (``INSERT … SELECT``) as further counties — 339902 in 示范市, then 339801,
   339802, … in 北山市 (3398): every id shifted by ``k × 10,000,000``, every area code, household
   number, ID number and credit code given the new county's 6 digits (the copied ID numbers keep
   the original check digit: synthetic data, nothing here validates it), area names suffixed. The
   seed's change batches are shared (a batch is not county-scoped).

Measuring: every roll-up runs in a fresh child process (``--child``) that reports its own CPU seconds
and peak memory (``VmHWM``), for ``mca_needy_by_village`` at the province (330000000000) with
``YBT_PROVINCE_LRU`` = each ``--lru``; the parent also reports the database's size on disk.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from app.procstat import peak_mb as _peak_mb  # noqa: E402

SOURCE = "339901"
OFFSET = 10_000_000
REPORT = "mca_needy_by_village"
PROVINCE = "330000000000"
CITIES = {"3399": "示范市", "3398": "北山市"}
ID_COLUMNS = ("id", "hid", "household_id", "person_id")
CODE_COLUMNS = ("area_code", "code", "parent_code", "successor_code", "number", "id_number")
TABLES = ("household", "person", "house", "organisation", "household_history", "person_history", "house_history",
          "organisation_history", "tag", "observation", "change_log")
NUMERIC_ENTITIES = ("person", "household", "house", "organisation", "tag", "observation")


def county_codes(n: int) -> list[str]:
    """The demo county, then 339902, then 3398xx counties."""
    codes = [SOURCE, "339902"]
    codes += [f"3398{i:02d}" for i in range(1, 99)]
    return codes[:n]


def _cpu() -> float:
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime


def _remap(col: str, target: str) -> str:
    return f"CASE WHEN {col} LIKE '{SOURCE}%' THEN '{target}' || substr({col}, 7) ELSE {col} END"


def _expr(table: str, col: str, target: str, k: int) -> str:
    if col in ID_COLUMNS:
        return f"{col} + {k * OFFSET}"
    if col == "uscc":
        return f"substr(uscc, 1, 2) || '{target}' || substr(uscc, 9)"
    if col == "subject_id" and table == "observation":
        return _remap(col, target)
    if col == "entity_id":
        numeric = ", ".join(f"'{e}'" for e in NUMERIC_ENTITIES)
        return (f"CASE WHEN entity IN ({numeric}) AND entity_id ~ '^[0-9]+$' THEN (entity_id::bigint + {k * OFFSET})::text "
                f"ELSE {_remap(col, target)} END")
    if col in CODE_COLUMNS:
        return _remap(col, target)
    return col


def clone(conn, target: str, k: int) -> dict[str, int]:  # noqa: ANN001
    """Copy the demo county as county ``target`` (ids shifted by k × OFFSET), in one transaction."""
    city = target[:4] + "00000000"
    copied: dict[str, int] = {}
    conn.execute("SET session_replication_role = replica")  # no FK triggers while copying (superuser)
    if not conn.execute("SELECT 1 FROM area WHERE code = %s", (city,)).fetchone():
        conn.execute("INSERT INTO area (code, name, level, parent_code, valid_from) "
                     "SELECT %s, %s, 2, parent_code, valid_from FROM area WHERE code = %s",
                     (city, CITIES[target[:4]], SOURCE[:4] + "00000000"))
    parent = _remap("parent_code", target)
    cur = conn.execute(
        f"INSERT INTO area (code, name, level, parent_code, urban_rural, valid_from, valid_to, successor_code) "
        f"SELECT {_remap('code', target)}, CASE WHEN level = 3 THEN '县{target}' ELSE name END, level, "
        f"CASE WHEN level = 3 THEN '{city}' ELSE {parent} END, urban_rural, valid_from, valid_to, "
        f"{_remap('successor_code', target)} FROM area WHERE code LIKE '{SOURCE}%'")
    copied["area"] = cur.rowcount
    for table in TABLES:
        cols = [r[0] for r in conn.execute("SELECT column_name FROM information_schema.columns WHERE table_name = %s "
                                           "ORDER BY ordinal_position", (table,))]
        key = "hid" if table.endswith("_history") else "id"
        cur = conn.execute(f'INSERT INTO "{table}" ({", ".join(cols)}) SELECT {", ".join(_expr(table, c, target, k) for c in cols)} '
                           f'FROM "{table}" WHERE {key} < {OFFSET}')
        copied[table] = cur.rowcount
        seq = conn.execute("SELECT pg_get_serial_sequence(%s, %s)", (table, key)).fetchone()[0]
        if seq:
            conn.execute(f"SELECT setval('{seq}', (SELECT max({key}) FROM \"{table}\"))")
    conn.execute("SET session_replication_role = DEFAULT")
    return copied


def build(url: str, persons: int, counties: int) -> None:
    import psycopg

    env = {**os.environ, "DATABASE_URL": url}
    ybt = str(Path(sys.executable).with_name("ybt"))
    subprocess.run([ybt, "db", "upgrade"], env=env, check=True)
    conninfo = url.replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        have = {r[0] for r in conn.execute("SELECT code FROM area WHERE level = 3")}
    if f"{SOURCE}000000" not in have:
        start = time.perf_counter()
        subprocess.run([ybt, "seed-demo", "--persons", str(persons), "--quiet"], env=env, check=True)
        print(f"seed {SOURCE}: {time.perf_counter() - start:.1f} s", file=sys.stderr)
    for k, code in enumerate(county_codes(counties)[1:], start=1):
        if f"{code}000000" in have:
            continue
        start = time.perf_counter()
        with psycopg.connect(conninfo) as conn:
            copied = clone(conn, code, k)
        print(f"clone {code}: {time.perf_counter() - start:.1f} s {copied}", file=sys.stderr)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("ANALYZE")


def child(url: str) -> dict:
    import io

    from app import create_app
    from app.db import get_db
    from app.services import reports

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench" * 8, "TESTING": True})
    with app.app_context():
        db = get_db(app)
        cpu0, start = _cpu(), time.perf_counter()
        with db.session() as session:
            registry = reports.registry_for(app, session)
            report = reports.build_report(db, session, registry, None,
                                          reports.RunRequest(REPORT, area_code=PROVINCE, on=date.today()))
            reports.write_report(report, "xlsx", io.BytesIO())
        rows = [(r.values["name"], r.kind) for r in report.sheets[0].rows]
    return {"report_s": time.perf_counter() - start, "report_cpu_s": _cpu() - cpu0, "peak_mb": _peak_mb(),
            "process_cpu_s": _cpu(), "rows": rows}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db-url", required=True)
    parser.add_argument("--persons", type=int, default=300_000)
    parser.add_argument("--counties", type=int, default=3)
    parser.add_argument("--lru", type=int, action="append")
    parser.add_argument("--measure-only", action="store_true")
    parser.add_argument("--child", action="store_true")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.db_url), ensure_ascii=False))
        return
    if not args.measure_only:
        build(args.db_url, args.persons, args.counties)
    import psycopg

    conninfo = args.db_url.replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        size = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
        n_persons = conn.execute("SELECT count(*) FROM person").fetchone()[0]
        n_counties = conn.execute("SELECT count(*) FROM area WHERE level = 3").fetchone()[0]
    print(f"database: {n_counties} counties, {n_persons:,} persons, {size / 2**30:.2f} GB on disk", file=sys.stderr)
    print("| LRU (county stores held) | roll-up (in process) | whole process | peak memory |")
    print("|---|---|---|---|")
    for lru in args.lru or [1, 3]:
        start = time.perf_counter()
        done = subprocess.run([sys.executable, __file__, "--child", "--db-url", args.db_url],
                              env={**os.environ, "YBT_PROVINCE_LRU": str(lru), "YBT_SNAPSHOTS": "on"},
                              capture_output=True, text=True, check=False)
        if done.returncode != 0:
            sys.exit(done.stderr[-3000:])
        r = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"lru={lru}: {r} wall {time.perf_counter() - start:.1f} s", file=sys.stderr)
        print(f"| {lru} | {r['report_cpu_s']:.2f} CPU-s ({r['report_s']:.2f} s wall) | {r['process_cpu_s']:.2f} CPU-s "
              f"| {r['peak_mb']:,.0f} MB |")
    print(f"\n{n_counties} counties, {n_persons:,} persons (current rows), database {size / 2**30:.2f} GB on disk")


if __name__ == "__main__":
    main()

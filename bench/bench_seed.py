"""Benchmark ``seed_demo``: a million persons into SQLite (and PostgreSQL), against the naive ORM way.

    .venv/bin/python bench/bench_seed.py                       # 1,000,000 persons, SQLite
    .venv/bin/python bench/bench_seed.py --persons 200000 --pg  # also a private PostgreSQL server
    .venv/bin/python bench/bench_seed.py --pg-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres

Each backend runs in a child process of its own, so the peak memory (``ru_maxrss``) printed is that
run's alone. ``--pg`` starts a throw-away server with ``tests/pgserver.py``; ``--pg-url`` names an
existing server on which a database ``ybt_bench_seed`` is created (and dropped afterwards). The
naive comparison inserts a ``--naive-persons`` sample (default 20,000) with one ORM object per row
(``session.add``) and extrapolates linearly to ``--persons``. The markdown tables at the end can go
into the README as they are.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TODAY = date(2026, 11, 22)


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _seed_child(url: str, persons: int, seed: int, out: Any) -> None:
    from app.db import Database, migrate
    from app.seed.demo import seed_demo

    migrate(url)
    db = Database(url)
    cpu0 = _cpu()
    summary = seed_demo(db, persons, seed, TODAY)
    db.engine.dispose()
    out.put({"seconds": summary.seconds, "cpu": _cpu() - cpu0, "phases": summary.phases, "counts": summary.counts,
             "peak_mb": _peak_mb()})


def _naive_child(url: str, persons: int, seed: int, out: Any) -> None:
    """The same data written the naive way: one ORM object per row, session.add, one commit."""
    import polars as pl
    from sqlmodel import Session

    from app.db import Database, migrate
    from app.models import (
        ChangeLog,
        House,
        HouseHistory,
        Household,
        HouseholdHistory,
        Observation,
        Organisation,
        OrganisationHistory,
        Person,
        PersonHistory,
        Tag,
    )
    from app.seed import demo

    models = {m.__tablename__: m for m in (Household, Person, House, Organisation, HouseholdHistory, PersonHistory,
                                           HouseHistory, OrganisationHistory, Tag, Observation, ChangeLog)}
    migrate(url)
    db = Database(url)
    villages, grids = demo._read_areas()
    gen = demo._County(persons, seed, TODAY, villages, grids)
    rows = 0
    with Session(db.engine) as session:
        gen.plan()
        batches = demo._write_reference(session, gen, demo.AREAS_CSV)
        session.commit()
        frames = demo._generate(gen, batches, demo._Clock({}, None))
        t0, cpu0 = time.perf_counter(), _cpu()
        for name in demo.TABLES:
            parts = frames[name] if name == "change_log" else [frames[name]]
            for part in parts:
                if isinstance(part, demo.CreateLog):  # the entries the bulk path derives in SQL
                    for row in frames[part.table].iter_rows(named=True):
                        session.add(ChangeLog(batch_id=part.batch_id, entity=part.entity, entity_id=str(row["id"]),
                                              action="create", effective_date=part.effective(row),
                                              changes={"seed": [None, True]}))
                        rows += 1
                    continue
                if not isinstance(part, pl.DataFrame):
                    continue  # an empty history table
                json_cols = [c for c in ("attrs", "changes") if c in part.columns]
                model = models[name]
                for row in part.iter_rows(named=True):
                    for c in json_cols:
                        row[c] = json.loads(row[c])
                    session.add(model(**row))
                    rows += 1
            session.flush()
        session.commit()
    db.engine.dispose()
    out.put({"seconds": time.perf_counter() - t0, "cpu": _cpu() - cpu0, "rows": rows, "peak_mb": _peak_mb()})


def _run(target: Any, *args: Any) -> dict[str, Any]:
    ctx = mp.get_context("fork")
    out = ctx.Queue()
    proc = ctx.Process(target=target, args=(*args, out))
    proc.start()
    result = out.get()
    proc.join()
    if proc.exitcode:
        raise SystemExit(f"benchmark child failed with exit code {proc.exitcode}")
    return result


def _pg_database(server_url: str, name: str, create: bool) -> str:
    import psycopg
    from psycopg import sql
    from sqlalchemy.engine import make_url

    url = make_url(server_url)
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        if create:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return url.set(drivername="postgresql+psycopg", database=name).render_as_string(hide_password=False)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--naive-persons", type=int, default=20_000, help="sample for the ORM comparison (0: skip)")
    parser.add_argument("--pg", action="store_true", help="also run on a private PostgreSQL server (tests/pgserver.py)")
    parser.add_argument("--pg-url", help="also run on this PostgreSQL server (a database ybt_bench_seed is created)")
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args(argv)

    results: dict[str, dict[str, Any]] = {}
    naive: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="ybt-bench-") as tmp:
        if not args.no_sqlite:
            print(f"SQLite: seeding {args.persons:,} persons …", flush=True)
            results["SQLite"] = _run(_seed_child, f"sqlite:///{tmp}/bench.sqlite3", args.persons, args.seed)
            if args.naive_persons:
                print(f"SQLite: naive ORM sample of {args.naive_persons:,} persons …", flush=True)
                naive["SQLite"] = _run(_naive_child, f"sqlite:///{tmp}/naive.sqlite3", args.naive_persons, args.seed)
        server = None
        pg_url = args.pg_url
        if args.pg and not pg_url:
            sys.path.insert(0, str(ROOT / "tests"))
            from pgserver import PostgresServer

            server = PostgresServer(external_url="").start()
            pg_url = server.url("postgres")
        try:
            if pg_url:
                url = _pg_database(pg_url, "ybt_bench_seed", create=True)
                print(f"PostgreSQL: seeding {args.persons:,} persons …", flush=True)
                results["PostgreSQL"] = _run(_seed_child, url, args.persons, args.seed)
                _pg_database(pg_url, "ybt_bench_seed", create=False)
                if args.naive_persons:
                    url = _pg_database(pg_url, "ybt_bench_naive", create=True)
                    print(f"PostgreSQL: naive ORM sample of {args.naive_persons:,} persons …", flush=True)
                    naive["PostgreSQL"] = _run(_naive_child, url, args.naive_persons, args.seed)
                    _pg_database(pg_url, "ybt_bench_naive", create=False)
        finally:
            if server is not None:
                server.stop()
    _report(args, results, naive)


def _report(args: argparse.Namespace, results: dict[str, dict[str, Any]], naive: dict[str, dict[str, Any]]) -> None:
    backends = list(results)
    print()
    print(f"### seed-demo, {args.persons:,} persons (seed {args.seed}, today {TODAY})")
    print()
    print("| phase | " + " | ".join(f"{b} s" for b in backends) + " |")
    print("|---|" + "---:|" * len(backends))
    phases = list(dict.fromkeys(p for r in results.values() for p in r["phases"]))
    for phase in phases:
        print(f"| {phase} | " + " | ".join(f"{results[b]['phases'].get(phase, 0):.1f}" for b in backends) + " |")
    print("| **total (wall)** | " + " | ".join(f"**{results[b]['seconds']:.1f}**" for b in backends) + " |")
    print("| CPU (user + system) | " + " | ".join(f"{results[b]['cpu']:.1f}" for b in backends) + " |")
    print("| peak RSS MB | " + " | ".join(f"{results[b]['peak_mb']:,.0f}" for b in backends) + " |")
    print()
    print("| table | rows |")
    print("|---|---:|")
    first = results[backends[0]]["counts"] if backends else {}
    for table, n in first.items():
        print(f"| {table} | {n:,} |")
    total_rows = sum(n for t, n in first.items() if t not in ("area", "app_user", "change_batch"))
    if naive:
        print()
        print(f"### Writing the generated rows: bulk path vs one ORM object per row (extrapolated to {args.persons:,} persons)")
        print()
        print("| backend | way | persons written | rows | seconds | rows/s | seconds for the full county |")
        print("|---|---|---:|---:|---:|---:|---:|")
        for b in backends:
            r = results[b]
            write = sum(s for p, s in r["phases"].items() if p.startswith("write ") or p.startswith(("drop indexes", "rebuild indexes")) or p == "commit")
            print(f"| {b} | bulk (`app.bulk`) | {args.persons:,} | {total_rows:,} | {write:.1f} | {total_rows / write:,.0f} | {write:.1f} |")
            if b in naive:
                nv = naive[b]
                factor = args.persons / args.naive_persons
                print(f"| {b} | ORM `session.add` per row | {args.naive_persons:,} | {nv['rows']:,} | {nv['seconds']:.1f} | "
                      f"{nv['rows'] / nv['seconds']:,.0f} | ≈ {nv['seconds'] * factor:,.0f} (peak {nv['peak_mb']:,.0f} MB at {args.naive_persons:,}) |")


if __name__ == "__main__":
    main()

"""Benchmark: generating department reports on a large demo county, beside a naive implementation.

    .venv/bin/python bench/bench_reports.py --persons 1000000            # seeds a fresh SQLite first
    .venv/bin/python bench/bench_reports.py --db-url sqlite:////tmp/ybt-1m.sqlite3   # an already seeded DB

Measures, in one process that plays a warm server (the registry loaded, snapshots cached):
  1. the county-wide area summary (mca_needy_by_village: 200 villages + township 小计 + 合计) to xlsx,
     cold (first request after a write: the snapshot is read) and warm (snapshot cached);
  2. every shipped projection for the county, one after another;
  3. the same summary as of a date one year back (cold and warm) against the current date;
  4. a ~100,000-row, 12-column roster to xlsx;
  5. peak memory (ru_maxrss);
and the naive way to build the same area summary: ORM objects, Python loops, openpyxl cell by cell.
Prints a markdown table for the README.
"""

from __future__ import annotations

import argparse
import io
import resource
import sys
import tempfile
import time
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ROSTER_YAML = """
id: bench_roster
version: 1
title: "{area}75周岁及以上老年人花名册"
department: nhc
frequency: ad_hoc
kind: roster
subject: persons
where: {alive: true, age: {gte: 75}}
group_by_household: true
columns:
  - {label: 序号, field: seq}
  - {label: 乡镇（街道）, field: area.township_name}
  - {label: 村（社区）, field: area.village_name}
  - {label: 户号, field: household.number}
  - {label: 户主姓名, field: household.head_name}
  - {label: 姓名, field: name}
  - {label: 性别, field: sex}
  - {label: 出生日期, field: birth_date}
  - {label: 年龄, field: age}
  - {label: 与户主关系, field: relation}
  - {label: 公民身份号码, field: id_number}
  - {label: 联系电话, field: phone}
unmasked: [id_number]
"""


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - start, result


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def seed(persons: int) -> str:
    from app.db import Database, migrate
    from app.seed.demo import seed_demo

    path = Path(tempfile.mkdtemp(prefix="ybt-bench-")) / "bench.sqlite3"
    url = f"sqlite:///{path}"
    migrate(url)
    db = Database(url)
    seconds, _ = timed(seed_demo, db, persons, 1, date.today())
    db.engine.dispose()
    print(f"seeded {persons:,} persons in {seconds:.1f} s → {url}", file=sys.stderr)
    return url


def naive_summary(url: str, on: date) -> float:
    """The same 困难群众分村汇总 the naive way: ORM objects, Python loops, openpyxl cell by cell."""
    from openpyxl import Workbook
    from sqlmodel import Session, select

    from app.db import make_engine
    from app.models import Area, Household, Person, Tag

    start = time.perf_counter()
    engine = make_engine(url)
    with Session(engine) as session:
        persons = session.exec(select(Person)).all()
        households = {h.id: h for h in session.exec(select(Household)).all()}
        tags = [t for t in session.exec(select(Tag)).all()
                if t.valid_from <= on and (t.valid_to is None or t.valid_to > on)]
        areas = session.exec(select(Area).order_by(Area.code)).all()
    dibao = {t.household_id: t for t in tags if t.tag_code == "dibao"}
    tekun = {t.person_id: t for t in tags if t.tag_code == "tekun"}
    left = {t.person_id for t in tags if t.tag_code == "left_behind_child"}
    orphan = {t.person_id for t in tags if t.tag_code == "orphan"}
    edge = {t.household_id for t in tags if t.tag_code == "dibao_edge"}
    counts: dict[str, list[float]] = defaultdict(lambda: [0.0] * 11)
    for hid, h in households.items():
        v = h.area_code[:12]
        if h.status == "1" and hid in dibao:
            counts[v][0] += 1
            kind = dibao[hid].attrs.get("kind")
            counts[v][2 if kind == "1" else 3] += 1
            counts[v][4] += float(dibao[hid].attrs.get("monthly_amount") or 0)
        if h.status == "1" and hid in edge:
            counts[v][5] += 1
    for p in persons:
        if p.living_status != "1":
            continue
        v = p.area_code[:12]
        age = on.year - p.birth_date.year - ((p.birth_date.month, p.birth_date.day) > (on.month, on.day))
        if p.household_id in dibao:
            counts[v][1] += 1
        if p.id in tekun:
            counts[v][6] += 1
            counts[v][7 if tekun[p.id].attrs.get("support_mode") == "1" else 8] += 1
        if p.id in left and age < 16:
            counts[v][9] += 1
        if p.id in orphan:
            counts[v][10] += 1
    wb = Workbook()
    ws = wb.active
    r = 1
    for area in areas:
        if area.level != 5 or (area.valid_to is not None and area.valid_to <= on):
            continue
        ws.cell(r, 1, area.name)
        for j, value in enumerate(counts[area.code]):
            ws.cell(r, j + 2, value)
        r += 1
    wb.save(io.BytesIO())
    engine.dispose()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db-url")
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--skip-naive", action="store_true")
    args = parser.parse_args()
    url = args.db_url or seed(args.persons)

    from app import create_app
    from app.db import get_db
    from app.reporting.frames import CACHE
    from app.services import reports

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "TESTING": True})
    rows: list[tuple[str, str, str]] = []
    with app.app_context():
        db = get_db()
        session = db.session()
        registry = reports.registry_for(app, session)
        today = date.today()
        year_ago = today - timedelta(days=365)

        def summary(on: date) -> float:
            seconds, report = timed(reports.build_report, db, session, registry, None,
                                    reports.RunRequest("mca_needy_by_village", on=on))
            buffer = io.BytesIO()
            write, _ = timed(reports.write_report, report, "xlsx", buffer)
            return seconds + write

        cold = summary(today)
        warm = min(summary(today) for _ in range(3))
        rows.append(("county area summary → xlsx, cold (snapshot read)", f"{cold:.2f} s", ""))
        rows.append(("county area summary → xlsx, warm server", f"{warm:.2f} s", "target ≤ 1 s"))
        past_cold = summary(year_ago)
        past_warm = min(summary(year_ago) for _ in range(3))
        rows.append(("same summary as of one year back, cold", f"{past_cold:.2f} s", f"{past_cold / cold:.2f} × current cold"))
        rows.append(("same summary as of one year back, warm", f"{past_warm:.2f} s", f"{past_warm / warm:.2f} × current warm (target ≤ 2×)"))

        CACHE.clear()
        start = time.perf_counter()
        per_report = []
        for spec in registry.latest():
            period = f"{today.year}-{today.month:02d}" if spec.kind == "change_list" else None
            t0 = time.perf_counter()
            report = reports.build_report(db, session, registry, None, reports.RunRequest(spec.id, on=None if period else today,
                                                                                          period=period))
            reports.write_report(report, "xlsx", io.BytesIO())
            per_report.append((spec.id, time.perf_counter() - t0, sum(len(s.rows) for s in report.sheets)))
        total = time.perf_counter() - start
        rows.append((f"all {len(per_report)} shipped projections for the county → xlsx, from a cold cache (first read included)",
                     f"{total:.2f} s", ""))
        start = time.perf_counter()
        for spec in registry.latest():
            period = f"{today.year}-{today.month:02d}" if spec.kind == "change_list" else None
            report = reports.build_report(db, session, registry, None, reports.RunRequest(spec.id, on=None if period else today,
                                                                                          period=period))
            reports.write_report(report, "xlsx", io.BytesIO())
        warm_total = time.perf_counter() - start
        rows.append((f"all {len(per_report)} shipped projections for the county → xlsx, warm server", f"{warm_total:.2f} s",
                     "target ≤ 15 s"))

        spec, issues = reports.validate_projection(ROSTER_YAML, registry)
        assert spec is not None and not [i for i in issues if i.severity == "error"], issues
        build_s, roster = timed(reports.build_from_spec, db, session, registry, None, spec, reports.RunRequest(spec.id, on=today))
        write_s, _ = timed(reports.write_report, roster, "xlsx", io.BytesIO())
        n = len(roster.sheets[0].rows)
        rows.append((f"roster of {n:,} rows × 12 columns → xlsx (build {build_s:.2f} s + write {write_s:.2f} s)",
                     f"{build_s + write_s:.2f} s", "target ≤ 6 s for 100,000 rows"))
        session.close()
    rows.append(("peak memory (ru_maxrss) of all of the above", f"{peak_mb():,.0f} MB", "target ≤ 2 GB"))
    if not args.skip_naive:
        naive = naive_summary(url, date.today())
        rows.append(("naive county area summary: ORM objects + Python loops + openpyxl cell by cell", f"{naive:.2f} s",
                     f"{naive / warm:.0f} × the warm engine, {naive / cold:.1f} × cold"))
        rows.append(("peak memory after the naive run", f"{peak_mb():,.0f} MB", ""))

    print("| measurement | time | note |\n|---|---|---|")
    for what, value, note in rows:
        print(f"| {what} | {value} | {note} |")
    print("\nper projection (cold cache, in order):", file=sys.stderr)
    for rid, seconds, nrows in per_report:
        print(f"  {rid:<28} {seconds:6.2f} s  {nrows:>7,} rows", file=sys.stderr)


if __name__ == "__main__":
    main()

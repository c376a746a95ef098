"""Benchmark: a department's person list with and without authorised rosters (need-to-know at scale).

    DATABASE_URL=sqlite:////tmp/ntk/demo200k.sqlite3 .venv/bin/ybt db upgrade
    DATABASE_URL=sqlite:////tmp/ntk/demo200k.sqlite3 .venv/bin/ybt seed-demo --persons 200000
    nice .venv/bin/python bench/bench_need_to_know.py --db-url sqlite:////tmp/ntk/demo200k.sqlite3

A 民政 (mca) account at the county lists persons (the county list and one village's) and opens a roster
row's page, warm (the report store already read), through the Flask test client. CPU seconds of this
process per request (the machine is shared: wall time varies with load), the median of ``--repeat``:

* ``tags only``: no authorised roster (``authorised_row_ids`` returns nothing) — the floor;
* ``rosters, cached``: 民政's published rosters authorise their rows; ids cached per data version (now);
* ``rosters, rebuilt``: the same with the id cache emptied before each request (roster frames per request);
* ``rosters, rebuilt, IN list``: as before this change — frames per request and one SQL parameter per id.
"""

from __future__ import annotations

import argparse
import re
import resource
import statistics
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

USERNAME, PASSWORD = "bench_ntk_mca", "bench-pass-2026"


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def setup(url: str) -> tuple[Any, str]:
    from sqlalchemy import select

    from app import create_app
    from app.db import get_db
    from app.models import Area, User
    from app.services.users import create_user

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "TESTING": True, "WTF_CSRF_ENABLED": False})
    with get_db(app).transaction() as session:
        county = session.execute(select(Area.code).where(Area.level == 3).order_by(Area.code)).scalars().first()
        if session.execute(select(User).where(User.username == USERNAME)).scalar() is None:
            create_user(session, USERNAME, PASSWORD, "民政基准", "department", county, "mca")
    return app, county


def measure(client: Any, path: str, repeat: int, before: Any = None) -> tuple[float, int]:
    times, status = [], 0
    for _ in range(repeat):
        if before:
            before()
        start = cpu_s()
        response = client.get(path)
        times.append(cpu_s() - start)
        status = response.status_code
    return statistics.median(times), status


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db-url", required=True)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    from sqlalchemy import func, select

    from app.clock import today
    from app.db import get_db
    from app.models import Person, User
    from app.services import scope

    app, county = setup(args.db_url)
    client = app.test_client()
    assert client.post("/login", data={"username": USERNAME, "password": PASSWORD}).status_code in (200, 302)
    with app.app_context(), get_db(app).session() as session:
        user = session.execute(select(User).where(User.username == USERNAME)).scalar_one()
        start = cpu_s()
        county_ids = scope.authorised_row_ids(session, user, "person", county)
        first_cpu = cpu_s() - start  # reads the report store, then builds the roster frames
        scope._ROW_IDS.clear()
        start = cpu_s()
        scope.authorised_row_ids(session, user, "person", county)
        frames_cpu = cpu_s() - start
        # the village with the most roster rows, and a row there the department sees by no tag of its own
        code = func.substr(Person.area_code, 1, 12)
        village = session.execute(select(code).where(scope.id_among(session, Person.id, county_ids))
                                  .group_by(code).order_by(func.count().desc()).limit(1)).scalar_one()
        row = session.execute(select(Person.id).where(
            scope.id_among(session, Person.id, county_ids), Person.area_code.startswith(village),
            ~scope.person_need_to_know(session, user, Person.id, Person.household_id)).limit(1)).scalar_one()
        village_ids = scope.authorised_row_ids(session, user, "person", village)
    print(f"county {county}: {len(county_ids)} authorised person ids; village {village}: {len(village_ids)}; "
          f"today {today()}")
    print(f"first call (store read + roster frames): {first_cpu:.2f} CPU s; roster frames alone: {frames_cpu:.3f} CPU s")

    pages = {"village list": f"/village/{village}/persons", "county code list": f"/village/{county}/persons",
             "roster row page": f"/village/person/{row}"}
    for label, path in pages.items():
        html = client.get(path).get_data(as_text=True)  # warm
        total = re.search(r"共\s*([\d,]+)\s*(?:人|条)", html)
        print(f"{label}: {path} ({total.group(0) if total else 'a record'})")

    real_ids, real_among = scope.authorised_row_ids, scope.id_among
    rows: list[tuple[str, str, float, int]] = []
    for label, path in pages.items():
        scope.authorised_row_ids = lambda *a, **k: frozenset()  # type: ignore[assignment]
        if label != "roster row page":
            rows.append((label, "tags only", *measure(client, path, args.repeat)))
        scope.authorised_row_ids = real_ids
        rows.append((label, "rosters, cached", *measure(client, path, args.repeat)))
        rows.append((label, "rosters, rebuilt", *measure(client, path, args.repeat, scope._ROW_IDS.clear)))
        scope.id_among = lambda session, column, ids: column.in_(sorted(ids))  # type: ignore[assignment]
        rows.append((label, "rosters, rebuilt, IN list", *measure(client, path, args.repeat, scope._ROW_IDS.clear)))
        scope.id_among = real_among
    print(f"{'page':<16} {'need-to-know':<27} {'CPU s':>7} status")
    for label, variant, seconds, status in rows:
        print(f"{label:<16} {variant:<27} {seconds:>7.3f} {status}")


if __name__ == "__main__":
    main()

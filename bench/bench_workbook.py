"""Benchmark: the village workbook round trip ("一表") on the 1,000,000-person demo county, beside the naive way.

    .venv/bin/python bench/bench_workbook.py --db-url sqlite:////tmp/bench/d-wb.sqlite3
    .venv/bin/python bench/bench_workbook.py --db-url postgresql+psycopg://postgres@127.0.0.1:55432/d_wb

Writes download and upload records (and, with --commit, the applied edits): run it on a copy of the
demo database. Picks the village whose living population is closest to 5,000 and measures
  1. download: query + workbook (persons, households, current tags, dropdowns, protection), best of 3;
  2. upload with its preview: 200 edited rows (150 phones, 40 marital statuses, 10 deaths) — store the
     file, read it back (calamine), compare with the database, validate the edited rows; best of 3;
  3. apply: the 200 rows through the services in one transaction (rolled back unless --commit);
and the naive way: openpyxl (normal mode) writing cell by cell from ORM objects loaded row by row,
reading the upload back with openpyxl and comparing each row with ``session.get``.
Prints a markdown table for the README.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

EDITS = {"phone": 150, "marital": 40, "death": 10}


def best_of(n: int, fn):  # noqa: ANN001, ANN201
    times, result = [], None
    for _ in range(n):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times), result


def pick_village(session) -> str:  # noqa: ANN001
    from sqlalchemy import func, select

    from app.models import Person

    village = func.substr(Person.area_code, 1, 12)
    rows = session.execute(
        select(village, func.count()).where(Person.living_status == "1").group_by(village)
    ).all()
    return min(rows, key=lambda r: abs(r[1] - 5000))[0]


def cadre_for(session, code: str):  # noqa: ANN001, ANN201
    from sqlalchemy import select

    from app.models import User
    from app.services.users import create_user

    name = f"bench_wb_{code}"
    user = session.execute(select(User).where(User.username == name)).scalar_one_or_none()
    if user is None:
        user = create_user(session, name, "bench-password-1", "一表基准测试", "village_cadre", code)
        session.commit()
    return user


def edit(content: bytes) -> bytes:
    """200 edited rows, as a cadre would make them in Excel (not timed)."""
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(content))
    ws = wb["人员"]
    cols = {c.value: c.column for c in ws[1]}
    rows = iter(range(3, ws.max_row + 1))
    for i, r in zip(range(EDITS["phone"]), rows, strict=False):
        ws.cell(r, cols["联系电话"]).value = f"1390000{i:04d}"  # synthetic numbers
    for _, r in zip(range(EDITS["marital"]), rows, strict=False):
        cell = ws.cell(r, cols["婚姻状况"])
        cell.value = "离婚" if cell.value == "丧偶" else "丧偶"
    for _, r in zip(range(EDITS["death"]), rows, strict=False):
        ws.cell(r, cols["人员状态"]).value = "死亡"
        ws.cell(r, cols["死亡或迁出日期"]).value = date(2026, 1, 15)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# ------------------------------------------------------------------------------ the naive way


def naive_download(session, code: str) -> bytes:  # noqa: ANN001
    """ORM objects row by row (household and tags per person), openpyxl normal mode cell by cell."""
    from openpyxl import Workbook
    from openpyxl.styles import Protection
    from openpyxl.worksheet.datavalidation import DataValidation
    from sqlalchemy import or_, select

    from app.models import Household, Person, Tag
    from app.services.codelists import code_lists
    from app.services.workbook.columns import CODE, person_columns

    lists = code_lists(session)
    columns = person_columns()
    wb = Workbook()
    ws = wb.active
    ws.title = "人员"
    for c, col in enumerate(columns, start=1):
        ws.cell(1, c).value = col.header
        ws.cell(2, c).value = col.note
    persons = session.execute(
        select(Person).where(Person.area_code.startswith(code), Person.living_status == "1")
    ).scalars().all()
    tag_rows = []
    for r, person in enumerate(persons, start=3):
        household = session.get(Household, person.household_id) if person.household_id else None
        for c, col in enumerate(columns, start=1):
            value = household.number if col.key == "household_number" and household else getattr(person, col.key, None)
            if col.kind == CODE and value is not None:
                value = lists.get(col.code_list, {}).get(value, value)
            cell = ws.cell(r, c)
            cell.value = value
            cell.number_format = "@" if col.kind != "date" else "yyyy-mm-dd"
            cell.protection = Protection(locked=col.locked)
        tag_rows += session.execute(
            select(Tag).where(Tag.person_id == person.id, or_(Tag.valid_to.is_(None), Tag.valid_to > date.today()))
        ).scalars().all()
    tags = wb.create_sheet("标签")
    for r, tag in enumerate(tag_rows, start=3):
        tags.cell(r, 1).value, tags.cell(r, 2).value, tags.cell(r, 3).value = tag.id, tag.tag_code, tag.valid_from
    for c, col in enumerate(columns, start=1):
        if col.kind == CODE:
            dv = DataValidation(type="list", formula1=f'"{",".join(list(lists.get(col.code_list, {}).values())[:20])}"')
            dv.add(f"{ws.cell(3, c).column_letter}3:{ws.cell(3, c).column_letter}{len(persons) + 1000}")
            ws.add_data_validation(dv)
    ws.protection.sheet = True
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def naive_preview(session, content: bytes) -> int:  # noqa: ANN001
    """openpyxl normal mode, then one ``session.get`` and a field-by-field comparison per row."""
    from openpyxl import load_workbook

    from app.models import Person
    from app.services.codelists import code_lists
    from app.services.workbook.columns import CODE, person_columns

    lists = code_lists(session)
    columns = person_columns()
    ws = load_workbook(io.BytesIO(content))["人员"]
    position = {c.value: c.column for c in ws[1]}
    changed = 0
    for r in range(3, ws.max_row + 1):
        record_id = ws.cell(r, position["记录号"]).value
        person = session.get(Person, int(record_id))
        for col in columns:
            if col.kind in ("key", "version") or col.key == "household_number":
                continue
            value = ws.cell(r, position[col.header]).value
            if col.kind == CODE and value is not None:
                value = {v: k for k, v in lists.get(col.code_list, {}).items()}.get(value, value)
            if hasattr(value, "date"):
                value = value.date()
            if (value or None) != (getattr(person, col.key) or None):
                changed += 1
                break
    return changed


# ------------------------------------------------------------------------------ main


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db-url", required=True)
    parser.add_argument("--village")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-naive", action="store_true")
    parser.add_argument("--commit", action="store_true", help="keep the applied edits")
    args = parser.parse_args()

    from sqlalchemy import func, select

    from app.db import Database
    from app.models import Person
    from app.services import workbook

    db = Database(args.db_url)
    backend = db.dialect
    rows: list[tuple[str, str, str]] = []
    with db.session() as session:
        code = args.village or pick_village(session)
        actor = cadre_for(session, code)
        living = session.execute(select(func.count()).where(Person.area_code.startswith(code),
                                                           Person.living_status == "1")).scalar()
        print(f"{backend}: village {code}, {living} living persons", flush=True)

        def download() -> workbook.Download:
            result = workbook.download_workbook(session, actor, code)
            session.commit()
            return result

        best, median, result = best_of(args.runs, download)
        print(f"download: best {best:.2f} s, median {median:.2f} s, {len(result.content) / 1e6:.1f} MB, "
              f"{result.counts}", flush=True)
        rows.append(("download (query + xlsx)", f"**{best:.2f} s** (median {median:.2f})", "≤ 2 s"))
        edited = edit(result.content)

        def upload() -> workbook.Preview:
            stored = workbook.store_upload(session, actor, code, "bench.xlsx", edited)
            session.commit()
            return workbook.preview(session, actor, stored)

        best, median, preview = best_of(args.runs, upload)
        print(f"upload + preview: best {best:.2f} s, median {median:.2f} s, counts {preview.counts}, "
              f"unchanged {preview.unchanged}", flush=True)
        assert preview.counts["changed"] + preview.counts["ended"] == sum(EDITS.values()), preview.counts
        rows.append((f"upload with its preview ({sum(EDITS.values())} edited rows)",
                     f"**{best:.2f} s** (median {median:.2f})", "≤ 5 s"))

        stored = workbook.get_upload(session, actor, code, preview.upload_id)
        start = time.perf_counter()
        workbook.apply(session, actor, stored, digest=preview.digest)
        session.flush()
        elapsed = time.perf_counter() - start
        (session.commit if args.commit else session.rollback)()
        print(f"apply: {elapsed:.2f} s ({'committed' if args.commit else 'rolled back'})", flush=True)
        rows.append((f"apply the {sum(EDITS.values())} rows (one transaction, history)", f"{elapsed:.2f} s", ""))

        if not args.skip_naive:
            start = time.perf_counter()
            naive = naive_download(session, code)
            naive_dl = time.perf_counter() - start
            start = time.perf_counter()
            naive_changed = naive_preview(session, edited)  # the same edited file as ours
            naive_up = time.perf_counter() - start
            print(f"naive preview found {naive_changed} changed rows", flush=True)
            print(f"naive: download {naive_dl:.2f} s ({len(naive) / 1e6:.1f} MB), preview ≈ {naive_up:.2f} s", flush=True)
            rows[0] = (*rows[0][:2], f"{naive_dl:.2f} s", rows[0][2])
            rows[1] = (*rows[1][:2], f"{naive_up:.2f} s", rows[1][2])
    db.engine.dispose()

    print(f"\n| measurement ({backend}, {living} persons) | 一表 | naive | target |\n|---|---:|---:|---|")
    for row in rows:
        measurement, ours, *rest = row
        naive_value, target = (rest if len(rest) == 2 else ("—", rest[0]))
        print(f"| {measurement} | {ours} | {naive_value} | {target} |")


if __name__ == "__main__":
    main()

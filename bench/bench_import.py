"""Benchmark: importing a 200,000-row legacy ledger (read → normalise → validate → write), beside the
naive way (openpyxl row by row + one ORM object per row).

    .venv/bin/python bench/bench_import.py                       # SQLite, 200,000 rows, naive on 20,000
    .venv/bin/python bench/bench_import.py --db-url postgresql+psycopg://postgres@127.0.0.1:55432/postgres

Needs the dev extras (``pip install -e '.[dev]'``, as ``make venv`` does): rustpy-xlsxwriter writes the ledger.

1. Builds the workbook with a fast writer (rustpy-xlsxwriter): a title row, a header row with the
   usual ledger columns, households of 1–6 members whose 户号 / 户主姓名 / 住址 cells are merged
   vertically (only the top cell holds the value), messy values (1990.3.5 dates, 男/女, 妻/子, 汉族).
2. A fresh database with the demo county's areas (``import_areas_csv``) and one township user.
3. Ours, in a child process (its own peak memory): ``importers.pipeline.parse_file`` (calamine read,
   header band, merged blocks filled down, normalise, per-cell validation), then
   ``app.services.imports.run_import(dry_run=False)``: compare with the database, validate through the
   services' checks, write persons and households in bulk with one change batch and a change-log
   entry per record, the ImportBatch row and the stored file — one transaction.
   Then the same file once more into the same database: every row unchanged, nothing written.
4. Naive, in a child process: ``openpyxl.load_workbook`` (normal mode, for the merged cells), every row
   mapped by hand and written as one ORM object per row (household on first sight), one commit —
   on the first ``--naive-rows`` rows, extrapolated linearly.
Prints a markdown table for the README.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from app.procstat import peak_mb as maxrss_mb  # noqa: E402

TOWNSHIP_PREFIX = "339901"  # villages of the demo county's first township with villages are used
COLUMNS = ["序号", "户号", "户主姓名", "姓名", "性别", "公民身份号码", "出生日期", "民族", "与户主关系", "文化程度", "婚姻状况",
           "政治面貌", "联系电话", "所在村", "住址", "备注"]
MERGED = ["户号", "户主姓名", "住址"]
RELATIONS_BY_POS = ["户主", "妻", "子", "女", "孙子", "母亲"]
RELATION_CODES = {"户主": "02", "妻": "12", "子": "20", "女": "30", "孙子": "41", "母亲": "52"}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国建华志强春梅海燕玉兰红梅晓东丹丹文军"


def cpu_s() -> float:
    """CPU seconds of this process (the machine is shared: wall time includes waiting for a CPU)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# ---------------------------------------------------------------------------------- the workbook


def villages(db_url: str) -> tuple[str, list[tuple[str, str]]]:
    """(township code, [(village code, village name)]) with unique names, from the demo areas."""
    import csv

    from app.seed.county import AREAS_CSV

    rows = list(csv.DictReader(AREAS_CSV.open(encoding="utf-8")))
    by_town: dict[str, list[tuple[str, str]]] = {}
    for r in rows:
        code = r["统计用区划代码"]
        if len(code) == 12 and code[9:] != "000" and code.startswith(TOWNSHIP_PREFIX):
            by_town.setdefault(code[:9] + "000", []).append((code, r["名称"]))
    town, vs = max(by_town.items(), key=lambda kv: len(kv[1]))
    names = [n for _, n in vs]
    return town, [(c, n) for c, n in vs if names.count(n) == 1]


def build_rows(n: int, village_list: list[tuple[str, str]], seed: int = 7) -> tuple[list[dict], list[tuple]]:
    """n ledger rows in households, and the merge ranges of their household cells (0-based, data from row 2)."""
    import random

    from app.validators.idcard import make_id_number

    rng = random.Random(seed)
    rows: list[dict] = []
    merges: list[tuple] = []
    seq_by_birth: dict[date, int] = {}
    base = date(1930, 1, 1)
    h = 0
    while len(rows) < n:
        h += 1
        size = min(rng.choice([1, 2, 2, 3, 3, 3, 4, 4, 5, 6]), n - len(rows))
        village_code, village_name = village_list[h % len(village_list)]
        number = f"{village_code[6:]}{h:06d}"
        surname = SURNAMES[rng.randrange(len(SURNAMES))]
        head_name = surname + GIVEN[rng.randrange(len(GIVEN))] + GIVEN[rng.randrange(len(GIVEN))]
        address = f"{village_name}{rng.randrange(1, 300)}号"
        first = len(rows)
        for pos in range(size):
            while True:  # adults for household heads and spouses (the services refuse a spouse under the legal age)
                birth = base + timedelta(days=rng.randrange(0, 33000 if pos > 1 else 23000))
                seq = seq_by_birth.get(birth, 0)
                if seq < 999:
                    seq_by_birth[birth] = seq + 1
                    break
            relation = RELATIONS_BY_POS[pos]
            name = head_name if pos == 0 else (surname if relation in ("子", "女", "孙子") else SURNAMES[rng.randrange(len(SURNAMES))]) + \
                GIVEN[rng.randrange(len(GIVEN))] + GIVEN[rng.randrange(len(GIVEN))]
            sex_code = seq % 2  # odd sequence = male
            id_number = make_id_number("339901", birth, seq)
            rows.append({
                "序号": len(rows) + 1,
                "户号": number if pos == 0 else None,
                "户主姓名": head_name if pos == 0 else None,
                "姓名": name,
                "性别": "男" if sex_code else "女",
                "公民身份号码": id_number.lower() if rng.random() < 0.05 else id_number,
                "出生日期": f"{birth.year}.{birth.month}.{birth.day}" if rng.random() < 0.5 else birth.strftime("%Y%m%d"),
                "民族": "汉族" if rng.random() < 0.95 else "畲族",
                "与户主关系": relation,
                "文化程度": rng.choice(["小学", "初中", "高中", "大学本科", None]),
                "婚姻状况": rng.choice(["已婚", "未婚", None]),
                "政治面貌": rng.choice(["群众", "群众", "中共党员", None]),
                "联系电话": f"13{rng.randrange(10**9):09d}" if rng.random() < 0.6 else None,
                "所在村": village_name,
                "住址": address if pos == 0 else None,
                "备注": None,
            })
        if size > 1:
            for col in MERGED:
                c = COLUMNS.index(col)
                merges.append((2 + first, c, 2 + first + size - 1, c, rows[first][col]))
    return rows, merges


def write_workbook(path: Path, rows: list[dict], merges: list[tuple]) -> None:
    """rustpy-xlsxwriter for the cells (it merges only above the header), then the household merges
    added to the sheet's ``<mergeCells>`` directly: the file is what Excel writes for merged cells."""
    import re
    import zipfile

    from rustpy_xlsxwriter import write_worksheet

    plain = path.with_suffix(".plain.xlsx")
    title = [(0, 0, 0, len(COLUMNS) - 1, "户籍人口花名册（合并户格）")]
    write_worksheet(rows, str(plain), sheet_name="花名册", header_row=1, merge_ranges=title)

    def ref(r: int, c: int) -> str:
        return f"{chr(65 + c)}{r + 1}"

    extra = "".join(f'<mergeCell ref="{ref(r1, c1)}:{ref(r2, c2)}"/>' for r1, c1, r2, c2, _ in merges)
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename.startswith("xl/worksheets/sheet"):
                xml = data.decode("utf-8")
                m = re.search(r'<mergeCells count="(\d+)">', xml)
                assert m is not None
                xml = xml.replace(m[0], f'<mergeCells count="{int(m[1]) + len(merges)}">', 1)
                xml = xml.replace("</mergeCells>", extra + "</mergeCells>", 1)
                data = xml.encode("utf-8")
            dst.writestr(item, data)
    plain.unlink()


# ---------------------------------------------------------------------------------- the database


def fresh_db(db_url: str) -> None:
    from sqlalchemy import create_engine, text

    from app.db import Database, migrate
    from app.seed.county import AREAS_CSV
    from app.services.areas import import_areas_csv
    from app.services.users import create_user

    if db_url.startswith("sqlite:///"):
        Path(db_url.removeprefix("sqlite:///")).unlink(missing_ok=True)
    else:
        engine = create_engine(db_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    migrate(db_url)
    db = Database(db_url)
    with db.session() as session:
        import_areas_csv(session, None, AREAS_CSV)
        session.commit()
        town, _ = villages(db_url)
        create_user(session, "bench_town", "bench-password-1", "乡镇导入员", "township_staff", town)
        session.commit()
    db.engine.dispose()


# ---------------------------------------------------------------------------------- the two ways


def run_ours(db_url: str, path: Path) -> dict:
    from sqlalchemy import func, select

    from app.db import Database
    from app.models import ChangeLog, Person, User
    from app.services import imports
    from app.services.codelists import code_lists
    from importers.pipeline import parse_file

    db = Database(db_url)
    with db.session() as session:
        actor = session.execute(select(User).where(User.username == "bench_town")).scalar_one()
        lists = code_lists(session)
        content = path.read_bytes()
        t0, c0 = time.perf_counter(), cpu_s()
        parsed = parse_file(content, file_name=path.name, code_lists=lists)
        t1, c1 = time.perf_counter(), cpu_s()
        batch, result = imports.run_import(session, actor, content, path.name, area_code=actor.area_code, policy="queue",
                                           dry_run=False, parsed=parsed)
        t2, c2 = time.perf_counter(), cpu_s()
        persons = session.execute(select(func.count()).select_from(Person)).scalar_one()
        logs = session.execute(select(func.count()).select_from(ChangeLog).where(ChangeLog.batch_id == batch.change_batch_id)).scalar_one()
    db.engine.dispose()
    return {"read_s": t1 - t0, "apply_s": t2 - t1, "total_s": t2 - t0, "read_cpu_s": c1 - c0, "apply_cpu_s": c2 - c1,
            "total_cpu_s": c2 - c0, "rows": parsed.rows_read, "persons": persons,
            "change_log": logs, "counts": {k: batch.counts.get(k) for k in ("applied", "unchanged", "conflict", "rejected")},
            "file_issues": [str(i) for i in parsed.issues][:5], "maxrss_mb": maxrss_mb()}


def run_naive(db_url: str, path: Path) -> dict:
    from openpyxl import load_workbook
    from sqlalchemy import select

    from app.db import Database
    from app.models import ChangeBatch, Household, Person, User

    db = Database(db_url)
    rel = RELATION_CODES
    with db.session() as session:
        actor = session.execute(select(User).where(User.username == "bench_town")).scalar_one()
        village_codes = {a.name: a.code for a in session.execute(select(__import__("app.models", fromlist=["Area"]).Area)).scalars()
                         if a.code.startswith(actor.area_code[:9])}
        t0, c0 = time.perf_counter(), cpu_s()
        ws = load_workbook(path).active
        merged = {}
        for rng in ws.merged_cells.ranges:
            top = ws.cell(rng.min_row, rng.min_col).value
            for r in range(rng.min_row, rng.max_row + 1):
                merged[(r, rng.min_col)] = top
        batch = ChangeBatch(source="import", actor_id=actor.id, file_name=path.name)
        session.add(batch)
        session.flush()
        households: dict[str, int] = {}
        n = 0
        for r, row in enumerate(ws.iter_rows(min_row=3, values_only=True), start=3):
            v = {c: (row[i] if row[i] is not None else merged.get((r, i + 1))) for i, c in enumerate(COLUMNS)}
            if not v["公民身份号码"]:
                continue
            raw_birth = str(v["出生日期"])
            y, m, d = (raw_birth.split(".") if "." in raw_birth else (raw_birth[:4], raw_birth[4:6], raw_birth[6:]))
            number = str(v["户号"])
            if number not in households:
                h = Household(number=number, area_code=village_codes[v["所在村"]], address=v["住址"], valid_from=date.today(),
                              batch_id=batch.id)
                session.add(h)
                session.flush()
                households[number] = h.id
            session.add(Person(id_number=str(v["公民身份号码"]).upper(), name=v["姓名"], sex="1" if v["性别"] == "男" else "2",
                               birth_date=date(int(y), int(m), int(d)), relation=rel.get(v["与户主关系"]), phone=v["联系电话"],
                               household_id=households[number], area_code=village_codes[v["所在村"]], valid_from=date.today(),
                               batch_id=batch.id))
            n += 1
            if n % 1000 == 0:
                session.flush()
        session.commit()
        t1, c1 = time.perf_counter(), cpu_s()
    db.engine.dispose()
    return {"total_s": t1 - t0, "total_cpu_s": c1 - c0, "rows": n, "maxrss_mb": maxrss_mb()}


# ---------------------------------------------------------------------------------- orchestration


def child(phase: str, db_url: str, path: Path) -> dict:
    out = subprocess.run([sys.executable, __file__, "--phase", phase, "--db-url", db_url, "--file", str(path)],
                         capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"{phase} failed:\n{out.stderr[-4000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--naive-rows", type=int, default=20_000)
    parser.add_argument("--db-url", default=None)
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "bench-import")
    parser.add_argument("--phase", choices=["ours", "naive"], default=None, help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        result = (run_ours if args.phase == "ours" else run_naive)(args.db_url, args.file)
        print(json.dumps(result, ensure_ascii=False))
        return

    args.dir.mkdir(parents=True, exist_ok=True)
    db_url = args.db_url or f"sqlite:///{args.dir / 'bench.sqlite3'}"
    _, village_list = villages(db_url)
    t0 = time.perf_counter()
    rows, merges = build_rows(args.rows, village_list)
    big = args.dir / f"ledger-{args.rows}.xlsx"
    write_workbook(big, rows, merges)
    build_s = time.perf_counter() - t0
    small_rows = rows[: args.naive_rows]
    small = args.dir / f"ledger-{args.naive_rows}.xlsx"
    write_workbook(small, small_rows, [m for m in merges if m[2] < 2 + args.naive_rows])
    print(f"workbook: {args.rows} rows, {len(merges)} merged ranges, {big.stat().st_size / 1e6:.1f} MB, written in {build_s:.1f} s "
          f"(rustpy-xlsxwriter)", file=sys.stderr)

    fresh_db(db_url)
    ours = child("ours", db_url, big)
    print(f"ours: {ours}", file=sys.stderr)
    again = child("ours", db_url, big)  # the same file once more: every row unchanged, nothing written
    print(f"again: {again}", file=sys.stderr)
    fresh_db(db_url)
    naive = child("naive", db_url, small)
    print(f"naive: {naive}", file=sys.stderr)

    backend = "PostgreSQL" if db_url.startswith("postgresql") else "SQLite"
    factor = args.rows / naive["rows"]
    print(f"\n{args.rows:,}-row legacy ledger ({backend}, {os.cpu_count()} CPUs; merged household cells, {len(village_list)} villages)\n")
    print("| way | read + normalise + validate | compare + validate + write | total (wall) | total (CPU) | rows/s (CPU) | peak memory |")
    print("|---|---|---|---|---|---|---|")
    print(f"| ours: calamine pipeline, bulk write with change log | {ours['read_s']:.1f} s ({ours['read_cpu_s']:.1f} s CPU) | "
          f"{ours['apply_s']:.1f} s ({ours['apply_cpu_s']:.1f} s CPU) | {ours['total_s']:.1f} s | {ours['total_cpu_s']:.1f} s | "
          f"{ours['rows'] / ours['total_cpu_s']:,.0f} | {ours['maxrss_mb']:,.0f} MB |")
    print(f"| ours, the same file again (every row unchanged, nothing written) | {again['read_s']:.1f} s ({again['read_cpu_s']:.1f} s CPU) | "
          f"{again['apply_s']:.1f} s ({again['apply_cpu_s']:.1f} s CPU) | {again['total_s']:.1f} s | {again['total_cpu_s']:.1f} s | "
          f"{again['rows'] / again['total_cpu_s']:,.0f} | {again['maxrss_mb']:,.0f} MB |")
    print(f"| naive: openpyxl row by row + ORM per row ({naive['rows']:,} rows, × {factor:.0f}) | — | — | "
          f"{naive['total_s'] * factor:.0f} s (measured {naive['total_s']:.1f} s) | {naive['total_cpu_s'] * factor:.0f} s | "
          f"{naive['rows'] / naive['total_cpu_s']:,.0f} | {naive['maxrss_mb']:,.0f} MB (on {naive['rows']:,} rows) |")
    print(f"\nsecond run: row outcomes {again['counts']}, change-log entries written {again['change_log']}")
    print(f"\nours wrote {ours['persons']:,} persons and {ours['change_log']:,} change-log entries; row outcomes {ours['counts']}")


if __name__ == "__main__":
    main()

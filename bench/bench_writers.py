"""Benchmark xlsx writers on a synthetic roster and a synthetic area summary.

    .venv/bin/python bench/bench_writers.py                 # every candidate, both data sets
    .venv/bin/python bench/bench_writers.py --rows 20000    # a smaller roster
    .venv/bin/python bench/bench_writers.py --only ybt-stream,xlsxwriter-cm

Needs the dev extras (``pip install -e '.[dev]'``): xlsxwriter, rustpy-xlsxwriter and pyexcelerate.

Each candidate runs in its own process (so peak RSS is its own) and prints the median seconds of
``--repeat`` runs of the write alone (data generation excluded) and the process's peak RSS, with the
RSS it had before writing. Wall seconds are what a user waits; CPU seconds (process time) are the
better comparison on a busy shared machine. Synthetic data only: fake names like "测试人员000001", made-up IDs.

Candidates: ``ybt-stream`` and ``ybt-openpyxl`` are ``app.reporting.write_xlsx`` with the full official
layout (title, statutory block, merged header, vertical household merges, print setup, _meta sheet).
The others write the same cells with per-column formats but only the layout their API allows, so they
are lower bounds for what a full layout would cost with them. Missing packages are reported and skipped.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.reporting.styles import number_format  # noqa: E402
from app.reporting.table import Column, HeaderCell, Report, Row, Sheet  # noqa: E402
from app.reporting.xlsx import write_xlsx  # noqa: E402

FOOTER = [
    ("单位负责人", ""),
    ("统计负责人", ""),
    ("填表人", ""),
    ("联系电话", ""),
    ("报出日期", "2025年7月5日"),
]
META = {
    "report": "bench-roster@1",
    "reference_date": "2025-06-30",
    "generated_at": "2025-07-05T09:30:00+08:00",
    "data_version": "1",
    "generated_by": "bench",
}


def roster(n: int) -> Report:
    """n persons in households of 1-5 members, 12 columns, household columns merged."""
    columns = [
        Column("household", "户编号", "id"),
        Column("head", "户主姓名", "text"),
        Column("address", "家庭住址", "text"),
        Column("name", "姓名", "text"),
        Column("relation", "与户主关系", "text"),
        Column("id_number", "身份证号", "id"),
        Column("sex", "性别", "text"),
        Column("age", "年龄", "integer"),
        Column("phone", "联系电话", "id"),
        Column("category", "保障类别", "text"),
        Column("amount", "月保障金（元）", "decimal", decimals=2),
        Column("since", "纳入时间", "date"),
    ]
    rows: list[Row] = []
    i = h = 0
    start = dt.date(2020, 1, 1)
    while i < n:
        h += 1
        code, size = f"5101040010{h:08d}", 1 + h % 5
        head = f"测试人员{i + 1:06d}"
        for m in range(min(size, n - i)):
            i += 1
            rows.append(
                Row(
                    {
                        "household": code,
                        "head": head,
                        "address": f"测试县测试镇测试村{h % 40 + 1}组{h % 97 + 1}号",
                        "name": f"测试人员{i:06d}",
                        "relation": "户主" if m == 0 else "子女",
                        "id_number": f"51010419{70 + i % 30}0101{i % 10000:04d}"
                        if i % 11
                        else f"5101041980010{i % 10000:04d}X"[:18],
                        "sex": "男" if i % 2 else "女",
                        "age": 1 + i % 90,
                        "phone": f"138{i % 100_000_000:08d}",
                        "category": ("城市低保", "农村低保", "特困供养")[i % 3],
                        "amount": round(300 + (i % 500) * 1.5, 2),
                        "since": start + dt.timedelta(days=i % 1500),
                    },
                    group=code,
                )
            )
    rows.append(
        Row({"household": "合计", "amount": round(sum(r.values["amount"] for r in rows), 2)}, kind="total")
    )
    sheet = Sheet(
        "花名册",
        "测试县2025年6月低保对象花名册",
        [],
        columns,
        rows,
        merge_columns=["household", "head", "address"],
    )
    return Report(
        [sheet],
        filler="填报单位（盖章）：测试县民政局",
        period_line="报告期：2025年6月",
        footer=FOOTER,
        meta=META,
        paper="A3",
    )


def summary() -> Report:
    """316 rows: county total, 15 township subtotals, 300 villages; 3-level header, 栏次 row."""
    header = [
        HeaderCell("地区", key="area"),
        HeaderCell(
            "城市低保",
            [
                HeaderCell("户数", key="u_hh"),
                HeaderCell("人数", [HeaderCell("合计", key="u_p"), HeaderCell("其中：女", key="u_f")]),
            ],
        ),
        HeaderCell(
            "农村低保",
            [
                HeaderCell("户数", key="r_hh"),
                HeaderCell("人数", [HeaderCell("合计", key="r_p"), HeaderCell("其中：女", key="r_f")]),
            ],
        ),
        HeaderCell("保障金额（万元）", [HeaderCell("本月", key="m_amt"), HeaderCell("累计", key="y_amt")]),
        HeaderCell("覆盖率", key="rate"),
    ]
    ints = ["u_hh", "u_p", "u_f", "r_hh", "r_p", "r_f"]
    columns = [
        Column("area", "地区", "text"),
        *(Column(k, k, "integer") for k in ints),
        Column("m_amt", "本月", "decimal", 2),
        Column("y_amt", "累计", "decimal", 2),
        Column("rate", "覆盖率", "percent"),
    ]

    def values(name: str, k: int) -> dict:
        return {
            "area": name,
            **{key: k * (j + 3) for j, key in enumerate(ints)},
            "m_amt": 1.25 * k,
            "y_amt": 7.5 * k,
            "rate": 0.031,
        }

    rows = [Row(values("合计", 300), kind="total")]
    for t in range(15):
        rows.append(Row(values(f"测试镇{t + 1:02d}", 20), kind="subtotal"))
        rows += [Row(values(f"测试村{t + 1:02d}{v + 1:02d}", 1)) for v in range(20)]
    sheet = Sheet(
        "汇总",
        "测试县2025年6月城乡低保统计表",
        header,
        columns,
        rows,
        column_numbers=["甲", *map(str, range(1, 10))],
        notes=["平衡关系：2≥3，5≥6"],
    )
    return Report(
        [sheet],
        statutory={"表号": "民统1表", "制定机关": "民政部", "有效期至": "2027年6月"},
        filler="填报单位（盖章）：测试县民政局",
        period_line="截至2025年6月30日",
        unit_line="单位：户、人、万元",
        footer=FOOTER,
        meta=META,
    )


def _body(report: Report) -> tuple[Sheet, list[str], list[str]]:
    sheet = report.sheets[0]
    return sheet, [c.key for c in sheet.columns], [number_format(c) for c in sheet.columns]


def w_xlsxwriter(report: Report, out: io.BytesIO) -> None:
    import xlsxwriter

    sheet, keys, fmts = _body(report)
    wb = xlsxwriter.Workbook(
        out,
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
        },
    )
    ws = wb.add_worksheet(sheet.name)
    base = {"font_name": "宋体", "font_size": 10, "border": 1}
    formats = [wb.add_format({**base, "num_format": f}) for f in fmts]
    bold = [wb.add_format({**base, "num_format": f, "bold": True, "bg_color": "#F2F2F2"}) for f in fmts]
    ws.merge_range(
        0, 0, 0, len(keys) - 1, sheet.title, wb.add_format({"bold": True, "font_size": 16, "align": "center"})
    )
    head = wb.add_format({**base, "bold": True, "align": "center", "bg_color": "#D9D9D9"})
    for c, col in enumerate(sheet.columns):
        ws.write_string(1, c, col.label, head)
    ws.freeze_panes(2, 0)
    ws.repeat_rows(1)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    for r, row in enumerate(sheet.rows, start=2):
        f = bold if row.kind != "data" else formats
        v = row.values
        for c, key in enumerate(keys):
            x = v.get(key)
            if x is None:
                ws.write_blank(r, c, None, f[c])
            elif isinstance(x, str):
                ws.write_string(r, c, x, f[c])
            elif isinstance(x, dt.date):
                ws.write_datetime(r, c, x, f[c])
            else:
                ws.write_number(r, c, x, f[c])
    wb.close()


def w_openpyxl_wo(report: Report, out: io.BytesIO) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Border, Font, Side

    sheet, keys, fmts = _body(report)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet.name)
    thin = Side(style="thin")
    border, font = Border(left=thin, right=thin, top=thin, bottom=thin), Font(name="宋体", size=10)
    ws.append([sheet.title])
    ws.append([c.label for c in sheet.columns])
    for row in sheet.rows:
        cells = []
        for key, fmt in zip(keys, fmts, strict=True):
            cell = WriteOnlyCell(ws, value=row.values.get(key))
            if cell.data_type == "f":
                cell.data_type = "s"
            cell.border, cell.font, cell.number_format = border, font, fmt
            cells.append(cell)
        ws.append(cells)
    wb.save(out)


def w_rustpy(report: Report, out: io.BytesIO) -> None:
    from rustpy_xlsxwriter import Format, write_worksheet

    sheet, keys, fmts = _body(report)
    formats = {
        k: Format().set_font_name("宋体").set_border("thin").set_num_format(f)
        for k, f in zip(keys, fmts, strict=True)
    }
    n = len(keys)
    write_worksheet(
        [r.values for r in sheet.rows],
        out,
        sheet_name=sheet.name,
        column_formats=formats,
        header_row=1,
        merge_ranges=[(0, 0, 0, n - 1, sheet.title)],
        freeze_row=2,
        page_setup={"landscape": True, "paper_size": 8, "repeat_rows": (0, 1), "fit_to_pages": (1, 0)},
    )


def w_pyexcelerate(report: Report, out: io.BytesIO) -> None:
    from pyexcelerate import Workbook

    sheet, keys, _fmts = _body(report)
    data = [[sheet.title], [c.label for c in sheet.columns]]
    data += [[row.values.get(k) for k in keys] for row in sheet.rows]
    wb = Workbook()
    wb.new_sheet(sheet.name, data=data)
    wb.save(out)


CANDIDATES: dict[str, Callable[[Report, io.BytesIO], None]] = {
    "ybt-stream": lambda r, out: write_xlsx(r, out, engine="stream"),
    "ybt-openpyxl": lambda r, out: write_xlsx(r, out, engine="openpyxl"),
    "xlsxwriter-cm": w_xlsxwriter,
    "openpyxl-wo": w_openpyxl_wo,
    "rustpy-xlsxwriter": w_rustpy,
    "pyexcelerate": w_pyexcelerate,
}


def run_one(name: str, dataset: str, rows: int, repeat: int) -> dict:
    report = summary() if dataset == "summary" else roster(rows)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    walls, cpus, size = [], [], 0
    for _ in range(repeat):
        out = io.BytesIO()
        t0, c0 = time.perf_counter(), time.process_time()
        CANDIDATES[name](report, out)
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
        size = out.getbuffer().nbytes
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "seconds": statistics.median(walls),
        "cpu": statistics.median(cpus),
        "peak_mb": peak,
        "base_mb": before,
        "size_mb": size / 1e6,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--only", default="")
    ap.add_argument("--run", help=argparse.SUPPRESS)
    ap.add_argument("--dataset", default="roster", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.run:
        try:
            print(json.dumps(run_one(args.run, args.dataset, args.rows, args.repeat)))
        except ImportError as exc:
            print(json.dumps({"error": f"not installed: {exc.name}"}))
        return
    names = [n for n in args.only.split(",") if n] or list(CANDIDATES)
    print(
        f"{'candidate':<18} {'data set':<22} {'wall s':>8} {'cpu s':>7} {'peak RSS':>9} {'before':>8} {'file':>8}"
    )
    for dataset, label, repeat in (
        ("roster", f"roster {args.rows:,}x12", args.repeat),
        ("summary", "summary 316x10", 5),
    ):
        for name in names:
            cmd = [
                sys.executable,
                __file__,
                "--run",
                name,
                "--dataset",
                dataset,
                "--rows",
                str(args.rows),
                "--repeat",
                str(repeat),
            ]
            with tempfile.TemporaryDirectory() as tmp:
                proc = subprocess.run(
                    cmd, capture_output=True, text=True, cwd=tmp, env={**os.environ}, check=False
                )
            try:
                res = json.loads(proc.stdout.strip().splitlines()[-1])
            except (IndexError, json.JSONDecodeError):
                res = {"error": (proc.stderr.strip().splitlines() or ["failed"])[-1][:60]}
            if "error" in res:
                print(f"{name:<18} {label:<22} {res['error']}")
            else:
                print(
                    f"{name:<18} {label:<22} {res['seconds']:>8.2f} {res['cpu']:>7.2f} {res['peak_mb']:>6.0f} MB"
                    f" {res['base_mb']:>5.0f} MB {res['size_mb']:>5.1f} MB",
                    flush=True,
                )


if __name__ == "__main__":
    main()

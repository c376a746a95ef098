"""Layout of shipped projections as written to xlsx (``write_report``) and read back with openpyxl:
merged title, statutory block, header texts and merges, 栏次 row, 合计 then 小计 rows, household
merges in rosters, masked ID cells and the hidden ``_meta`` sheet.

Positions below the title are found relative to the header (the row holding the first header
label), so that the furniture above it may grow without breaking these tests.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from catalogue import id_of, masked_id, run
from hand_data import HandCounty
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from app.db import get_db
from app.reporting.store_delta import data_version
from app.reporting.table import Report
from app.services.reports import write_report


def written(report: Report, tmp_path: Path, name: str = "report.xlsx"):
    path = tmp_path / name
    write_report(report, "xlsx", path)
    return load_workbook(path)


def find(ws: Worksheet, text: str) -> tuple[int, int]:
    for row in ws.iter_rows():
        for cell in row:
            if cell.value == text:
                return cell.row, cell.column
    raise AssertionError(f"{text!r} not on sheet {ws.title}")


def merges(ws: Worksheet) -> set[str]:
    return {str(r) for r in ws.merged_cells.ranges}


def rng(r1: int, c1: int, r2: int, c2: int) -> str:
    return f"{get_column_letter(c1)}{r1}:{get_column_letter(c2)}{r2}"


def row_values(ws: Worksheet, row: int, ncols: int) -> list:
    return [ws.cell(row=row, column=c).value for c in range(1, ncols + 1)]


def texts(ws: Worksheet, first: int, last: int) -> list[str]:
    return [c.value for row in ws.iter_rows(min_row=first, max_row=last) for c in row if isinstance(c.value, str)]


def meta(wb) -> dict[str, str]:
    ws = wb["_meta"]
    return {ws.cell(row=r, column=1).value: ws.cell(row=r, column=2).value for r in range(1, ws.max_row + 1)}


def test_area_summary_layout(app, session, hand: HandCounty, tmp_path: Path) -> None:
    wb = written(run(app, session, "mca_needy_by_village"), tmp_path)
    assert wb.sheetnames == ["云溪县困难群众分村汇总表", "_meta"]
    ws = wb.worksheets[0]
    n = 12  # 单位名称 + 11 indicator columns
    # merged title across the full width
    assert ws["A1"].value == "云溪县困难群众分村汇总表"
    assert "A1:" + get_column_letter(n) + "1" in merges(ws)
    top, _ = find(ws, "单位名称")
    furniture = texts(ws, 2, top - 1)
    # statutory block (top right), filler and period (top left), unit line
    for line in ("表    号：民救1表", "制定机关：云溪县民政局", "批准机关：云溪县统计局", "批准文号：云统制〔2025〕3号",
                 "有效期至：2027年12月31日", "截至2025年6月30日", "单位：户、人、元"):
        assert line in furniture, furniture
    assert any(t.startswith("填报单位（盖章）：云溪县") for t in furniture)
    # header: 3 rows; groups merged across, leaves merged down
    assert row_values(ws, top, n) == ["单位名称", "低保", None, None, None, None, "低保边缘户", "特困人员", None, None,
                                      "留守儿童", "孤儿"]
    assert row_values(ws, top + 1, n)[1:10] == ["户数", "人数", "其中", None, "月保障金额", None, "合计", "集中供养", "分散供养"]
    assert row_values(ws, top + 2, n)[3:5] == ["城市低保户", "农村低保户"]
    for expected in (rng(top, 1, top + 2, 1),      # 单位名称 down three rows
                     rng(top, 2, top, 6),          # 低保 over 户数 … 月保障金额
                     rng(top + 1, 4, top + 1, 5),  # 其中 over 城市/农村
                     rng(top + 1, 2, top + 2, 2),  # 户数 down two rows
                     rng(top, 7, top + 2, 7),      # 低保边缘户 down three rows
                     rng(top, 8, top, 10)):        # 特困人员 over 合计/集中/分散
        assert expected in merges(ws), (expected, sorted(merges(ws)))
    # 栏次 row, then 合计 on top, then 小计 and villages
    numbers = top + 3
    assert row_values(ws, numbers, n) == ["甲", *[str(i) for i in range(1, 12)]]
    body = numbers + 1
    assert [ws.cell(row=r, column=1).value for r in range(body, body + 6)] == [
        "合计", "青石镇小计", "甲村", "乙村", "石门乡小计", "丙村"]
    assert row_values(ws, body, n) == ["合计", 3, 5, 0, 3, 1700, 0, 2, 1, 1, 1, 0]
    assert row_values(ws, body + 2, n) == ["甲村", 1, 3, 0, 1, 800, 0, 1, 0, 1, 1, 0]
    assert ws.cell(row=body, column=2).data_type == "n"
    # notes (balance rule) and footer under the table
    assert ws.cell(row=body + 6, column=1).value == "1≥3+4；6=7+8"
    footer = ws.cell(row=body + 7, column=1).value
    assert footer.startswith("单位负责人：") and "报出日期：" in footer
    # printing: header and 栏次 rows repeat, landscape A4
    assert ws.print_title_rows == f"${top}:${numbers}"
    assert ws.page_setup.orientation == "landscape"
    assert int(ws.page_setup.paperSize) == 9


def test_meta_sheet(app, session, hand: HandCounty, tmp_path: Path) -> None:
    wb = written(run(app, session, "mca_needy_by_village", on=date(2025, 6, 19)), tmp_path)
    assert wb["_meta"].sheet_state == "hidden"
    values = meta(wb)
    assert values["报表"] == "mca_needy_by_village@1"
    assert values["参考日期"] == "2025-06-19"
    assert values["区划"] == "339901000000 云溪县"
    assert values["数据版本"] == str(data_version(get_db(app).engine))
    assert int(values["数据版本"]) > 0


def test_change_list_meta_has_the_period(app, session, hand: HandCounty, tmp_path: Path) -> None:
    wb = written(run(app, session, "mca_dibao_changes", period="2025-06"), tmp_path)
    ws = wb.worksheets[0]
    assert ws["A1"].value == "云溪县2025年6月低保对象新增/减少名单"
    assert "报告期：2025年6月" in texts(ws, 2, 3)
    top, _ = find(ws, "变动类型")
    assert row_values(ws, top + 1, 8) == ["新增", "石门乡", "丙村", "BC002", "丙三", masked_id("p15"), 1, "新立户"]
    assert row_values(ws, top + 2, 8) == ["减少", "青石镇", "甲村", "JC003", "甲七", masked_id("p7"), 1, "退出（标签终止）"]
    values = meta(wb)
    assert (values["参考日期"], values["报告期"]) == ("2025-06-30", "2025-06-01..2025-06-30")


def test_roster_household_merges_and_unmasked_ids(app, session, hand: HandCounty, tmp_path: Path) -> None:
    wb = written(run(app, session, "mca_dibao_roster"), tmp_path)
    ws = wb.worksheets[0]
    top, _ = find(ws, "序号")
    assert ws.cell(row=top, column=4).value == "户基本情况"
    assert rng(top, 4, top, 8) in merges(ws)   # 户基本情况 over 户号 … 月保障金额
    assert rng(top, 9, top, 13) in merges(ws)  # 家庭成员 over 姓名 … 公民身份号码
    body = top + 2  # two header rows, no 栏次 row
    # H1 (3 members): 序号, 乡镇, 村, 户号, 户主, 家庭人口, 低保类别, 月保障金额 merged down its rows
    for col in range(1, 9):
        assert rng(body, col, body + 2, col) in merges(ws)
    assert rng(body, 9, body + 2, 9) not in merges(ws)  # 姓名 is per person
    assert [ws.cell(row=r, column=9).value for r in range(body, body + 5)] == ["甲一", "甲二", "甲三", "丙一", "丙三"]
    assert ws.cell(row=body + 1, column=4).value is None  # only the top cell of a merge holds the value
    assert [ws.cell(row=r, column=1).value for r in (body, body + 3, body + 4)] == [1, 2, 3]
    # H6 and H7 have one member each: nothing to merge
    assert not any(m.startswith(f"A{body + 3}:") for m in merges(ws))
    # unmasked ID numbers are full 18-character text, never numbers
    ids = [ws.cell(row=r, column=13) for r in range(body, body + 5)]
    assert [c.value for c in ids] == [id_of(k) for k in ("p1", "p2", "p3", "p13", "p15")]
    assert {c.data_type for c in ids} == {"s"}


def test_roster_masked_ids(app, session, hand: HandCounty, tmp_path: Path) -> None:
    wb = written(run(app, session, "cdpf_disabled_roster"), tmp_path)
    ws = wb.worksheets[0]
    top, id_col = find(ws, "公民身份号码")
    assert ws.cell(row=top, column=8).value == "残疾人证"  # group over 证号/类别/等级
    cells = [ws.cell(row=r, column=id_col) for r in range(top + 2, top + 5)]
    assert [c.value for c in cells] == [masked_id("p1"), masked_id("p10"), masked_id("p17")]
    assert {c.data_type for c in cells} == {"s"}
    assert all("*" * 10 in c.value for c in cells)


def test_total_at_bottom_and_a3(app, session, hand: HandCounty, tmp_path: Path) -> None:
    wb = written(run(app, session, "cdpf_disabled_summary"), tmp_path)
    ws = wb.worksheets[0]
    assert int(ws.page_setup.paperSize) == 8  # A3
    top, _ = find(ws, "单位名称")
    body = top + 3  # two header rows + 栏次 row
    assert ws.cell(row=top + 2, column=1).value == "甲"
    assert [ws.cell(row=r, column=1).value for r in range(body, body + 6)] == [
        "青石镇小计", "甲村", "乙村", "石门乡小计", "丙村", "合计"]
    assert row_values(ws, body + 5, 14) == ["合计", 3, 1, 0, 0, 1, 1, 0, 0, 1, 1, 1, 0, 2]


def test_township_rows_with_codes_as_text(app, session, hand: HandCounty, tmp_path: Path) -> None:
    wb = written(run(app, session, "stats_township_basic"), tmp_path)
    ws = wb.worksheets[0]
    top, code_col = find(ws, "区划代码")
    assert code_col == 2
    assert ws.cell(row=top, column=4).value == "户籍人口"
    assert rng(top, 4, top, 6) in merges(ws)  # 户籍人口 over 合计/男/女
    assert row_values(ws, top + 1, 6)[3:6] == ["合计", "男", "女"]
    numbers = top + 2
    assert row_values(ws, numbers, 4) == ["甲", "乙", "1", "2"]
    codes = [ws.cell(row=r, column=2) for r in range(numbers + 1, numbers + 4)]
    assert [c.value for c in codes] == ["339901000000", "339901100000", "339901200000"]
    assert {c.data_type for c in codes} == {"s"}
    assert ws.cell(row=numbers + 1, column=13).value == pytest.approx(23.85)  # 上年集体经济收入, 万元


def test_indicator_rows_one_sheet_per_village(app, session, hand: HandCounty, tmp_path: Path) -> None:
    wb = written(run(app, session, "stats_village_basic"), tmp_path)
    assert wb.sheetnames == ["甲村", "乙村", "丙村", "_meta"]
    ws = wb["丙村"]
    assert ws["A1"].value == "丙村农村基本情况（2025年6月30日）"
    assert "有效期至：2027年6月30日" in texts(ws, 2, 8)
    top, _ = find(ws, "指标名称")
    assert row_values(ws, top, 4) == ["指标名称", "计量单位", "代码", "数值"]
    assert row_values(ws, top + 1, 4) == ["甲", "乙", "丙", "1"]
    assert row_values(ws, top + 2, 4) == ["户籍户数", "户", "01", 2]  # H6, H7


def test_household_roster_layout(app, session, hand: HandCounty, tmp_path: Path) -> None:
    wb = written(run(app, session, "moa_monitored_households"), tmp_path)
    ws = wb.worksheets[0]
    top, _ = find(ws, "户号")
    body = top + 2
    assert row_values(ws, body, 11) == [1, "青石镇", "甲村", "JC002", "甲四", masked_id("p4"), 3, "JC002号",
                                        "脱贫不稳定户", "因病", "2025-02-01"]
    assert not [m for m in merges(ws) if int(m.split(":")[0][1:]) >= body and m.split(":")[0][0] == "A"
                and m.split(":")[1][0] == "A"]  # one row per household: no vertical merges


@pytest.mark.parametrize("report_id", ["mca_dibao_roster", "nhc_elderly_health"])
def test_both_xlsx_engines_agree(app, session, hand: HandCounty, tmp_path: Path, report_id: str) -> None:
    from app.reporting.xlsx import write_xlsx

    report = run(app, session, report_id)
    books = {}
    for engine in ("openpyxl", "stream"):
        path = tmp_path / f"{engine}.xlsx"
        write_xlsx(report, path, engine=engine)
        books[engine] = load_workbook(path)
    a, b = (books[e].worksheets[0] for e in ("openpyxl", "stream"))
    assert merges(a) == merges(b)
    cells = lambda ws: {(c.row, c.column): c.value for row in ws.iter_rows() for c in row if c.value is not None}  # noqa: E731
    assert cells(a) == cells(b)
    # an empty value (报告期 of a stock report) reads back as None from one backend and "" from the other
    plain = lambda values: {k: v or "" for k, v in values.items()}  # noqa: E731
    assert plain(meta(books["openpyxl"])) == plain(meta(books["stream"]))

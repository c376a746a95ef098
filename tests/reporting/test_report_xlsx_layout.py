"""The xlsx layout of an official form, read back with openpyxl; every test runs on both backends."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet

from app.reporting.xlsx import write_xlsx

ENGINES = ["openpyxl", "stream"]


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    return request.param


def _write(report, tmp_path: Path, engine: str) -> openpyxl.Workbook:
    path = tmp_path / f"report-{engine}.xlsx"
    write_xlsx(report, path, engine=engine)  # type: ignore[arg-type]
    return openpyxl.load_workbook(path)


def merges(ws: Worksheet) -> set[str]:
    return {str(r) for r in ws.merged_cells.ranges}


def merge_of(ws: Worksheet, coordinate: str) -> str | None:
    return next((str(r) for r in ws.merged_cells.ranges if coordinate in r), None)


# --- area summary: title, statutory block, 3-level header, 栏次, totals, notes, footer ----------------


def test_title_is_merged_over_the_full_width(summary, tmp_path, engine):
    ws = _write(summary, tmp_path, engine)["低保汇总"]
    assert "A1:F1" in merges(ws)
    title = ws["A1"]
    assert title.value == "测试县2025年6月低保对象统计表"
    assert title.font.b is True and title.font.sz == 16 and title.font.name == "宋体"
    assert title.alignment.horizontal == "center"


def test_statutory_block_top_right_and_lines_top_left(summary, tmp_path, engine):
    ws = _write(summary, tmp_path, engine)["低保汇总"]
    assert ws["A2"].value == "填报单位（盖章）：测试县民政局"
    assert ws["A3"].value == "截至2025年6月30日"
    right = {r: merge_of(ws, f"F{r}") for r in range(2, 8)}
    starts = {ws[rng.split(":")[0]].value for rng in right.values() if rng}
    assert starts == {
        "表    号：民统1表",
        "制定机关：民政部",
        "批准机关：国家统计局",
        "批准文号：国统制〔2024〕12号",
        "有效期至：2027年6月",
        "单位：户、人、万元",
    }
    first = right[2].split(":")[0]
    assert ws[first].value == "表    号：民统1表" and ws[first].alignment.horizontal == "right"
    assert ws[right[7].split(":")[0]].value == "单位：户、人、万元"  # last line above the header
    assert first[0] not in ("A", "F")  # spans more than the last column, leaves room on the left


def test_three_level_header_with_shallow_leaves(summary, tmp_path, engine):
    ws = _write(summary, tmp_path, engine)["低保汇总"]
    assert {"A8:A10", "B8:D8", "B9:B10", "C9:D9", "E8:E10", "F8:F10"} <= merges(ws)
    texts = {c: ws[c].value for c in ("A8", "B8", "B9", "C9", "C10", "D10", "E8", "F8")}
    assert texts == {
        "A8": "地区",
        "B8": "低保",
        "B9": "户数",
        "C9": "人数",
        "C10": "合计",
        "D10": "其中：女",
        "E8": "保障金额",
        "F8": "覆盖率",
    }
    cell = ws["C10"]
    assert cell.font.b and cell.alignment.horizontal == "center" and cell.alignment.wrap_text
    assert cell.border.left.style == "thin" and cell.fill.fgColor.rgb == "FFD9D9D9"


def test_column_number_row(summary, tmp_path, engine):
    ws = _write(summary, tmp_path, engine)["低保汇总"]
    assert [c.value for c in ws[11]] == ["甲", "1", "2", "3", "4", "5"]
    assert all(c.data_type == "s" and c.alignment.horizontal == "center" for c in ws[11])


def test_total_and_subtotal_rows_are_bold_and_filled(summary, tmp_path, engine):
    ws = _write(summary, tmp_path, engine)["低保汇总"]
    assert ws["A12"].value == "合计" and ws["A13"].value == "测试镇"
    for coordinate in ("A12", "B12", "A13", "F13"):
        assert ws[coordinate].font.b is True
        assert ws[coordinate].fill.fgColor.rgb == "FFF2F2F2"
    assert ws["A14"].font.b is False and ws["A14"].fill.fill_type is None
    assert ws["B14"].border.bottom.style == "thin"


def test_number_formats_by_column_kind(summary, tmp_path, engine):
    ws = _write(summary, tmp_path, engine)["低保汇总"]
    assert (ws["A14"].number_format, ws["A14"].data_type) == ("@", "s")
    assert (ws["B14"].value, ws["B14"].number_format) == (30, "#,##0")
    assert (ws["E14"].value, ws["E14"].number_format) == (12.5, "#,##0.00")
    assert (ws["F15"].value, ws["F15"].number_format) == (0.049, "0.0%")
    assert ws["E14"].font.name == "宋体" and ws["E14"].font.sz == 10


def test_notes_and_footer_under_the_table(summary, tmp_path, engine):
    ws = _write(summary, tmp_path, engine)["低保汇总"]
    assert ws["A17"].value == "平衡关系：2≥3" and "A17:F17" in merges(ws)
    assert ws["A18"].value == "说明：金额单位为万元。"
    assert (
        ws["A19"].value
        == "单位负责人：        统计负责人：        填表人：        联系电话：        报出日期：2025年7月5日"
    )
    assert ws.max_row == 19


def test_print_setup_landscape_fit_to_width_and_title_rows(summary, tmp_path, engine):
    ws = _write(summary, tmp_path, engine)["低保汇总"]
    assert ws.page_setup.orientation == "landscape"
    assert int(ws.page_setup.paperSize) == 9  # A4
    assert int(ws.page_setup.fitToWidth) == 1 and int(ws.page_setup.fitToHeight) == 0
    assert ws.sheet_properties.pageSetUpPr.fitToPage is True
    assert ws.print_title_rows == "$8:$11"  # header rows and the 栏次 row
    assert ws.print_options.horizontalCentered is True
    assert ws.page_margins.left == pytest.approx(0.25)
    assert "&P" in ws.oddFooter.center.text


def test_frozen_below_header_right_of_first_text_column(summary, roster, tmp_path, engine):
    assert _write(summary, tmp_path, engine).active.freeze_panes == "B12"
    assert _write(roster, tmp_path, engine).active.freeze_panes == "C5"  # 户号 (id), 户主 (text) | …


def test_no_freeze_when_switched_off(summary, tmp_path, engine):
    summary.sheets[0].freeze = False
    assert _write(summary, tmp_path, engine).active.freeze_panes is None


def test_column_widths_are_set_and_capped(summary, roster, tmp_path, engine):
    ws = _write(roster, tmp_path, engine)["花名册"]
    widths = {k: d.width for k, d in ws.column_dimensions.items()}
    assert widths["E"] >= 18  # an 18-character ID fits
    assert all(4 <= w <= 40 for w in widths.values())
    summary.sheets[0].columns[0].width = 33.5
    assert _write(summary, tmp_path, engine).active.column_dimensions["A"].width == 33.5


def test_meta_sheet_and_document_properties(summary, tmp_path, engine):
    wb = _write(summary, tmp_path, engine)
    assert wb.sheetnames == ["低保汇总", "_meta"]
    meta = wb["_meta"]
    assert meta.sheet_state == "hidden"
    values = {row[0]: row[1] for row in meta.iter_rows(values_only=True)}
    assert values["report"] == "minzheng-dibao-summary@3"
    assert values["reference_date"] == "2025-06-30"
    assert values["generated_at"] == "2025-07-05T09:30:00+08:00"
    assert values["data_version"] == "1842"
    assert wb.properties.creator == "一表通"
    assert wb.properties.title == "测试县2025年6月低保对象统计表"
    assert "minzheng-dibao-summary@3" in wb.properties.keywords
    assert "data_version: 1842" in wb.properties.description


# --- roster: household merges, IDs as text, injection, control characters ----------------------------


def test_roster_household_columns_merged_over_members(roster, tmp_path, engine):
    ws = _write(roster, tmp_path, engine)["花名册"]
    assert {"A5:A7", "B5:B7", "C5:C7"} <= merges(ws)
    assert merge_of(ws, "D5") is None and merge_of(ws, "A8") is None  # members; a one-person household
    assert (ws["A5"].value, ws["B5"].value, ws["C5"].value) == ("H0001", "测试人员0001", "测试镇测试村1组")
    assert ws["A8"].value == "H0002"
    assert [ws[f"D{r}"].value for r in (5, 6, 7)] == ["测试人员0001", "=SUM(A1)", "测试人员0003"]
    assert ws["A5"].alignment.vertical == "center"


def test_id_numbers_are_text_cells(roster, tmp_path, engine):
    ws = _write(roster, tmp_path, engine)["花名册"]
    for coordinate, expected in (("E5", "51010419900101123X"), ("E6", "510104201001011234")):
        cell = ws[coordinate]
        assert cell.value == expected and cell.data_type == "s" and cell.number_format == "@"
    assert ws["F5"].value == "13812345678" and ws["F5"].data_type == "s"


def test_formula_like_strings_stay_literal_text(roster, tmp_path, engine):
    ws = _write(roster, tmp_path, engine)["花名册"]
    assert (ws["D6"].value, ws["D6"].data_type) == ("=SUM(A1)", "s")
    assert (ws["F6"].value, ws["F6"].data_type) == ("+86123", "s")
    assert (ws["G7"].value, ws["G7"].data_type) == (-1, "n")  # a negative number stays a number


def test_illegal_control_characters_are_stripped(roster, tmp_path, engine):
    ws = _write(roster, tmp_path, engine)["花名册"]
    assert ws["D7"].value == "测试人员0003"


def test_dates_and_roster_total(roster, tmp_path, engine):
    ws = _write(roster, tmp_path, engine)["花名册"]
    assert ws["I5"].value == dt.datetime(2024, 1, 15) and ws["I5"].number_format == "yyyy-mm-dd"
    assert ws["A9"].value == "合计" and ws["A9"].font.b and ws["H9"].value == 1900
    assert int(ws.page_setup.paperSize) == 8  # A3
    assert ws.print_title_rows == "$4:$4"


def test_no_statutory_block_keeps_it_tidy(roster, tmp_path, engine):
    roster.unit_line = "单位：元"
    ws = _write(roster, tmp_path, engine)["花名册"]
    assert ws["A2"].value == "填报单位（盖章）：测试镇人民政府"
    assert ws["A3"].value == "报告期：2025年6月"
    unit = merge_of(ws, "I3")
    assert unit and ws[unit.split(":")[0]].value == "单位：元" and unit.split(":")[0] != "A3"
    assert ws["A4"].value == "户号"  # header right below the two lines


def test_several_sheets_each_with_its_print_titles(summary, roster, tmp_path, engine):
    second = roster.sheets[0]
    second.name = "花名册 '乙'"
    summary.sheets.append(second)
    wb = _write(summary, tmp_path, engine)
    assert wb.sheetnames == ["低保汇总", "花名册 '乙'", "_meta"]
    assert wb["低保汇总"].print_title_rows == "$8:$11"
    assert wb["花名册 '乙'"].print_title_rows == "$8:$8"
    assert {"A9:A11"} <= merges(wb["花名册 '乙'"])


def test_empty_sheet_and_single_column(tmp_path, engine):
    from app.reporting.table import Column, Report, Sheet

    report = Report(
        [Sheet("空表", "空表标题", [], [Column("name", "名称")], [])],
        statutory={"表号": "X1表"},
        filler="填报单位（盖章）：测试",
        unit_line="单位：个",
    )
    ws = _write(report, tmp_path, engine)["空表"]
    assert [ws.cell(r, 1).value for r in range(1, 6)] == [
        "空表标题",
        "填报单位（盖章）：测试",
        "表    号：X1表",
        "单位：个",
        "名称",
    ]
    assert ws.freeze_panes == "B6"

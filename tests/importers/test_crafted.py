"""Issue 15: crafted grids refused before the native reader sees them, odd zip packages read as Excel
does, and the safety scans linear in the file's size (exact outcomes, no database)."""

from __future__ import annotations

import time

import pytest
from crafted import (
    NS,
    declared_dimension_workbook,
    far_cell_workbook,
    formula_column_with_bordered_tail,
    long_shared_strings_workbook,
    out_of_excel_workbook,
    package,
    sheet_xml,
)
from legacy_ledgers import LI_FANG, TODAY, ZHANG_WEI, code_lists

from importers.model import ParsedFile
from importers.pipeline import parse_file
from importers.read import open_workbook
from importers.sheet_scan import MAX_GRID_CELLS

CL = code_lists()
ROWS: list[list[object]] = [["姓名", "身份证号", "性别"], ["张伟", ZHANG_WEI, "男"], ["李芳", LI_FANG, "女"]]


def parse(data: bytes) -> ParsedFile:
    return parse_file(data, file_name="台账.xlsx", code_lists=CL, today=TODAY)


def refused(data: bytes) -> tuple[str, str]:
    parsed = parse(data)
    assert parsed.records == [] and parsed.rows_read == 0 and not parsed.ok
    assert len(parsed.issues) == 1, parsed.issues
    issue = parsed.issues[0]
    assert issue.severity == "error" and issue.hint and "删除多余的行和列" in issue.hint
    return issue.code, issue.message


def test_far_cell_refused_before_reading() -> None:
    data = far_cell_workbook(ROWS)
    assert len(data) < 2500  # the 1.6 KB file of the issue
    code, message = refused(data)
    # the declared dimension is found first: 1,048,576 x 16,384
    assert code == "grid-too-large"
    assert message == (f"工作表“人员”声明的范围有1,048,576行×16,384列（17,179,869,184个单元格），超过上限{MAX_GRID_CELLS:,}个，已拒绝读取")


def test_far_cell_without_a_declared_dimension_refused() -> None:
    data = package(sheet_xml(ROWS, far=[("XFD1048576", "x")]))
    code, message = refused(data)
    assert code == "grid-too-large"
    assert message == ("工作表“人员”的数据范围有1,048,576行×16,384列（17,179,869,184个单元格，最远到XFD1048576），"
                       f"超过上限{MAX_GRID_CELLS:,}个，已拒绝读取")


def test_declared_dimension_alone_refused() -> None:
    code, message = refused(declared_dimension_workbook(ROWS))
    assert code == "grid-too-large" and "1,000行×16,384列（16,384,000个单元格）" in message


def test_cell_beyond_excel_refused() -> None:
    code, message = refused(out_of_excel_workbook(ROWS))
    assert (code, message) == ("grid-too-large", "工作表中有超出Excel范围的单元格（第2000000行、第1列），疑似恶意构造的文件，已拒绝读取")


def test_a_wide_but_honest_grid_is_read() -> None:
    # 3 rows x 3 columns declared as such, and a far value still inside the cap (row 3000, column J)
    data = package(sheet_xml(ROWS, dimension="A1:J3000", far=[("J3000", "备注")]))
    parsed = parse(data)
    assert parsed.ok and [r.key for r in parsed.records if r.entity == "person"] == [ZHANG_WEI, LI_FANG]


@pytest.mark.parametrize("variant", ["backslash", "minimal", "both"])
def test_odd_packages_read_as_excel_does(variant: str) -> None:
    data = package(sheet_xml(ROWS), backslash=variant in ("backslash", "both"), minimal=variant in ("minimal", "both"))
    parsed = parse(data)
    assert parsed.issues == [] and parsed.rows_read == 2
    persons = [r for r in parsed.records if r.entity == "person"]
    assert [(r.key, r.values["name"], r.values["sex"]) for r in persons] == [(ZHANG_WEI, "张伟", "1"), (LI_FANG, "李芳", "2")]


def test_formula_cells_found_in_one_pass_over_bordered_empty_rows() -> None:
    rows = [["姓名", "身份证号", "出生日期"]] + [[f"人{i}", "", "1970-01-01"] for i in range(20)]
    data = formula_column_with_bordered_tail(rows, empty_rows=5000)
    start = time.perf_counter()
    book = open_workbook(data, "台账.xlsx")
    elapsed = time.perf_counter() - start
    assert book.issues == []
    # column D (index 3) of rows 2..21 (0-based 1..20) hold a formula without a cached value
    assert book.sheets[0].formula_no_value == {(r, 3) for r in range(1, 21)}
    assert elapsed < 2, elapsed  # the old regex: 72 s for 800 such rows


def test_formula_with_cached_value_and_addressless_cells() -> None:
    xml = (f'<?xml version="1.0" encoding="UTF-8"?><worksheet {NS}><sheetData>'
           '<row r="1"><c r="A1" t="inlineStr"><is><t>a</t></is></c><c r="B1"><f>1+1</f><v>2</v></c>'
           '<c r="C1"><f>1+2</f><v></v></c></row>'
           '<row r="4"><c t="inlineStr"><is><t>x</t></is></c><c/><c><f>NOW()</f></c></row>'
           '</sheetData></worksheet>')
    book = open_workbook(package(xml, name="S"), "t.xlsx")
    # C1: formula with an empty cached value; C4: the third cell of row 4 (no addresses: positions implied)
    assert book.issues == [] and book.sheets[0].formula_no_value == {(0, 2), (3, 2)}


def test_long_shared_strings_are_linear() -> None:
    start = time.perf_counter()
    book = open_workbook(long_shared_strings_workbook(2000, 2000), "t.xlsx")
    rows = list(book.sheets[0].rows)
    assert time.perf_counter() - start < 3
    assert len(rows) == 2000 and book.sheets[0].formula_no_value == {(r, 1) for r in range(2000)}


@pytest.mark.parametrize("size", [1, 5, 64, 1 << 20])
def test_scan_gives_the_same_answer_whatever_the_chunks(size: int) -> None:
    from importers.sheet_scan import FastSheetScan

    # a text holding "row>" just before a far cell, a prefixed sheet, a formula without a value
    xml = (f'<?xml version="1.0"?><x:worksheet {NS.replace("xmlns", "xmlns:x")}><x:sheetData>'
           '<x:row r="1"><x:c r="A1" t="inlineStr"><x:is><x:t>arrow></x:t></x:is></x:c>'
           '<x:c r="B1"><x:f>1+1</x:f></x:c></x:row>'
           '<x:row r="1048576"><x:c r="XFD1048576"><x:v>1</x:v></x:c></x:row></x:sheetData></x:worksheet>').encode()
    scan = FastSheetScan()
    for i in range(0, len(xml), size):
        scan.feed(xml[i:i + size])
    scan.close()
    assert not scan.needs_expat and scan.box == [1, 1, 1048576, 16384] and scan.formula_no_value == {(0, 1)}
    refused = scan.refusal("S")
    assert refused is not None and "最远到XFD1048576" in refused.message

"""Bad input: a clear Chinese file-level issue, no crash, no records, bounded time and memory."""

from __future__ import annotations

import resource
import time
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from legacy_ledgers import (
    LI_FANG,
    TODAY,
    WANG_JUN,
    ZHANG_WEI,
    blank_tail_workbook,
    code_lists,
    corrupt_zip,
    empty_workbook,
    encrypted_ole2,
    entity_bomb,
    formulas_workbook,
    pdf_bytes,
    persons_workbook,
    png_bytes,
    spaced_blank_rows_workbook,
    to_bytes,
    zip_bomb,
)

from importers.model import ParsedFile
from importers.pipeline import BLANK_RUN_STOP, parse_file

CL = code_lists()


def parse(data: bytes | Path, name: str = "台账.xlsx", **kw) -> ParsedFile:
    return parse_file(data, file_name=name, code_lists=CL, today=TODAY, **kw)


def only_issue(parsed: ParsedFile) -> tuple[str, str]:
    assert parsed.records == [] and parsed.rows_read == 0
    assert len(parsed.issues) == 1, parsed.issues
    issue = parsed.issues[0]
    assert issue.severity == "error" and issue.location["file"] == parsed.file_name and not parsed.ok
    return issue.code, issue.message


@pytest.mark.parametrize(("data", "what"), [(png_bytes(), "PNG图片"), (pdf_bytes(), "PDF文档")])
def test_not_a_spreadsheet_renamed_xlsx(data: bytes, what: str) -> None:
    code, message = only_issue(parse(data, "花名册.xlsx"))
    assert code == "not-a-spreadsheet" and message == f"这不是电子表格文件，而是{what}（与扩展名无关，按文件内容判断）"


def test_word_document_is_not_a_spreadsheet() -> None:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("word/document.xml", "<w:document/>")
    assert only_issue(parse(buf.getvalue())) == ("not-a-spreadsheet", "这不是电子表格文件，而是Word文档")


def test_corrupt_zip() -> None:
    code, message = only_issue(parse(corrupt_zip(to_bytes(persons_workbook()))))
    assert code == "corrupt-zip" and message.startswith("文件已损坏")


def test_zip_bomb_refused_before_parsing() -> None:
    data = zip_bomb()
    assert len(data) < 2_000_000
    start = time.perf_counter()
    code, message = only_issue(parse(data))
    assert time.perf_counter() - start < 2  # refused from the declared sizes, nothing inflated
    assert code == "zip-bomb" and "压缩炸弹" in message and "xl/worksheets/sheet1.xml" in message


def test_xml_entity_bomb_refused() -> None:
    code, message = only_issue(parse(entity_bomb(to_bytes(persons_workbook()))))
    assert code == "xml-entities" and "XML炸弹" in message


def test_password_protected_workbook() -> None:
    code, message = only_issue(parse(encrypted_ole2()))
    assert code == "password-protected" and message == "工作簿设置了打开密码（已加密），无法读取"


def test_empty_workbook() -> None:
    parsed = parse(empty_workbook())
    assert parsed.records == [] and not parsed.ok
    assert [i.code for i in parsed.issues] == ["empty-sheet", "no-header"]
    assert parsed.issues[1].message.startswith("没有找到可识别的表头")


def test_empty_file() -> None:
    assert only_issue(parse(b"")) == ("file-empty", "文件是空的（0字节）")


def test_million_formatted_blank_rows() -> None:
    data = blank_tail_workbook(1_000_000)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    parsed = parse(data)
    elapsed = time.perf_counter() - start
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert elapsed < 10 and grown_mb < 300, (elapsed, grown_mb)
    assert parsed.ok and parsed.rows_read == 2
    assert [r.key for r in parsed.records] == [ZHANG_WEI, LI_FANG]


def test_a_long_run_of_blank_rows_ends_the_sheet() -> None:
    parsed = parse(to_bytes(spaced_blank_rows_workbook(BLANK_RUN_STOP + 5)))
    assert [r.key for r in parsed.records] == [ZHANG_WEI]
    assert [(i.code, i.severity) for i in parsed.issues] == [("blank-tail", "warning")]
    assert "第3行起连续1000行为空" in parsed.issues[0].message
    # a shorter gap is just skipped
    parsed = parse(to_bytes(spaced_blank_rows_workbook(50)))
    assert [r.key for r in parsed.records] == [ZHANG_WEI, LI_FANG] and parsed.skipped["blank"] == 50


def test_formulas_cached_value_missing_value_and_text_starting_with_equals() -> None:
    parsed = parse(formulas_workbook())
    persons = {r.source.row: r for r in parsed.records if r.entity == "person"}
    # C2 = DATE(1968,3,5) saved with its cached value (a serial): the value is taken, nothing is computed
    assert persons[2].ok and persons[2].values["birth_date"] == date(1968, 3, 5)
    # C3 = DATE(1970,7,9) without a cached value: a per-cell error
    issue = next(i for i in persons[3].issues if i.code == "formula-no-value")
    assert issue.location == {"sheet": "人员", "row": 3, "column": "C", "field": "出生日期"}
    assert not persons[3].ok
    # a text starting with "=" is kept as text
    assert persons[4].values["name"] == '=HYPERLINK("http://x")' and persons[4].key == WANG_JUN


def test_file_over_the_upload_limit(tmp_path: Path) -> None:
    data = to_bytes(persons_workbook())
    path = tmp_path / "big.xlsx"
    path.write_bytes(data)
    for source in (data, path):
        code, message = only_issue(parse(source, max_bytes=1000))
        assert code == "file-too-large" and message.startswith("文件过大") and "超过上传上限1000字节" in message
    assert parse(path, max_bytes=len(data)).ok


@pytest.mark.parametrize("data", [
    "name,id\ncafé,x\nMüller,y\n".encode("latin-1"),  # Latin-1: neither UTF-8 nor GBK
    "姓名,身份证号\n".encode("utf-16-le"),  # UTF-16 without a BOM
    bytes(range(128, 256)) * 20,
])
def test_csv_in_an_unknown_encoding(data: bytes) -> None:
    code, message = only_issue(parse(data, "名单.csv"))
    assert code in ("unknown-encoding", "not-a-spreadsheet")
    if code == "unknown-encoding":
        assert message == "无法识别CSV文件的文字编码（不是UTF-8，也不是GBK/GB18030）"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "utf-16"])
def test_csv_encodings_that_work(encoding: str) -> None:
    data = f"姓名,身份证号\n张伟,{ZHANG_WEI}\n".encode(encoding)
    parsed = parse(data, "名单.csv")
    assert parsed.ok and [(r.key, r.values["name"]) for r in parsed.records] == [(ZHANG_WEI, "张伟")]


def test_no_header_anywhere() -> None:
    parsed = parse("甲,乙,丙\n1,2,3\n".encode(), "x.csv")
    assert parsed.records == [] and [i.code for i in parsed.issues] == ["no-header-sheet", "no-header"]


def test_entity_declaration_hidden_after_a_long_comment_is_found() -> None:
    import io
    import zipfile

    good = to_bytes(persons_workbook())
    src = zipfile.ZipFile(io.BytesIO(good))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/sharedStrings.xml" or info.filename == "xl/worksheets/sheet1.xml":
                body = data.split(b"?>", 1)[-1]
                data = b'<?xml version="1.0"?><!--' + b"x" * 3_000_000 + b'--><!DOCTYPE a [<!ENTITY b "c">]>' + body
            out.writestr(info, data)
    assert only_issue(parse(buf.getvalue()))[0] == "xml-entities"


def test_csv_with_a_runaway_quote_is_a_file_issue() -> None:
    data = ("姓名,身份证号\n" f'张伟,{ZHANG_WEI}\n"李芳,' + "x" * 1_100_000 + "\n").encode()
    parsed = parse(data, "坏.csv")
    assert [i.code for i in parsed.issues] == ["csv-broken"] and not parsed.ok
    assert parsed.issues[0].message.startswith("CSV文件格式有误") and "引号" in parsed.issues[0].hint


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=3000))
def test_parse_file_never_raises_on_random_bytes(data: bytes) -> None:
    parsed = parse(data, "随机.xlsx")
    assert isinstance(parsed, ParsedFile)
    assert parsed.records or parsed.issues or parsed.rows_read == 0


_cell = st.one_of(st.text(max_size=25), st.sampled_from(["姓名", "身份证号", "户号", "性别", "出生日期", "与户主关系", "合计", ""]),
                  st.integers(min_value=-10**19, max_value=10**19).map(str))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(_cell, min_size=1, max_size=7), min_size=1, max_size=12))
def test_parse_file_never_raises_on_random_csv_grids(grid: list[list[str]]) -> None:
    import csv
    import io

    buf = io.StringIO()
    csv.writer(buf).writerows(grid)
    parsed = parse(buf.getvalue().encode("utf-8"), "随机.csv")
    assert isinstance(parsed, ParsedFile)
    for rec in parsed.records:
        assert rec.ok or any(i.severity == "error" for i in rec.issues)
        assert all(i.message and i.code for i in rec.issues)


def test_a_grid_hypothesis_once_found_slow_parses_at_once() -> None:
    """Regression: outside an app every header looked up re-read the seed files (the synonym cache
    followed a dictionary rebuilt on each call), so this grid of four rows took 4-10 s."""
    import csv
    import io

    grid = [[""], ["", "", "", "单位", "0#Æ", "", ""], ["", "", "\U000cea3e"], ["", "\U000b17bc³\x12¹"]]
    buf = io.StringIO()
    csv.writer(buf).writerows(grid)
    started = resource.getrusage(resource.RUSAGE_SELF).ru_utime
    parsed = parse(buf.getvalue().encode("utf-8"), "随机.csv")
    assert [i.code for i in parsed.issues] == ["no-header-sheet", "no-header"]
    from importers import synonyms

    assert synonyms._synonyms() is synonyms._synonyms()  # built once, not once per header
    assert resource.getrusage(resource.RUSAGE_SELF).ru_utime - started < 2.0


def test_unicode_digits_in_cells_are_text_not_a_crash() -> None:
    """Regression (Hypothesis): "²".isdigit() is true but int("²") raises; a column of such cells under a
    known header must not crash the reader."""
    data = f"姓名,身份证号\n²,³\n张伟,{ZHANG_WEI}\n李芳,{LI_FANG}\n".encode()  # a row under the header, like 1 2
    parsed = parse(data, "上标.csv")
    assert parsed.rows_read == 3 and [r.values.get("name") for r in parsed.records if r.ok] == ["张伟", "李芳"]

"""The rejected-rows workbook (fix and re-import) and mapping-file validation."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from legacy_ledgers import CHEN_NUM, TODAY, ZHAO_MIN, code_lists, persons_workbook, to_bytes

from app.issues import ValidationFailed
from importers.mapping import load_mapping, parse_mapping
from importers.pipeline import parse_file
from importers.rejects import REASON_HEADER, WHERE_HEADER, write_rejects

CL = code_lists()


def parse(data: bytes, name: str = "花名册.xlsx"):
    return parse_file(data, file_name=name, code_lists=CL, today=TODAY)


def test_rejects_workbook_lists_original_rows_reasons_and_highlights_cells() -> None:
    parsed = parse(to_bytes(persons_workbook()))
    rejected = [r for r in parsed.records if not r.ok]
    buf = io.BytesIO()
    write_rejects(parsed, rejected, buf)
    ws = openpyxl.load_workbook(io.BytesIO(buf.getvalue()))["花名册"]
    rows = list(ws.iter_rows())
    header = [c.value for c in rows[0]]
    assert header == ["序号", "户号", "户主姓名", "家庭住址", "家庭成员/姓 名", "家庭成员/公民身份号码", "家庭成员/性别",
                      "家庭成员/出生日期", "家庭成员/民族", "家庭成员/与户主关系", "联系电话", REASON_HEADER, WHERE_HEADER]
    assert len(rows) == 3  # rows 13 and 14 of the source
    chen, zhao = ([c for c in row] for row in rows[1:])
    # the member row carries its household's filled-down cells, so it stands on its own
    assert [c.value for c in chen[:5]] == [7, "H002", "王军", "东湖村2组3号", "陈明"]
    assert chen[12].value == "工作表 花名册 第13行"
    assert "末尾几位已丢失" in chen[11].value
    assert chen[5].fill.fgColor.rgb == "00FFC7CE" and "无法还原" in chen[5].comment.text
    assert chen[4].fill.fill_type is None and chen[4].comment is None
    # two reasons for 赵敏: wrong birth date (ID column highlighted: the refusal) and a bad phone (a warning:
    # the phone alone would only have been dropped)
    assert zhao[5].fill.fgColor.rgb == "00FFC7CE" and zhao[10].fill.fgColor.rgb == "00FFEB9C"
    # ... and the household the refused head heads (H003) waits with it
    assert zhao[11].value.count("\n") == 2 and "同一行的其他数据" not in zhao[11].value and "户H003暂不导入" in zhao[11].value


def test_rejects_reimport_recognises_the_header_and_the_fixed_rows() -> None:
    parsed = parse(to_bytes(persons_workbook()))
    buf = io.BytesIO()
    write_rejects(parsed, [r for r in parsed.records if not r.ok], buf)
    wb = openpyxl.load_workbook(io.BytesIO(buf.getvalue()))
    ws = wb["花名册"]
    ws["F2"] = CHEN_NUM  # the user types the number as text
    ws["H3"] = "1988-08-08"
    ws["K3"] = "13900003333"
    fixed = io.BytesIO()
    wb.save(fixed)
    again = parse(fixed.getvalue(), "花名册-修改.xlsx")
    assert again.issues == [] and again.rows_read == 2
    persons = {r.key: r for r in again.records if r.entity == "person"}
    assert set(persons) == {CHEN_NUM, ZHAO_MIN} and all(r.ok for r in again.records)
    assert persons[CHEN_NUM].values["household_number"] == "H002" and persons[CHEN_NUM].values["relation"] == "41"
    assert persons[ZHAO_MIN].values["birth_date"] == date(1988, 8, 8)
    assert again.mapping["花名册"]["家庭成员/公民身份号码"] == "person.id_number"


def test_rejects_keep_text_starting_with_equals_as_text(tmp_path: Path) -> None:
    data = "姓名,身份证号\n=1+2,123\n".encode()
    parsed = parse(data, "x.csv")
    target = tmp_path / "rejects.xlsx"
    write_rejects(parsed, [r for r in parsed.records if not r.ok], target)
    cell = openpyxl.load_workbook(target)["x"]["A2"]
    assert cell.value == "=1+2" and cell.data_type == "s"


def test_mapping_file_errors_name_the_place_and_suggest(tmp_path: Path) -> None:
    path = tmp_path / "低保映射.yaml"
    path.write_text("""
colums:
  a: person.name
columns:
  证件: person.id_numbr
  待遇: dibao.kind
tag: 低宝
header_rows: 4-2
defaults:
  area.cod: "1"
sheets:
  说明: {skip: yes please}
""", encoding="utf-8")
    with pytest.raises(ValidationFailed) as exc:
        load_mapping(path)
    found = {(i.code, i.location["path"]): i for i in exc.value.issues}
    assert set(found) == {("unknown-key", "colums"), ("unknown-field", "columns.证件"), ("unknown-tag", "tag"),
                          ("header-rows", "header_rows"), ("unknown-field", "defaults.area.cod"), ("wrong-type", "sheets.说明.skip")}
    assert all(i.location["file"] == "低保映射.yaml" for i in exc.value.issues)
    assert found[("unknown-key", "colums")].hint == "是否想写“columns”？"
    assert found[("unknown-field", "columns.证件")].hint.startswith(
        "是否想写“person.id_number”？person.开头的可用字段：person.id_number（公民身份号码）、person.name（姓名）、")
    assert found[("unknown-field", "columns.证件")].message == "未知的字段“person.id_numbr”"
    assert found[("unknown-field", "defaults.area.cod")].hint.startswith("是否想写“area.code”？area.开头的可用字段：area.code（")


def test_mapping_yaml_syntax_error_names_the_line() -> None:
    with pytest.raises(ValidationFailed) as exc:
        parse_mapping("columns:\n  a: b\n c: [\n", "m.yaml")
    issue = exc.value.issues[0]
    assert issue.code == "mapping-yaml" and "第3行" in issue.message and issue.location == {"file": "m.yaml"}


def test_mapping_per_sheet_overrides_all_sheets() -> None:
    m = parse_mapping("""
columns: {A: person.name, B: person.id_number}
tag: dibao
sheets:
  二组:
    columns: {A: household.head_name}
    tag: 特困
  说明: {skip: true}
""")
    two = m.for_sheet("二组")
    assert two.columns == {"A": "household.head_name", "B": "person.id_number"} and two.tag == "tekun"
    assert m.for_sheet("一组").tag == "dibao" and m.for_sheet("说明").skip


def test_mapping_as_data_is_checked_the_same_way() -> None:
    from legacy_ledgers import ZHANG_WEI

    data = f"名字,证件\n张伟,{ZHANG_WEI}\n".encode()
    parsed = parse_file(data, file_name="m.csv", code_lists=CL, today=TODAY,
                        mapping={"columns": {"名字": "person.name", "证件": "person.id_number"}})
    assert [(r.entity, r.key) for r in parsed.records] == [("person", ZHANG_WEI)]
    parsed = parse_file(data, file_name="m.csv", code_lists=CL, today=TODAY, mapping={"columns": {"证件": "person.idnumber"}})
    assert parsed.records == [] and [(i.code, i.location["path"], i.hint.split("？")[0]) for i in parsed.issues] == [
        ("unknown-field", "columns.证件", "是否想写“person.id_number”")]


def test_unknown_tag_attribute_lists_the_tag_attributes_in_chinese() -> None:
    with pytest.raises(ValidationFailed) as exc:
        parse_mapping("defaults:\n  dibao.kinds: 农村低保\n", "m.yaml")
    (issue,) = exc.value.issues
    assert issue.message == "未知的字段“dibao.kinds”"
    assert issue.hint == ("是否想写“dibao.kind”？标签“低保”的可用字段：dibao.kind（低保类别）、dibao.monthly_amount（月保障金额）、"
                          "dibao.covered_persons（保障人数）")
    with pytest.raises(ValidationFailed) as exc:
        parse_mapping("columns:\n  甲: xyz\n", "m.yaml")
    hint = exc.value.issues[0].hint
    assert hint.startswith("可用的字段：person.id_number（公民身份号码）") and hint.endswith("、ignore（忽略此列）")
    assert "dibao.kind（低保类别）" in hint and "household.number（" in hint


def test_comments_are_capped_fills_are_not(monkeypatch: pytest.MonkeyPatch) -> None:
    import importers.rejects as rejects

    monkeypatch.setattr(rejects, "MAX_COMMENTS", 1)
    parsed = parse("姓名,身份证号\n张三,123\n李四,456\n".encode(), "x.csv")
    buf = io.BytesIO()
    write_rejects(parsed, [r for r in parsed.records if not r.ok], buf)
    ws = openpyxl.load_workbook(io.BytesIO(buf.getvalue()))["x"]
    assert ws["B2"].comment is not None and ws["B3"].comment is None
    assert ws["B2"].fill.fgColor.rgb == ws["B3"].fill.fgColor.rgb == "00FFC7CE"
    assert "18位" in ws["C3"].value  # the reason is still in the reasons column

"""CSV and JSON exports: BOM, header paths, neutralised values, IDs as text."""

from __future__ import annotations

import csv
import io
import json

import pytest

from app.issues import ValidationFailed
from app.reporting.flat import to_json, write_csv, write_json


def _csv_rows(path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))


def test_csv_has_bom_and_header_paths(summary, tmp_path):
    path = tmp_path / "summary.csv"
    write_csv(summary, path)
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    rows = _csv_rows(path)
    assert rows[0] == ["地区", "低保/户数", "低保/人数/合计", "低保/人数/其中：女", "保障金额", "覆盖率"]
    assert rows[1][:3] == ["合计", "90", "150"]  # the total row, with its label
    assert rows[2][0] == "测试镇"
    assert rows[3] == ["测试村001", "30", "50", "20", "12.5", "0.05"]
    assert len(rows) == 1 + 5


def test_csv_neutralises_text_and_keeps_ids_and_numbers(roster, tmp_path):
    path = tmp_path / "roster.csv"
    write_csv(roster, path)
    rows = _csv_rows(path)
    header = rows[0]
    assert header[:5] == ["户号", "户主", "地址", "姓名", "身份证号"]
    by_name = [dict(zip(header, r, strict=True)) for r in rows[1:]]
    assert by_name[0]["身份证号"] == "51010419900101123X"
    assert by_name[1]["身份证号"] == "510104201001011234"
    assert by_name[1]["姓名"] == "'=SUM(A1)"
    assert by_name[1]["联系电话"] == "'+86123"
    assert by_name[2]["姓名"] == "测试人员0003"  # control character stripped
    assert by_name[2]["年龄"] == "-1"  # a negative number is not neutralised
    assert by_name[2]["联系电话"] == ""
    assert by_name[0]["纳入日期"] == "2024-01-15"
    assert by_name[1]["户号"] == "H0001"  # flat export repeats household values
    assert by_name[-1]["户号"] == "合计"


def test_csv_other_sheet_and_file_object(summary, roster, tmp_path):
    summary.sheets.append(roster.sheets[0])
    buf = io.BytesIO()
    write_csv(summary, buf, sheet="花名册")
    assert buf.getvalue().decode("utf-8-sig").splitlines()[0].startswith("户号,户主")
    buf = io.BytesIO()
    write_csv(summary, buf, sheet=1)
    assert "户号" in buf.getvalue().decode("utf-8-sig")
    with pytest.raises(KeyError):
        write_csv(summary, io.BytesIO(), sheet="不存在")


def test_json_structure(summary):
    data = to_json(summary)
    assert data["meta"]["report"] == "minzheng-dibao-summary@3"
    assert list(data["statutory"]) == ["表号", "制定机关", "批准机关", "批准文号", "有效期至"]
    assert data["footer"][-1] == {"label": "报出日期", "value": "2025年7月5日"}
    sheet = data["sheets"][0]
    assert sheet["column_numbers"] == ["甲", "1", "2", "3", "4", "5"]
    columns = {c["key"]: c for c in sheet["columns"]}
    assert columns["dibao_female"]["path"] == ["低保", "人数", "其中：女"]
    assert columns["amount"]["kind"] == "decimal" and columns["amount"]["decimals"] == 2
    assert sheet["rows"][0] == {
        "_kind": "total",
        "area": "合计",
        "dibao_households": 90,
        "dibao_total": 150,
        "dibao_female": 60,
        "amount": 37.5,
        "rate": 0.05,
    }
    assert [r["_kind"] for r in sheet["rows"]] == ["total", "subtotal", "data", "data", "data"]


def test_json_values_neutralised_and_file_is_utf8(roster, tmp_path):
    rows = to_json(roster)["sheets"][0]["rows"]
    assert rows[1]["name"] == "'=SUM(A1)" and rows[1]["phone"] == "'+86123"
    assert rows[0]["id_number"] == "51010419900101123X" and rows[0]["_group"] == "H0001"
    assert rows[2]["name"] == "测试人员0003" and rows[2]["age"] == -1
    assert rows[0]["since"] == "2024-01-15"
    path = tmp_path / "roster.json"
    write_json(roster, path)
    raw = path.read_bytes()
    assert "测试人员0001".encode() in raw  # ensure_ascii=False
    assert json.loads(raw)["sheets"][0]["rows"][1]["name"] == "'=SUM(A1)"


def test_flat_exports_validate_the_report(summary):
    summary.sheets[0].merge_columns = ["nope"]
    with pytest.raises(ValidationFailed):
        to_json(summary)
    with pytest.raises(ValidationFailed):
        write_csv(summary, io.BytesIO())

"""Reconciliation of a hand-made report with the generated one, on the hand-made county.

The hand file is the department's own form (the generated xlsx of mca_needy_by_village for the county
on 2025-06-30) edited as a person would: 甲村 人数 3 → 4, the row 乙村 deleted, an extra row 丁村, and
labels and numbers written with extra and full-width spaces, full-width digits and 总 计 for 合计.
Generated values (hand_data.py): 合计 3 5 0 3 1700 0 2 1 1 1 0; 甲村 1 3 0 1 800 0 1 0 1 1 0;
乙村 all 0; 丙村 2 2 0 2 900 0 1 1 0 0 0.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask.testing import FlaskCliRunner
from hand_data import V1, V3, HandCounty
from openpyxl import load_workbook

from app.services.reconcile import norm, number

REPORT = "mca_needy_by_village"


def _hand_file(runner: FlaskCliRunner, tmp_path: Path, keep_numbers_row: bool = True) -> Path:
    generated = tmp_path / "generated.xlsx"
    result = runner.invoke(args=["report", "run", REPORT, "--as-of", "2025-06-30", "--format", "xlsx",
                                 "--out", str(generated)])
    assert result.exit_code == 0, result.output
    wb = load_workbook(generated)
    ws = wb.active
    rows = {ws.cell(r, 1).value: r for r in range(1, ws.max_row + 1)}
    ws.cell(rows["合计"], 1).value = "总\u3000计"
    ws.cell(rows["青石镇小计"], 1).value = "青石镇 小计"
    ws.cell(rows["丙村"], 1).value = "  丙 村 "
    ws.cell(rows["丙村"], 6).value = "９００"        # full-width digits, same value as generated
    ws.cell(rows["石门乡小计"], 6).value = "9,00"    # with a stray thousands separator: 900
    ws.cell(rows["甲村"], 3).value = 4               # changed: generated 3
    ws.delete_rows(rows["乙村"])                     # missing row
    extra = rows["丙村"]                             # (one up after the deletion) append 丁村 below 丙村
    ws.insert_rows(extra)
    ws.cell(extra, 1).value = "丁村"
    ws.cell(extra, 2).value = 1
    ws.cell(extra, 3).value = 2
    if not keep_numbers_row:
        ws.delete_rows(rows["甲"])
    hand = tmp_path / "手工表.xlsx"
    wb.save(hand)
    return hand


EXPECTED = (
    [("甲村", 2, 4, 3, "changed")]
    + [("乙村", n, None, 0, "missing_row") for n in range(1, 12)]
    + [("丁村", 1, 1, None, "extra_row"), ("丁村", 2, 2, None, "extra_row")]
)


@pytest.mark.parametrize("numbers_row", [True, False], ids=["by-column-numbers", "by-header-labels"])
def test_changed_missing_and_extra_rows(runner: FlaskCliRunner, hand: HandCounty, tmp_path: Path,
                                        numbers_row: bool) -> None:
    hand_file = _hand_file(runner, tmp_path, numbers_row)
    out = tmp_path / "diff.xlsx"
    result = runner.invoke(args=["report", "reconcile", REPORT, str(hand_file), "--as-of", "2025-06-30",
                                 "--format", "json", "--out", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    got = [(d["row"], d["column"], d["hand"], d["generated"], d["status"]) for d in data["differences"]]
    assert got == EXPECTED, (data['notes'], got)
    assert data["rows_matched"] == 5 and data["columns_matched"] == list(range(1, 12))
    changed = data["differences"][0]
    assert changed["area_code"] == V1 and changed["column_label"] == "人数"
    assert changed["link"] == f"ybt report explain {REPORT}@1 --area {V1} --as-of 2025-06-30 --column 2"
    sheet = load_workbook(out).active
    body = [r for r in sheet.iter_rows(min_row=4, values_only=True)]
    assert len(body) == len(EXPECTED)
    assert body[0][:8] == ("甲村", V1, 2, "人数", 4, 3, 1, "数值不同")
    assert body[-1][:8] == ("丁村", None, 2, "人数", 2, None, None, "手工表多出此行")


def test_identical_file_has_no_differences_and_text_output(runner: FlaskCliRunner, hand: HandCounty,
                                                           tmp_path: Path) -> None:
    generated = tmp_path / "same.xlsx"
    runner.invoke(args=["report", "run", REPORT, "--area", "339901200000", "--as-of", "2025-06-30", "--format",
                        "xlsx", "--out", str(generated)])
    result = runner.invoke(args=["report", "reconcile", REPORT, str(generated), "--area", "339901200000",
                                 "--as-of", "2025-06-30", "--format", "json"])
    assert json.loads(result.output)["differences"] == []
    text = runner.invoke(args=["report", "reconcile", REPORT, str(generated), "--area", "339901200000",
                               "--as-of", "2025-06-30"])
    assert "对齐 2 行、11 栏，差异 0 处" in text.output  # 合计 and 丙村 (a township's report has no subtotal)
    assert V3


def test_unrelated_or_broken_files_are_refused_in_chinese(runner: FlaskCliRunner, hand: HandCounty,
                                                          tmp_path: Path) -> None:
    pdf = tmp_path / "scan.xlsx"
    pdf.write_bytes(b"%PDF-1.4 not a sheet")
    bad = runner.invoke(args=["report", "reconcile", REPORT, str(pdf), "--as-of", "2025-06-30"])
    assert bad.exit_code == 1 and "这不是电子表格文件" in bad.output
    other = tmp_path / "other.csv"
    other.write_text("姓名,年龄\n张三,3\n", encoding="utf-8")
    refused = runner.invoke(args=["report", "reconcile", REPORT, str(other), "--as-of", "2025-06-30"])
    assert refused.exit_code == 1 and "找不到与生成报表对应的行" in refused.output


def test_label_and_number_normalisation() -> None:
    assert norm(" 青石镇\u3000小计 ") == "青石镇小计" == norm("小计（青石镇）")
    assert norm("总 计") == norm("全县合计") == norm("合计") == "合计"
    assert number("１,２３４.５") == 1234.5 and number("-") is None and number(" ") is None
    assert number("约30") == "约30" and number(7) == 7.0


def test_a_roster_cannot_be_reconciled(runner: FlaskCliRunner, hand: HandCounty, tmp_path: Path) -> None:
    file = tmp_path / "x.csv"
    file.write_text("姓名\n甲一\n", encoding="utf-8")
    result = runner.invoke(args=["report", "reconcile", "mca_dibao_roster", str(file)])
    assert result.exit_code == 1 and "目前只能核对汇总表" in result.output

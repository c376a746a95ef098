"""Reverse mapping: hand-made department forms (built here with openpyxl) with known answers.

Each form is laid out the way county departments print them — titles, a statutory block in some
corner, a unit line, merged two- and three-level headers, 其中 / 按…分 groups, a 栏次 row, 合计 /
乡镇 / 村 rows — and worded differently from the shipped reports. The expected indicator of each column
was decided by hand from the dictionary (forms_registry/indicators); ``None`` marks a column the
dictionary has no indicator for, which must stay unmatched rather than be matched wrongly.
"""

from __future__ import annotations

import io
import json
from dataclasses import replace

import pytest
import yaml
from openpyxl import Workbook

from app.issues import ValidationFailed
from app.registry.draft import draft_form, match_column, to_yaml
from app.registry.indicator_list import all_indicators
from app.registry.loader import REGISTRY_DIR, load_registry, parse_report, seed_context


@pytest.fixture(scope="module")
def registry():
    return load_registry(REGISTRY_DIR)


@pytest.fixture(scope="module")
def indicators(registry):
    return all_indicators(registry)


def _book(cells: dict[str, object], merges: list[str]) -> bytes:
    wb = Workbook()
    ws = wb.active
    for ref, value in cells.items():
        ws[ref] = value
    for m in merges:
        ws.merge_cells(m)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def mca_three_level() -> bytes:
    """民政: three header levels (低保 → 其中 → 城市/农村), statutory block top right, blank template."""
    cells = {
        "A1": "困难群众分村汇总表（月报）",
        "K2": "表号：民救1表",
        "A3": "填报单位：", "K3": "制定机关：云溪县民政局",
        "K4": "批准文号：云统制〔2025〕3号",
        "A5": "单位：户、人、元", "K5": "有效期至：2027年12月31日",
        "A6": "单位名称", "B6": "低保", "G6": "低保边缘户", "H6": "特困人员", "K6": "留守儿童", "L6": "孤儿",
        "M6": "临时救助人次",
        "B7": "户数", "C7": "人数", "D7": "其中", "F7": "月保障金额（元）", "H7": "合计", "I7": "集中供养",
        "J7": "分散供养",
        "D8": "城市低保户", "E8": "农村低保户",
        "A9": "甲", **{f"{c}9": i for i, c in enumerate("BCDEFGHIJKLM", 1)},
        "A10": "合计", "A11": "青山镇小计", "A12": "青山村", "A13": "绿水村",
        "A15": "单位负责人：          填表人：          报出日期：",
    }
    merges = ["A1:M1", "A6:A8", "B6:F6", "G6:G8", "H6:J6", "K6:K8", "L6:L8", "M6:M8", "B7:B8", "C7:C8", "D7:E7",
              "F7:F8", "H7:H8", "I7:I8", "J7:J8"]
    return _book(cells, merges)


MCA_EXPECTED = [
    ("低保", "户数", "HH_DIBAO"), ("低保", "人数", "P_DIBAO"),
    ("低保/其中", "城市低保户", "HH_DIBAO_URBAN"), ("低保/其中", "农村低保户", "HH_DIBAO_RURAL"),
    ("低保", "月保障金额（元）", "AMT_DIBAO_MONTH"), ("", "低保边缘户", "HH_DIBAO_EDGE"),
    ("特困人员", "合计", "P_TEKUN"), ("特困人员", "集中供养", "P_TEKUN_CENTRAL"),
    ("特困人员", "分散供养", "P_TEKUN_DISPERSED"), ("", "留守儿童", "P_LEFT_CHILD"), ("", "孤儿", "P_ORPHAN"),
    ("", "临时救助人次", None),
]


def cdpf_filled() -> bytes:
    """残联: two levels with 按…分 groups, statutory block BELOW the table (value in the next cell),
    a filled copy with the 合计 row at the bottom."""
    cells = {
        "A1": "残疾人基本情况统计表",
        "A2": "计量单位：人",
        "A3": "村（社区）", "B3": "持证残疾人总数", "C3": "按残疾类别分", "J3": "按残疾等级分", "N3": "享受两项补贴人数",
        "C4": "视力", "D4": "听力残疾", "E4": "言语", "F4": "肢体残疾", "G4": "智力残疾", "H4": "精神残疾",
        "I4": "多重残疾", "J4": "一级", "K4": "二级", "L4": "三级", "M4": "四级",
        "A5": "青山村", "A6": "绿水村", "A7": "合计",
        "A9": "表号：", "B9": "残联统2表", "E9": "制定机关：云溪县残疾人联合会",
        "A10": "有效期至", "B10": "2099-12-31",
    }
    village_a = [12, 2, 1, 0, 6, 1, 2, 0, 1, 3, 4, 4, 5]
    village_b = [8, 1, 1, 1, 3, 1, 1, 0, 0, 2, 3, 3, 2]
    for row, values in ((5, village_a), (6, village_b), (7, [a + b for a, b in zip(village_a, village_b, strict=True)])):
        for i, v in enumerate(values):
            cells[f"{'BCDEFGHIJKLMN'[i]}{row}"] = v
    merges = ["A3:A4", "B3:B4", "C3:I3", "J3:M3", "N3:N4"]
    return _book(cells, merges)


CDPF_EXPECTED = [
    ("", "持证残疾人总数", "P_DISABLED"),
    *[("按残疾类别分", label, f"P_DISABLED_CAT{i}") for i, label in
      enumerate(["视力", "听力残疾", "言语", "肢体残疾", "智力残疾", "精神残疾", "多重残疾"], 1)],
    *[("按残疾等级分", label, f"P_DISABLED_GRADE{i}") for i, label in enumerate(["一级", "二级", "三级", "四级"], 1)],
    ("", "享受两项补贴人数", None),
]


def stats_township() -> bytes:
    """统计: two levels with units in the labels and a 其中 column, statutory block on the left above the
    header, township rows, blank."""
    cells = {
        "A1": "乡镇人口基本情况年报",
        "A2": "表号：统基2表", "E2": "批准文号：云统制〔2025〕8号",
        "A3": "乡镇", "B3": "户籍户数（户）", "C3": "户籍人口（人）", "F3": "常住人口（人）", "G3": "流动人口（人）",
        "H3": "村干部人数（人）",
        "C4": "合计", "D4": "其中：男", "E4": "女",
        "A5": "合计", "A6": "青山镇", "A7": "绿水乡",
    }
    merges = ["A3:A4", "B3:B4", "C3:E3", "F3:F4", "G3:G4", "H3:H4"]
    return _book(cells, merges)


STATS_EXPECTED = [
    ("", "户籍户数（户）", "HH_REGISTERED"), ("户籍人口（人）", "合计", "P_REGISTERED"),
    ("户籍人口（人）", "其中：男", "P_REGISTERED_MALE"), ("户籍人口（人）", "女", "P_REGISTERED_FEMALE"),
    ("", "常住人口（人）", "P_RESIDENT"), ("", "流动人口（人）", None), ("", "村干部人数（人）", None),
]


def _answers(draft):
    return [(c.path, c.label, c.indicator) for c in draft.columns]


def test_three_level_header_with_statutory_block_top_right(indicators):
    draft = draft_form(mca_three_level(), "民政.xlsx", indicators)
    assert _answers(draft) == MCA_EXPECTED
    assert draft.title == "困难群众分村汇总表（月报）"
    assert draft.statutory == {"表号": "民救1表", "制定机关": "云溪县民政局", "批准文号": "云统制〔2025〕3号",
                               "有效期至": "2027-12-31"}
    assert draft.unit_line == "单位：户、人、元"
    assert draft.rows == {"level": "village", "subtotals": True, "total": "top"}
    assert draft.column_numbers and not draft.filled
    assert draft.department == "mca" and draft.frequency == "monthly"
    assert draft.columns[4].unit == "元"


def test_two_level_groups_statutory_block_below_and_filled_numbers(indicators):
    draft = draft_form(cdpf_filled(), "残联.xlsx", indicators)
    assert _answers(draft) == CDPF_EXPECTED
    assert draft.statutory == {"表号": "残联统2表", "制定机关": "云溪县残疾人联合会", "有效期至": "2099-12-31"}
    assert draft.unit_line == "单位：人"
    assert draft.rows == {"level": "village", "subtotals": False, "total": "bottom"}
    assert draft.filled
    assert [c.file_total for c in draft.columns][:3] == [20, 3, 2]
    assert draft.department == "cdpf"


def test_units_in_labels_and_a_qizhong_column_township_rows(indicators):
    draft = draft_form(stats_township(), "统计.xlsx", indicators)
    assert _answers(draft) == STATS_EXPECTED
    assert draft.statutory == {"表号": "统基2表", "批准文号": "云统制〔2025〕8号"}
    assert draft.rows == {"level": "township", "subtotals": False, "total": "top"}
    assert draft.frequency == "yearly"


@pytest.mark.parametrize("path,label,unit", [
    ("", "人数", ""),  # no group: which persons?
    ("", "村干部人数", ""),
    ("低保", "户数", "人"),  # 户 counted in 人: the unit contradicts 低保户数
    ("", "60岁以上老人", ""),  # neither 60周岁及以上 (民政) nor 65 — left for a person to decide
])
def test_unsure_columns_stay_unmatched(indicators, path, label, unit):
    code, _score, _best = match_column(path, label, unit, indicators)
    assert code is None


def test_draft_yaml_checks_with_one_warning_per_unmatched_column(indicators, registry):
    draft = draft_form(mca_three_level(), "民政.xlsx", indicators)
    text = to_yaml(draft, "draft_mca_needy")
    ctx = seed_context()
    ctx.indicators = registry.indicators
    spec, issues = parse_report(text, "draft.yaml", ctx)
    assert [i.severity for i in issues] == ["warning"]
    assert issues[0].code == "unmatched-column" and "临时救助人次" in issues[0].message
    assert spec is not None and [leaf.indicator for leaf in spec.leaves()] == [e[2] for e in MCA_EXPECTED]
    assert spec.valid_until.isoformat() == "2027-12-31"
    doc = yaml.safe_load(text)
    assert doc["columns"][0]["label"] == "低保" and doc["columns"][0]["children"][2]["label"] == "其中"


def test_a_tag_named_in_an_unmatched_label_suggests_a_computation(indicators):
    draft = draft_form(cdpf_filled(), "残联.xlsx", indicators)
    # 享受两项补贴人数 names no tag: nothing is guessed
    assert draft.columns[-1].suggestion is None
    code, _s, _b = match_column("", "残疾人家庭户数", "户", indicators)
    assert code is None


def test_not_a_form_is_refused_in_chinese():
    with pytest.raises(ValidationFailed) as exc:
        draft_form(b"%PDF-1.4 not a sheet", "x.xlsx", [])
    assert "电子表格" in str(exc.value.issues[0])
    with pytest.raises(ValidationFailed) as exc:
        draft_form(_book({"A1": "只有一个标题"}, []), "t.xlsx", [])
    assert exc.value.issues[0].code == "no-header"


@pytest.mark.parametrize("path,label,unit,expected", [
    ("", "持证残疾人数", "人", "P_DISABLED"),  # 数 added
    ("", "重度残疾人", "", "P_DISABLED_SEVERE"),  # the dictionary's name adds （一、二级）
    ("", "高血压患者人数", "", "P_HYPERTENSION"),
    ("", "户籍人口数", "", "P_REGISTERED"),  # not 户籍人口（男）
    ("其中：", "严重精神障碍患者人数", "", "P_SEVERE_MENTAL"),
])
def test_differently_worded_columns_match(indicators, path, label, unit, expected):
    code, score, _best = match_column(path, label, unit, indicators)
    assert code == expected and score >= 88


def test_names_alone_match_without_the_catalogues_headers(indicators):
    """A dictionary no report uses yet (no aliases): the indicator names still carry the match."""
    bare = [replace(i, aliases=()) for i in indicators]
    draft = draft_form(stats_township(), "统计.xlsx", bare)
    assert _answers(draft) == STATS_EXPECTED


def test_cli_draft_json_shape_and_registry_check_warnings(runner, tmp_path):
    form = tmp_path / "民政表.xlsx"
    form.write_bytes(mca_three_level())
    out = tmp_path / "draft.yaml"
    result = runner.invoke(args=["report", "draft", str(form), "--department", "mca", "--out", str(out),
                                 "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["kind"] == "area_summary"
    assert data["rows"] == {"level": "village", "subtotals": True, "total": "top"}
    assert data["statutory"]["表号"] == "民救1表"
    assert [(c["path"], c["label"], c["indicator"]) for c in data["columns"]] == MCA_EXPECTED
    assert all(set(c) >= {"path", "label", "indicator", "score"} for c in data["columns"])
    check = runner.invoke(args=["registry", "check", str(out)])
    assert check.exit_code == 0, check.output
    warnings = [line for line in check.stderr.splitlines() if line.startswith("警告")]
    assert len(warnings) == 1 and "unmatched-column" in warnings[0] and "临时救助人次" in warnings[0]
    text = runner.invoke(args=["report", "draft", str(form)])
    assert "临时救助人次" in text.stdout and "需新建指标" in text.stdout and "匹配 11 列，未匹配 1 列" in text.stdout


def test_cli_draft_refuses_a_non_spreadsheet_and_an_unknown_department(runner, tmp_path):
    bad = tmp_path / "x.xlsx"
    bad.write_bytes(b"%PDF-1.4")
    result = runner.invoke(args=["report", "draft", str(bad)])
    assert result.exit_code == 1 and "电子表格" in result.output
    form = tmp_path / "民政表.xlsx"
    form.write_bytes(mca_three_level())
    result = runner.invoke(args=["report", "draft", str(form), "--department", "minzheng"])
    assert result.exit_code == 1 and "部门代码“minzheng”不存在" in result.output and "mca" in result.output


def dibao_roster() -> bytes:
    """A 花名册: 户 and 成员 groups, the unit line sharing a cell with 填报单位, one column no field shows."""
    cells = {"A1": "2025年低保对象花名册", "A2": "填报单位：          单位：人、元",
             "A3": "序号", "B3": "乡镇（街道）", "C3": "村（社区）", "D3": "户基本情况", "H3": "家庭成员", "L3": "是否有劳动能力",
             "D4": "户号", "E4": "户主姓名", "F4": "低保类别", "G4": "月保障金额（元）", "H4": "姓名", "I4": "身份证号码",
             "J4": "与户主关系", "K4": "性别", "A5": 1, "B5": "青石镇", "C5": "甲村", "D5": "JC001", "E5": "张一", "H5": "张一"}
    return _book(cells, ["A3:A4", "B3:B4", "C3:C4", "D3:G3", "H3:K3", "L3:L4"])


def test_a_roster_maps_its_columns_to_fields_and_its_title_to_the_tag(indicators, registry):
    draft = draft_form(dibao_roster(), "低保.xlsx", indicators)
    assert (draft.kind, draft.tag, draft.department, draft.unit_line) == ("roster", "dibao", "mca", "单位：人、元")
    assert [(c.path, c.label, c.field) for c in draft.columns] == [
        ("", "序号", "seq"), ("", "乡镇（街道）", "area.township_name"), ("", "村（社区）", "area.village_name"),
        ("户基本情况", "户号", "household.number"), ("户基本情况", "户主姓名", "household.head_name"),
        ("户基本情况", "低保类别", "tag.dibao.kind"), ("户基本情况", "月保障金额（元）", "tag.dibao.monthly_amount"),
        ("家庭成员", "姓名", "name"), ("家庭成员", "身份证号码", "id_number"), ("家庭成员", "与户主关系", "relation"),
        ("家庭成员", "性别", "sex"), ("", "是否有劳动能力", None)]
    ctx = seed_context()
    ctx.indicators = registry.indicators
    spec, issues = parse_report(to_yaml(draft, "draft_dibao_roster"), "draft.yaml", ctx)
    assert [(i.severity, i.code) for i in issues] == [("warning", "unmatched-column")]
    assert spec.kind == "roster" and spec.where.tags[0].code == "dibao" and spec.where.tags[0].household
    assert draft.as_json()["columns"][7] == {"path": "家庭成员", "label": "姓名", "indicator": None, "score": 100.0,
                                              "field": "name"}


def test_retired_indicators_are_not_offered():
    registry = load_registry(REGISTRY_DIR)
    registry.retired.add("P_ORPHAN")
    codes = [i.code for i in all_indicators(registry)]
    assert "P_ORPHAN" not in codes and "P_LEFT_CHILD" in codes
    draft = draft_form(mca_three_level(), "民政.xlsx", all_indicators(registry))
    assert draft.columns[10].label == "孤儿" and draft.columns[10].indicator is None

"""The rendered-table model: header tree helpers and layout validation."""

from __future__ import annotations

import pytest

from app.issues import ValidationFailed
from app.reporting.table import (
    Column,
    HeaderCell,
    Report,
    Row,
    Sheet,
    header_depth,
    header_issues,
    leaf_order,
    leaf_paths,
    validate_header,
    validate_report,
)

COLUMNS = [Column("a", "甲"), Column("b", "乙", "integer"), Column("c", "丙", "integer")]


def _codes(excinfo: pytest.ExceptionInfo[ValidationFailed]) -> list[str]:
    return [i.code for i in excinfo.value.issues]


def test_depth_order_and_paths_of_a_ragged_tree(summary):
    header = summary.sheets[0].header
    assert header_depth(header) == 3
    assert leaf_order(header) == ["area", "dibao_households", "dibao_total", "dibao_female", "amount", "rate"]
    assert leaf_paths(header)["dibao_female"] == ("低保", "人数", "其中：女")
    assert leaf_paths(header)["area"] == ("地区",)
    validate_header(header, summary.sheets[0].columns)
    assert header_depth([]) == 0


def test_row_defaults():
    row = Row({"a": 1})
    assert (row.kind, row.group) == ("data", None)


def test_header_unknown_column():
    header = [
        HeaderCell("甲", key="a"),
        HeaderCell("组", [HeaderCell("乙", key="b"), HeaderCell("丁", key="d")]),
        HeaderCell("丙", key="c"),
    ]
    with pytest.raises(ValidationFailed) as exc:
        validate_header(header, COLUMNS, sheet="表1")
    assert _codes(exc) == ["header-unknown-column"]
    issue = exc.value.issues[0]
    assert issue.location == {"sheet": "表1", "path": "组/丁"}
    assert "未定义" in issue.message


def test_header_missing_column():
    header = [HeaderCell("甲", key="a"), HeaderCell("乙", key="b")]
    with pytest.raises(ValidationFailed) as exc:
        validate_header(header, COLUMNS)
    assert _codes(exc) == ["header-missing-column"]
    assert exc.value.issues[0].location["field"] == "c"


def test_header_empty_group_and_duplicate_leaf():
    header = [
        HeaderCell("甲", key="a"),
        HeaderCell("空组"),
        HeaderCell("乙", key="b"),
        HeaderCell("丙", key="c"),
        HeaderCell("再丙", key="c"),
    ]
    assert [i.code for i in header_issues(header, COLUMNS)] == [
        "header-empty-group",
        "header-duplicate-column",
    ]


def test_header_group_with_key_and_order():
    bad = [HeaderCell("甲", [HeaderCell("乙", key="b")], key="a"), HeaderCell("丙", key="c")]
    assert "header-group-with-key" in [i.code for i in header_issues(bad, COLUMNS)]
    swapped = [HeaderCell("乙", key="b"), HeaderCell("甲", key="a"), HeaderCell("丙", key="c")]
    assert [i.code for i in header_issues(swapped, COLUMNS)] == ["header-column-order"]


def test_empty_header_means_one_row_of_column_labels():
    sheet = Sheet("表", "标题", [], COLUMNS, [])
    assert [h.label for h in sheet.header_tree()] == ["甲", "乙", "丙"]
    assert leaf_order(sheet.header_tree()) == ["a", "b", "c"]


def _report(**sheet_args) -> Report:
    args = {"name": "表", "title": "标题", "header": [], "columns": list(COLUMNS), "rows": []} | sheet_args
    return Report([Sheet(**args)])


@pytest.mark.parametrize(
    ("sheet_args", "code"),
    [
        ({"name": "a/b"}, "sheet-name-invalid"),
        ({"name": "x" * 32}, "sheet-name-invalid"),
        ({"name": "_meta"}, "sheet-name-reserved"),
        ({"merge_columns": ["zz"]}, "merge-unknown-column"),
        ({"column_numbers": ["甲", "1"]}, "column-numbers-length"),
        ({"columns": [*COLUMNS, Column("a", "重复")], "header": []}, "column-duplicate-key"),
        ({"columns": []}, "sheet-no-columns"),
    ],
)
def test_report_validation_issues(sheet_args, code):
    with pytest.raises(ValidationFailed) as exc:
        validate_report(_report(**sheet_args))
    assert code in _codes(exc)
    assert exc.value.status == 422


def test_report_without_sheets_and_duplicate_names():
    with pytest.raises(ValidationFailed) as exc:
        validate_report(Report([]))
    assert _codes(exc) == ["report-no-sheets"]
    sheet = Sheet("表", "标题", [], list(COLUMNS), [])
    with pytest.raises(ValidationFailed) as exc:
        validate_report(Report([sheet, Sheet("表", "标题二", [], list(COLUMNS), [])]))
    assert _codes(exc) == ["sheet-name-duplicate"]


def test_valid_samples(summary, roster):
    validate_report(summary)
    validate_report(roster)


def test_sheet_larger_than_excel_is_refused():
    from app.reporting.table import MAX_BODY_ROWS

    report = _report(rows=[Row({"a": "x"})] * (MAX_BODY_ROWS + 1))
    with pytest.raises(ValidationFailed) as exc:
        validate_report(report)
    assert _codes(exc) == ["sheet-too-large"]

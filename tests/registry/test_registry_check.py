"""``ybt registry check`` and the loader: the shipped catalogue passes; each kind of broken file fails
with its file, its property path and (where a near name exists) a “是否想写” hint.

Broken files are written into a copy of forms_registry/ under tmp_path. Assertions are on
(code, file, path) tuples, never on the Chinese prose.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
from flask import Flask

from app.db import get_db
from app.issues import Issue, ValidationFailed
from app.registry import vocabulary
from app.registry.loader import REGISTRY_DIR, Registry, check_not_expired, load_registry
from app.services.reports import RunRequest, build_report

AREA_SUMMARY = """\
id: {id}
version: 1
title: "{{area}}测试汇总表"
department: mca
frequency: monthly
kind: area_summary
rows: {{level: village, subtotals: true, total: top}}
columns:
{columns}
"""
OK_SUMMARY_COLUMNS = """\
  - label: 低保
    children:
      - {label: 户数, indicator: HH_DIBAO}
      - {label: 人数, indicator: P_DIBAO}
"""
ROSTER = """\
id: {id}
version: 1
title: "{{area}}测试花名册"
department: mca
frequency: monthly
kind: roster
subject: persons
where:
{where}
columns:
{columns}
"""
OK_WHERE = """\
  alive: true
  household_tags: [dibao]
"""
OK_ROSTER_COLUMNS = """\
  - {label: 序号, field: seq}
  - {label: 户号, field: household.number}
  - {label: 姓名, field: name}
"""


def summary(rid: str = "broken", columns: str = OK_SUMMARY_COLUMNS) -> str:
    return AREA_SUMMARY.format(id=rid, columns=columns.rstrip("\n"))


def roster(rid: str = "broken", where: str = OK_WHERE, columns: str = OK_ROSTER_COLUMNS) -> str:
    return ROSTER.format(id=rid, where=where.rstrip("\n"), columns=columns.rstrip("\n"))


@pytest.fixture
def reg_dir(tmp_path: Path) -> Path:
    """A copy of the shipped forms_registry/ to break."""
    target = tmp_path / "forms_registry"
    shutil.copytree(REGISTRY_DIR, target)
    return target


def add_report(reg_dir: Path, name: str, text: str) -> Path:
    path = reg_dir / "reports" / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def located(issues: list[Issue], severity: str = "error") -> set[tuple[str, str | None, str | None]]:
    return {(i.code, i.location.get("file"), i.location.get("path")) for i in issues if i.severity == severity}


def only(issues: list[Issue], code: str, path: str) -> Issue:
    found = [i for i in issues if i.code == code and i.location.get("path") == path]
    assert len(found) == 1, [(i.code, i.location) for i in issues]
    return found[0]


# ------------------------------------------------------------------------------ the shipped catalogue


def test_shipped_catalogue_has_no_errors_and_no_warnings() -> None:
    registry = load_registry()
    assert [(i.code, i.location) for i in registry.issues] == []


def test_shipped_catalogue_breadth() -> None:
    registry: Registry = load_registry()
    specs = registry.latest()
    assert len(specs) >= 15
    assert len({s.department for s in specs}) >= 8
    assert {s.kind for s in specs} == set(vocabulary.REPORT_KINDS)
    for spec in specs:
        assert spec.source == f"reports/{spec.id}.yaml"  # id = file stem
        assert spec.title and "{area}" in spec.title
        if spec.statutory:
            assert [k for k, _v in spec.statutory] == ["表号", "制定机关", "批准机关", "批准文号", "有效期至"], spec.id
            assert spec.valid_until is not None and spec.valid_until >= date(2027, 1, 1), spec.id
    features = {
        "total bottom": any(s.kind == "area_summary" and s.rows.total == "bottom" for s in specs),
        "total top": any(s.kind == "area_summary" and s.rows.total == "top" and s.rows.subtotals for s in specs),
        "no subtotals": any(s.kind == "area_summary" and s.rows.level == "village" and not s.rows.subtotals for s in specs),
        "township rows": any(s.kind == "area_summary" and s.rows.level == "township" for s in specs),
        "show_code": any(s.rows.show_code for s in specs),
        "栏次": any(s.column_numbers for s in specs),
        "unit line": any(s.unit_line for s in specs),
        "notes": any(s.notes for s in specs),
        "custom footer": any(s.footer != ("单位负责人", "统计负责人", "填表人", "联系电话", "报出日期") for s in specs),
        "unmasked": any(s.kind == "roster" and "id_number" in s.unmasked for s in specs),
        "masked id": any(s.kind == "roster" and "id_number" not in s.unmasked
                         and any(leaf.field == "id_number" for leaf in s.leaves()) for s in specs),
        "household merge": any(s.group_by_household for s in specs),
        "household roster": any(s.kind == "roster" and s.subject == "households" for s in specs),
        "person change list": any(s.kind == "change_list" and s.subject == "persons" for s in specs),
        "household change list": any(s.kind == "change_list" and s.subject == "households" for s in specs),
        "age_date": any(s.age_date == (8, 31) for s in specs),
        "A3": any(s.paper == "A3" for s in specs),
        "万元": any(registry.indicators[c].compute.convert == ("元", "万元") for s in specs for c in s.indicator_codes()),
        "observations": any(registry.indicators[c].compute.subject == "observations" for s in specs for c in s.indicator_codes()),
        "其中 group": any(any(n.label.startswith("其中") and n.children for n in _nodes(s.columns)) for s in specs),
        "合计/男/女": any(any([c.label for c in n.children][:3] == ["合计", "男", "女"] for n in _nodes(s.columns)) for s in specs),
    }
    assert [name for name, present in features.items() if not present] == []


def _nodes(nodes):  # every header node, depth first
    for n in nodes:
        yield n
        yield from _nodes(n.children)


def test_cli_check_passes_on_shipped_catalogue(runner) -> None:
    result = runner.invoke(args=["registry", "check"])
    assert result.exit_code == 0, result.output
    assert "校验通过" in result.output


def test_cli_check_accepts_a_folder_and_a_single_file(runner, reg_dir: Path, tmp_path: Path) -> None:
    result = runner.invoke(args=["registry", "check", str(reg_dir)])
    assert result.exit_code == 0, result.output
    single = tmp_path / "new_report.yaml"
    single.write_text(summary("new_report"), encoding="utf-8")
    result = runner.invoke(args=["registry", "check", str(single)])
    assert result.exit_code == 0, result.output
    assert "new_report@1" in result.output


# ------------------------------------------------------------------------------ broken files

BROKEN = [
    pytest.param(
        "unknown_property", summary().replace("title:", "titel:"),
        [("unknown-property", "titel")], "是否想写“title”", id="unknown-top-level-property"),
    pytest.param(
        "unknown_column_field", roster(columns=OK_ROSTER_COLUMNS.replace("household.number", "houshold.number")),
        [("unknown-field", "columns[1].field")], "是否想写“household.number”", id="unknown-column-field"),
    pytest.param(
        "unknown_where_field", roster(where='  alive: true\n  residence: ["1"]\n'),
        [("unknown-field", "where.residence")], "是否想写“residence_type”", id="unknown-where-field"),
    pytest.param(
        "unknown_column_key", roster(columns=OK_ROSTER_COLUMNS.replace("{label: 姓名, field: name}",
                                                                        "{label: 姓名, feild: name}")),
        [("unknown-property", "columns[2].feild")], "是否想写“field”", id="unknown-column-key"),
    pytest.param(
        "unknown_indicator", summary(columns=OK_SUMMARY_COLUMNS.replace("P_DIBAO}", "P_DIBA0}")),
        [("unknown-indicator", "columns[0].children[1].indicator")], "是否想写“P_DIBAO”", id="unknown-indicator"),
    pytest.param(
        "unknown_tag", roster(where="  alive: true\n  household_tags: [dibaoo]\n"),
        [("unknown-tag", "where.household_tags[0].code")], "是否想写“dibao”", id="unknown-tag"),
    pytest.param(
        "unknown_tag_field", roster(columns=OK_ROSTER_COLUMNS + "  - {label: 类别, field: tag.dibbao.kind}\n"),
        [("unknown-tag", "columns[3].field")], "是否想写“dibao”", id="unknown-tag-in-field"),
    pytest.param(
        "unknown_attr_value", roster(where='  household_tags: [{code: dibao, attrs: {kind: "3"}}]\n'),
        [("unknown-code", "where.household_tags[0].attrs.kind")], "2 农村低保", id="unknown-tag-attribute-value"),
    pytest.param(
        "unknown_attr_name", roster(where='  household_tags: [{code: dibao, attrs: {knd: "1"}}]\n'),
        [("unknown-attribute", "where.household_tags[0].attrs.knd")], "是否想写“kind”", id="unknown-tag-attribute"),
    pytest.param(
        "unknown_code_value", roster(where='  alive: true\n  relation: "2"\n'),
        [("unknown-code", "where.relation")], None, id="unknown-code-value"),
    pytest.param(
        "tag_on_wrong_subject", roster(where="  alive: true\n  tags: [dibao]\n"),
        [("tag-subject", "where.tags[0].code")], "household_tags", id="household-tag-under-person-tags"),
    pytest.param(
        "wrong_version", summary().replace("version: 1", "version: v2"),
        [("wrong-type", "version")], None, id="wrong-type-version"),
    pytest.param(
        "wrong_rows", summary().replace("rows: {level: village, subtotals: true, total: top}", "rows: village"),
        [("wrong-type", "rows")], None, id="wrong-type-rows"),
    pytest.param(
        "wrong_operand", roster(where='  alive: true\n  age: {gte: "sixty"}\n'),
        [("wrong-type", "where.age.gte")], None, id="wrong-type-operand"),
    pytest.param(
        "wrong_alive", roster(where='  alive: "yes"\n'),
        [("wrong-type", "where.alive")], None, id="wrong-type-alive"),
    pytest.param(
        "empty_group", summary(columns="  - {label: 低保, children: []}\n  - {label: 人数, indicator: P_DIBAO}\n"),
        [("broken-header", "columns[0].children")], None, id="group-without-children"),
    pytest.param(
        "leaf_both", summary(columns="  - {label: 户数, indicator: HH_DIBAO, field: name}\n"),
        [("broken-header", "columns[0]")], None, id="leaf-with-indicator-and-field"),
    pytest.param(
        "leaf_neither", summary(columns="  - {label: 户数}\n  - {label: 人数, indicator: P_DIBAO}\n"),
        [("broken-header", "columns[0]")], None, id="leaf-with-neither"),
    pytest.param(
        "group_with_indicator", summary(columns="  - label: 低保\n    indicator: HH_DIBAO\n    children:\n"
                                                "      - {label: 人数, indicator: P_DIBAO}\n"),
        [("broken-header", "columns[0]")], None, id="group-with-indicator"),
    pytest.param(
        "field_in_summary", summary(columns="  - {label: 姓名, field: name}\n  - {label: 人数, indicator: P_DIBAO}\n"),
        [("not-applicable", "columns[0].field")], None, id="field-in-area-summary"),
    pytest.param(
        "indicator_in_roster", roster(columns="  - {label: 人数, indicator: P_DIBAO}\n  - {label: 姓名, field: name}\n"),
        [("not-applicable", "columns[0].indicator")], None, id="indicator-in-roster"),
    pytest.param(
        "change_field_in_roster", roster(columns=OK_ROSTER_COLUMNS + "  - {label: 变动类型, field: change_type}\n"),
        [("not-applicable", "columns[3].field")], None, id="change-field-in-roster"),
    pytest.param(
        "bad_kind", summary().replace("kind: area_summary", "kind: area_sumary"),
        [("unknown-kind", "kind")], "是否想写“area_summary”", id="unknown-kind"),
    pytest.param(
        "bad_department", summary().replace("department: mca", "department: mcaa"),
        [("unknown-department", "department")], "是否想写“mca”", id="unknown-department"),
    pytest.param(
        "bad_age_date", summary().replace("kind: area_summary", 'kind: area_summary\nage_date: "31-08"'),
        [("bad-date", "age_date")], None, id="bad-age-date"),
    pytest.param(
        "bad_statutory", summary().replace("kind: area_summary", "kind: area_summary\nstatutory:\n  表号: 民1表\n  有效期: 2027-12-31"),
        [("unknown-property", "statutory.有效期")], "是否想写“有效期至”", id="unknown-statutory-key"),
]


@pytest.mark.parametrize(("name", "text", "expected", "hint"), BROKEN)
def test_broken_report_file(reg_dir: Path, name: str, text: str, expected: list[tuple[str, str]], hint: str | None) -> None:
    add_report(reg_dir, name, text)
    registry = load_registry(reg_dir)
    source = f"reports/{name}.yaml"
    errors = located(registry.issues)
    for code, path in expected:
        assert (code, source, path) in errors, sorted(errors)
    # every error is in the broken file: the rest of the catalogue still loads
    assert {f for _c, f, _p in errors} == {source}
    assert name not in registry.reports
    if hint is not None:
        code, path = expected[0]
        assert hint in (only(registry.issues, code, path).hint or "")


def test_unknown_conversion_in_indicator_file(reg_dir: Path) -> None:
    (reg_dir / "indicators" / "extra.yaml").write_text("""\
- code: OBS_GRAIN_JIN
  name: 粮食产量（斤）
  definition: 上年粮食总产量，换算为斤
  unit: 斤
  department: moa
  compute: {aggregate: sum, subject: observations, item: grain_output, period: previous_year, convert: {from: 吨, to: 斤}}
""", encoding="utf-8")
    registry = load_registry(reg_dir)
    assert located(registry.issues) == {("unknown-conversion", "indicators/extra.yaml", "[0].compute.convert")}
    assert "元→万元" in (registry.issues[0].hint or "")
    assert "OBS_GRAIN_JIN" not in registry.indicators


def test_unit_mismatch_after_conversion(reg_dir: Path) -> None:
    (reg_dir / "indicators" / "extra.yaml").write_text("""\
- code: AMT_X
  name: 金额
  definition: 低保月保障金额之和
  unit: 元
  department: mca
  compute: {aggregate: sum, subject: households, tag_attr: {tag: dibao, attr: monthly_amount}, convert: {from: 元, to: 万元}}
""", encoding="utf-8")
    registry = load_registry(reg_dir)
    assert located(registry.issues) == {("unit-mismatch", "indicators/extra.yaml", "[0].compute.convert")}


def test_duplicate_indicator_code(reg_dir: Path) -> None:
    (reg_dir / "indicators" / "zz_extra.yaml").write_text("""\
- code: HH_DIBAO
  name: 低保户数（重复）
  definition: 重复定义
  unit: 户
  department: mca
  compute: {aggregate: count, subject: households}
""", encoding="utf-8")
    registry = load_registry(reg_dir)
    assert located(registry.issues) == {("duplicate-id", "indicators/zz_extra.yaml", "[0].code")}
    assert registry.indicators["HH_DIBAO"].source == "indicators/mca.yaml"


def test_duplicate_report_id_and_version(reg_dir: Path) -> None:
    original = (reg_dir / "reports" / "mca_dibao_roster.yaml").read_text(encoding="utf-8")
    add_report(reg_dir, "mca_dibao_roster_v1_copy", original.replace("低保对象花名册", "低保对象花名册（副本）"))
    registry = load_registry(reg_dir)
    assert located(registry.issues) == {("duplicate-id", "reports/mca_dibao_roster_v1_copy.yaml", "version")}
    issue = only(registry.issues, "duplicate-id", "version")
    assert "reports/mca_dibao_roster.yaml" in (issue.hint or "")
    assert registry.get("mca_dibao_roster").source == "reports/mca_dibao_roster.yaml"  # the first one stays


def test_duplicate_report_with_identical_text(reg_dir: Path) -> None:
    """Two files with the very same text are still two definitions of one id@version."""
    shutil.copyfile(reg_dir / "reports" / "mca_dibao_roster.yaml", reg_dir / "reports" / "mca_dibao_roster_copy.yaml")
    registry = load_registry(reg_dir)
    assert located(registry.issues) == {("duplicate-id", "reports/mca_dibao_roster_copy.yaml", "version")}


def test_new_version_is_not_a_duplicate(reg_dir: Path) -> None:
    original = (reg_dir / "reports" / "mca_dibao_roster.yaml").read_text(encoding="utf-8")
    add_report(reg_dir, "mca_dibao_roster_v2", original.replace("version: 1", "version: 2"))
    registry = load_registry(reg_dir)
    assert registry.errors == []
    assert sorted(registry.reports["mca_dibao_roster"]) == [1, 2]


def test_yaml_syntax_error_names_its_line(reg_dir: Path) -> None:
    text = summary("syntax") + "  - {label: 人数, indicator: P_DIBAO\n"  # line 13: unclosed flow mapping
    add_report(reg_dir, "syntax", text)
    registry = load_registry(reg_dir)
    # the parser notices the missing "}" where the text ends: line 14, just after the broken line 13
    assert [(i.code, i.location.get("file"), i.location.get("row")) for i in registry.errors] == [
        ("yaml-syntax", "reports/syntax.yaml", 14)]


def test_yaml_syntax_error_bad_indentation(reg_dir: Path) -> None:
    text = "id: syntax2\nversion: 1\ntitle: x\n  kind: roster\n"  # line 4 indented under a scalar
    add_report(reg_dir, "syntax2", text)
    registry = load_registry(reg_dir)
    assert [(i.code, i.location.get("file"), i.location.get("row")) for i in registry.errors] == [
        ("yaml-syntax", "reports/syntax2.yaml", 4)]


def test_cli_check_fails_with_file_path_and_hint(runner, reg_dir: Path) -> None:
    add_report(reg_dir, "typo", roster("typo", columns=OK_ROSTER_COLUMNS.replace("household.number", "houshold.number")))
    result = runner.invoke(args=["registry", "check", str(reg_dir)])
    assert result.exit_code == 1
    assert "[unknown-field]" in result.output
    assert "reports/typo.yaml" in result.output
    assert "columns[1].field" in result.output
    assert "是否想写“household.number”" in result.output


def test_cli_check_single_broken_file(runner, tmp_path: Path) -> None:
    path = tmp_path / "one.yaml"
    path.write_text(summary("one", columns="  - {label: 姓名, field: name}\n"), encoding="utf-8")
    result = runner.invoke(args=["registry", "check", str(path)])
    assert result.exit_code == 1
    assert "[not-applicable]" in result.output
    assert str(path) in result.output
    assert "columns[0].field" in result.output


# ------------------------------------------------------------------------------ expired forms

EXPIRED = summary("old_form").replace("kind: area_summary", """kind: area_summary
statutory:
  表号: 民救9表
  制定机关: 云溪县民政局
  批准机关: 云溪县统计局
  批准文号: 云统制〔2022〕1号
  有效期至: 2024-12-31""")


def test_expired_form_is_a_warning_at_check(reg_dir: Path) -> None:
    add_report(reg_dir, "old_form", EXPIRED)
    registry = load_registry(reg_dir)
    assert registry.errors == []
    assert located(registry.issues, "warning") == {("form-expired", "reports/old_form.yaml", "statutory.有效期至")}
    assert registry.get("old_form").valid_until == date(2024, 12, 31)


def test_cli_check_passes_with_expired_warning(runner, reg_dir: Path) -> None:
    add_report(reg_dir, "old_form", EXPIRED)
    result = runner.invoke(args=["registry", "check", str(reg_dir)])
    assert result.exit_code == 0, result.output
    assert "[form-expired]" in result.output


def test_check_not_expired_boundary(reg_dir: Path) -> None:
    add_report(reg_dir, "old_form", EXPIRED)
    spec = load_registry(reg_dir).get("old_form")
    check_not_expired(spec, date(2024, 12, 31))  # the last day of validity is still fine
    with pytest.raises(ValidationFailed) as err:
        check_not_expired(spec, date(2025, 1, 1))
    assert [(i.code, i.location.get("record")) for i in err.value.issues] == [("form-expired", "old_form@1")]


def test_build_report_refuses_an_expired_form(app: Flask, reg_dir: Path) -> None:
    add_report(reg_dir, "old_form", EXPIRED)
    registry = load_registry(reg_dir)
    with get_db(app).session() as session, pytest.raises(ValidationFailed) as err:
        build_report(get_db(app), session, registry, None, RunRequest("old_form", on=date(2024, 6, 30)),
                     today=date(2025, 7, 1))
    (issue,) = err.value.issues
    assert (issue.code, issue.location.get("record")) == ("form-expired", "old_form@1")
    assert "2024年12月31日" in issue.message  # names its 有效期


def test_cli_check_single_file_clashing_with_a_shipped_version(runner, tmp_path: Path) -> None:
    """A changed copy of a shipped report that keeps its version number is refused with the next number."""
    shipped = Path(__file__).resolve().parents[2] / "forms_registry" / "reports" / "mca_needy_by_village.yaml"
    changed = tmp_path / "mca_needy_by_village.yaml"
    changed.write_text(shipped.read_text(encoding="utf-8").replace("困难群众分村汇总表", "困难群众汇总表"), encoding="utf-8")
    result = runner.invoke(args=["registry", "check", str(changed)])
    assert result.exit_code == 1
    assert "[duplicate-id]" in result.output and "提高到 2" in result.output
    same = runner.invoke(args=["registry", "check", str(shipped)])
    assert same.exit_code == 0, same.output

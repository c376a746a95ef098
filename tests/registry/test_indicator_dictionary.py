"""``ybt indicator list|show|check|publish|retire``: the dictionary as data, versions, no duplicate 口径."""

from __future__ import annotations

import json
from pathlib import Path

from flask import Flask
from flask.testing import FlaskCliRunner

from app.db import get_db
from app.registry.dictionary import computation_key
from app.registry.loader import load_registry
from app.services import reports

# P_TEKUN is {alive: true, tags: [tekun]}: the same computation with its filters in the other order
DUPLICATE = """
code: P_TEKUN_AGAIN
name: 特困供养人员
definition: 持有特困标签的在世人员
unit: 人
department: mca
compute: {aggregate: count, subject: persons, where: {tags: [{code: tekun}], alive: true}}
"""

NEW = """
- code: P_TEKUN_60
  name: 60周岁及以上特困人员
  definition: 参考日持有有效“特困”标签、年满60周岁的在世人员
  unit: 人
  department: mca
  compute: {aggregate: count, subject: persons, where: {alive: true, age: {gte: 60}, tags: [tekun]}}
"""


def _write(tmp_path: Path, text: str, name: str = "ind.yaml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_check_refuses_a_repeated_computation_naming_the_existing_indicator(runner: FlaskCliRunner, tmp_path: Path) -> None:
    result = runner.invoke(args=["indicator", "check", _write(tmp_path, DUPLICATE)])
    assert result.exit_code != 0
    assert "[duplicate-computation]" in result.output
    assert "P_TEKUN 特困人员" in result.output  # names the existing code and name


def test_normalisation_ignores_order_and_single_value_lists() -> None:
    registry = load_registry()
    a = registry.indicators["P_REGISTERED"].compute
    from dataclasses import replace

    from app.registry.schema import FieldFilter, Where
    swapped = replace(a, where=Where(tuple(reversed([FieldFilter("residence_type", "in", ["2", "1"]),
                                                     FieldFilter("alive", "eq", True)]))))
    assert computation_key(swapped) == computation_key(a)
    other = replace(a, where=Where((FieldFilter("residence_type", "in", ["1"]), FieldFilter("alive", "eq", True))))
    assert computation_key(other) != computation_key(a)
    assert computation_key(replace(other, where=Where((FieldFilter("residence_type", "eq", "1"),
                                                       FieldFilter("alive", "eq", True))))) == computation_key(other)


def test_same_name_other_computation_is_a_warning(runner: FlaskCliRunner, tmp_path: Path) -> None:
    text = NEW.replace("60周岁及以上特困人员", "特困人员")
    result = runner.invoke(args=["indicator", "check", _write(tmp_path, text)])
    assert result.exit_code == 0, result.output
    assert "警告 [same-name]" in result.output and "P_TEKUN" in result.output


def test_publish_list_show_versions_and_retire(app: Flask, runner: FlaskCliRunner, tmp_path: Path) -> None:
    result = runner.invoke(args=["indicator", "publish", _write(tmp_path, NEW), "--note", "民政新口径"])
    assert result.exit_code == 0, result.output
    assert "P_TEKUN_60 60周岁及以上特困人员（第1版）" in result.output
    listed = json.loads(runner.invoke(args=["indicator", "list", "--format", "json"]).output)
    row = next(r for r in listed if r["code"] == "P_TEKUN_60")
    assert (row["unit"], row["department"], row["version"], row["used_by"]) == ("人", "mca", 1, [])
    assert next(r for r in listed if r["code"] == "P_TEKUN")["used_by"] == ["mca_needy_by_village@1"]
    # publishing the same text again changes nothing: refused, nothing stored
    again = runner.invoke(args=["indicator", "publish", _write(tmp_path, NEW)])
    assert again.exit_code != 0 and "没有需要发布的指标" in again.output
    # a new version of the same code (the age changes): version 2, earlier version kept
    v2 = runner.invoke(args=["indicator", "publish", _write(tmp_path, NEW.replace("gte: 60", "gte: 70"), "v2.yaml")])
    assert v2.exit_code == 0 and "第2版" in v2.output
    shown = runner.invoke(args=["indicator", "show", "P_TEKUN_60"]).output
    assert "版本：1、2" in shown and '"gte": 70' in shown
    # retire a shipped indicator in use: allowed, and the reports using it are named and keep running
    retired = runner.invoke(args=["indicator", "retire", "P_TEKUN"])
    assert retired.exit_code == 0 and "mca_needy_by_village@1" in retired.output
    with get_db(app).session() as session:
        registry = reports.registry_for(app, session)
        assert "P_TEKUN" in registry.retired and "P_TEKUN" in registry.indicators
        spec, issues = reports.validate_projection(
            "id: xx\nversion: 1\ntitle: t\ndepartment: mca\nfrequency: monthly\nkind: area_summary\n"
            "columns:\n  - {label: 特困, indicator: P_TEKUN}\n", registry)
        assert [(i.code, i.location["path"]) for i in issues if i.severity == "error"] == [("retired-indicator", "columns[0].indicator")]


def test_a_broken_published_indicator_never_stops_the_app(app: Flask, tmp_path: Path) -> None:
    from app.models import IndicatorDefinition

    with get_db(app).transaction() as session:
        session.add(IndicatorDefinition(code="P_BROKEN", version=1, source="code: P_BROKEN\nname: x\ncompute: {subject: nope}\n"))
    with get_db(app).session() as session:
        registry = reports.registry_for(app, session)
    assert "P_BROKEN" not in registry.indicators
    assert "published-broken" in {i.code for i in registry.issues if i.severity == "warning"}
    assert not registry.errors


def test_a_column_using_a_broken_indicator_says_so(tmp_path: Path) -> None:
    import shutil

    from app.registry.loader import REGISTRY_DIR
    target = tmp_path / "reg"
    shutil.copytree(REGISTRY_DIR, target)
    path = target / "indicators" / "mca.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "compute: {aggregate: count, subject: persons, where: {alive: true, tags: [tekun]}}",
        "compute: {aggregate: count, subject: persons, where: {alive: true, tags: [tekunn]}}"), encoding="utf-8")
    registry = load_registry(target)
    codes = {(i.code, i.location.get("path")) for i in registry.errors}
    assert ("broken-indicator", "columns[2].children[0].indicator") in codes
    assert not any(c == "unknown-indicator" for c, _ in codes)


def test_unknown_property_lists_the_allowed_ones() -> None:
    from app.registry.loader import seed_context
    from app.registry.parse import Parser

    parser = Parser("x", seed_context())
    parser.keys({"colums": 1}, ("columns", "rows"), "")
    assert parser.issues[0].hint == "是否想写“columns”？可用属性：columns、rows"

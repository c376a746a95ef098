"""Validation rules over indicators on the hand-made county (hand_data.py), worked out by hand.

On 2025-06-30: 低保人数 甲村 3 (H1: p1 p2 p3; H3's 低保 ended 06-20), 乙村 0, 丙村 2 (p13, p15);
on 2025-05-31: 甲村 4 (+p7 of H3), 丙村 1 (p13; p14 died 03-01, p15 came 06-10);
on 2024-06-30: 甲村 4, 丙村 2 (p13, p14). 特困: 甲村 p7 (分散), 丙村 p13 (集中).
"""

from __future__ import annotations

import json
from datetime import date

import pytest
import yaml
from flask import Flask
from flask.testing import FlaskCliRunner
from hand_data import V1, V2, V3, HandCounty
from sqlmodel import Session

from app.db import get_db
from app.issues import IssueError
from app.registry.rules import parse_rules
from app.services import reports, validation

RULES = """
- {code: R_DIBAO_MAX, name: 低保人数不超过2, left: P_DIBAO, op: "<=", right: 2, importance: high, blocking: true,
   message: "{area}低保人数 {left} 超过 {right}"}
- {code: R_TEKUN_CENTRAL, name: 特困均集中供养, left: P_TEKUN, op: "==", right: P_TEKUN_CENTRAL, importance: low}
- {code: O_DIBAO_MONTH, name: 低保人数月度变动, kind: outlier, indicator: P_DIBAO, compare: previous_period,
   max_change_pct: 50, message: "{area}由 {right} 变为 {left}（{pct}）"}
- {code: O_DIBAO_YEAR, name: 低保人数同比变动, kind: outlier, indicator: P_DIBAO, compare: same_period_last_year,
   max_change: 0.5}
"""


def _rules(app: Flask, session: Session):
    registry = reports.registry_for(app, session)
    rules, issues = parse_rules(yaml.safe_load(RULES), "test.yaml", registry.indicators)
    assert issues == []
    return registry, rules


def test_comparison_and_outlier_rules_per_village(app: Flask, session: Session, hand: HandCounty) -> None:
    with app.app_context():
        registry, rules = _rules(app, session)
        run = validation.run_rules(get_db(app), session, registry, rules, hand.admin, None, date(2025, 6, 30))
    assert [v["code"] for v in run.villages] == [V1, V2, V3]
    got = [(v.rule.code, v.area_code, v.left, v.right) for v in run.violations]
    assert got == [
        ("R_DIBAO_MAX", V1, 3, 2),          # 3 > 2 (high first)
        ("O_DIBAO_YEAR", V1, 3, 4),         # 4 → 3, |−1| > 0.5
        ("R_TEKUN_CENTRAL", V1, 1, 0),      # p7 is 分散供养
        ("O_DIBAO_MONTH", V3, 2, 1),        # 1 → 2 = +100 % > 50 %
    ]
    assert run.violations[0].message == "甲村低保人数 3 超过 2"
    assert run.violations[3].message == "丙村由 1 变为 2（+100%）"
    towns = {t["code"]: t for t in run.by_township()}
    assert towns["339901100000"] == {"code": "339901100000", "name": "青石镇", "villages": 2, "failing": 1,
                                     "violations": 3, "blocking": 1}
    assert towns["339901200000"]["failing"] == 1 and towns["339901200000"]["blocking"] == 0


def test_comparison_dates() -> None:
    assert validation.comparison_date(date(2025, 6, 30), "previous_period") == date(2025, 5, 31)
    assert validation.comparison_date(date(2025, 3, 31), "previous_period") == date(2025, 2, 28)
    assert validation.comparison_date(date(2025, 3, 15), "previous_period") == date(2025, 2, 15)
    assert validation.comparison_date(date(2025, 1, 31), "previous_period") == date(2024, 12, 31)
    assert validation.comparison_date(date(2024, 2, 29), "same_period_last_year") == date(2023, 2, 28)


def test_cli_json_lists_violations_with_area_and_values(app: Flask, session: Session, runner: FlaskCliRunner,
                                                        hand: HandCounty) -> None:
    with app.app_context():
        registry, rules = _rules(app, session)
        app.extensions["ybt.rules"] = (registry, rules)
    result = runner.invoke(args=["rules", "run", "--area", "339901200000", "--as-of", "2025-06-30", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data == [{"rule": "O_DIBAO_MONTH", "rule_name": "低保人数月度变动", "kind": "outlier", "importance": "medium",
                     "blocking": False, "area_code": V3, "area_name": "丙村", "township_code": "339901200000",
                     "township_name": "石门乡", "left": 2, "right": 1, "message": "丙村由 1 变为 2（+100%）"}]
    text = runner.invoke(args=["rules", "run", "--area", V1, "--as-of", "2025-06-30", "--rule", "R_DIBAO_MAX"])
    assert "1 条规则，1 个村，1 处不通过" in text.output and "（阻止提交）" in text.output


def test_shipped_rules_parse_and_pass_on_consistent_data(runner: FlaskCliRunner, hand: HandCounty) -> None:
    result = runner.invoke(args=["rules", "run", "--as-of", "2025-06-30", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == []
    unknown = runner.invoke(args=["rules", "run", "--rule", "NOPE"])
    assert unknown.exit_code == 1 and "规则“NOPE”不存在" in unknown.output


@pytest.mark.parametrize(("text", "message"), [
    ("- {code: R_X, name: x, left: P_NOPE, op: '<=', right: 1}", "引用的指标“P_NOPE”不存在"),
    ("- {code: R_X, name: x, left: P_DIBAO P_TEKUN, op: '<=', right: 1}", "左边“P_DIBAO P_TEKUN”无法识别"),
    ("- {code: R_X, name: x, left: P_DIBAO, op: '=<', right: 1}", "运算符“=<”无效"),
    ("- {code: O_X, name: x, kind: outlier, indicator: P_DIBAO}", "需要 max_change_pct"),
    ("- {code: r, name: x}", "规则代码“r”"),
])
def test_bad_rules_are_reported_with_path(app: Flask, session: Session, text: str, message: str) -> None:
    with app.app_context():
        registry = reports.registry_for(app, session)
    _, issues = parse_rules(yaml.safe_load(text), "bad.yaml", registry.indicators)
    assert any(message in i.message for i in issues), [i.message for i in issues]
    assert issues[0].location["file"] == "bad.yaml"


def test_a_department_user_cannot_run_rules_outside_scope(app: Flask, session: Session, hand: HandCounty) -> None:
    with app.app_context():
        registry, rules = _rules(app, session)
        with pytest.raises(IssueError):
            validation.run_rules(get_db(app), session, registry, rules, hand.cadre_1, V3, date(2025, 6, 30))


def test_rules_check_command(app: Flask, runner: FlaskCliRunner, tmp_path) -> None:
    ok = runner.invoke(args=["rules", "check"])
    assert ok.exit_code == 0 and "校验规则无误：6 条（2 条阻止提交）" in ok.output
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "bad.yaml").write_text("- {code: R_X, name: x, left: P_NOPE, op: '<=', right: 1}\n",
                                                 encoding="utf-8")
    app.extensions["ybt.registry_dir"] = tmp_path
    bad = runner.invoke(args=["rules", "check"])
    assert bad.exit_code == 1 and "rules/bad.yaml" in bad.output and "引用的指标“P_NOPE”不存在" in bad.output

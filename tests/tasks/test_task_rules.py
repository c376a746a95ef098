"""Blocking validation rules on task submission (YBT_RULES_ON_SUBMIT=blocking), hand-made county:
低保人数 on 2025-06-30 is 3 in 甲村 and 2 in 丙村 (tests/reports/test_quality_rules.py)."""

from __future__ import annotations

import pytest
import yaml
from flask import Flask
from hand_data import V1, V3
from sqlmodel import Session
from task_helpers import TaskPeople
from test_task_service import issue, registry

from app.db import get_db
from app.issues import ValidationFailed
from app.registry.rules import parse_rules
from app.services import tasks

RULES = """
- {code: R_DIBAO_MAX, name: 低保人数不超过2, left: P_DIBAO, op: "<=", right: 2, blocking: true,
   message: "{area}低保人数 {left} 超过 {right}"}
- {code: R_TEKUN_NONE, name: 没有特困人员, left: P_TEKUN, op: "==", right: 0}
"""


def _rules(app: Flask, session: Session, mode: str) -> None:
    app.config["YBT_RULES_ON_SUBMIT"] = mode
    reg = registry(app, session)
    rules, issues = parse_rules(yaml.safe_load(RULES), "t.yaml", reg.indicators)
    assert not issues
    app.extensions["ybt.rules"] = (reg, rules)


def test_a_blocking_rule_stops_the_submission_with_the_list(app: Flask, session: Session, people: TaskPeople) -> None:
    with app.test_request_context():
        _rules(app, session, "blocking")
        task = issue(app, session, people.hand.mca, "mca_needy_by_village", [V1, V3])
        with pytest.raises(ValidationFailed) as refused:
            tasks.submit(get_db(app), session, registry(app, session), people.hand.cadre_1, task, V1)
        # only the blocking rule counts (甲村 also has a 特困 person, a non-blocking failure)
        assert [(i.code, i.message, i.location["rule"]) for i in refused.value.issues] == [
            ("rule-violated", "低保人数不超过2：甲村低保人数 3 超过 2", "R_DIBAO_MAX")]
        session.rollback()
        row = tasks.submit(get_db(app), session, registry(app, session), people.cadre_3, task, V3)  # 丙村: 2 ≤ 2
        assert row.status == "submitted"


def test_without_the_setting_nothing_is_checked(app: Flask, session: Session, people: TaskPeople) -> None:
    with app.test_request_context():
        _rules(app, session, "off")
        task = issue(app, session, people.hand.mca, "mca_needy_by_village", [V1])
        row = tasks.submit(get_db(app), session, registry(app, session), people.hand.cadre_1, task, V1)
        assert row.status == "submitted"

"""``ybt audit list/purge``, ``ybt export`` audited, and ``seed-demo`` refused in production."""

from __future__ import annotations

import json
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import update

from app.db import get_db
from app.models import AuditEvent
from app.models.base import utcnow


def test_audit_list_filters_and_refuses_bad_input(app: Flask, runner: FlaskCliRunner, tmp_path) -> None:
    with app.app_context():
        from app.services import audit

        audit.record(None, "person-view", "person:1", username="alice", records=1)
        audit.record(None, "person-search", "area:3399", username="alice", records=7)
        audit.record(None, "person-view", "person:2", username="bob", records=1)
    out = runner.invoke(args=["audit", "list", "--user", "alice", "--format", "json"])
    events = json.loads(out.output)["events"]
    assert [(e["kind"], e["target"], e["records"]) for e in events] == [("person-search", "area:3399", 7),
                                                                        ("person-view", "person:1", 1)]
    kind = json.loads(runner.invoke(args=["audit", "list", "--kind", "person-view", "--format", "json"]).output)
    assert kind["total"] == 2
    text = runner.invoke(args=["audit", "list", "--user", "bob"]).output
    assert "查看人员" in text and "共 1 条" in text
    bad = runner.invoke(args=["audit", "list", "--since", "0001-01-01"])
    assert bad.exit_code == 1 and "超出" in bad.output
    assert runner.invoke(args=["audit", "list", "--kind", "nope"]).exit_code == 1

    with get_db(app).transaction() as session:  # one row is four years old
        session.execute(update(AuditEvent).where(AuditEvent.username == "bob").values(at=utcnow() - timedelta(days=1500)))
    assert "已删除 1 条" in runner.invoke(args=["audit", "purge"]).output  # default retention 1095 days
    assert json.loads(runner.invoke(args=["audit", "list", "--format", "json"]).output)["total"] == 2


def test_export_is_audited(app: Flask, runner: FlaskCliRunner, tmp_path) -> None:
    result = runner.invoke(args=["export", "persons", "--out", str(tmp_path / "p.csv")])
    assert result.exit_code == 0, result.output
    events = json.loads(runner.invoke(args=["audit", "list", "--kind", "export", "--format", "json"]).output)["events"]
    assert [(e["user"], e["target"]) for e in events] == [("cli", "persons csv → p.csv")]


def test_seed_demo_refused_in_production(app: Flask, runner: FlaskCliRunner) -> None:
    app.config["YBT_ENV"] = "production"
    result = runner.invoke(args=["seed-demo", "--persons", "10"])
    assert result.exit_code == 1 and "生产环境" in result.output

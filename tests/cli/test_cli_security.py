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
    left = json.loads(runner.invoke(args=["audit", "list", "--format", "json"]).output)["events"]
    assert [(e["user"], e["kind"], e["records"]) for e in left] == [  # the purge is on record itself
        ("system", "audit-purge", 1), ("alice", "person-search", 7), ("alice", "person-view", 1)]
    assert left[0]["detail"] == {"retention_days": 1095, "trigger": "cli"}


def test_export_is_audited(app: Flask, runner: FlaskCliRunner, tmp_path) -> None:
    refused = runner.invoke(args=["export", "persons", "--out", str(tmp_path / "p.csv")])
    assert refused.exit_code == 1 and "请填写用途" in refused.output and "--purpose" in refused.output
    assert not (tmp_path / "p.csv").exists()
    result = runner.invoke(args=["export", "persons", "--out", str(tmp_path / "p.csv"), "--purpose", "年度备份"])
    assert result.exit_code == 0, result.output
    assert runner.invoke(args=["export", "areas", "--out", str(tmp_path / "a.csv")]).exit_code == 0  # no personal data
    events = json.loads(runner.invoke(args=["audit", "list", "--kind", "export", "--format", "json"]).output)["events"]
    assert [(e["user"], e["target"], e["purpose"]) for e in events] == [
        ("cli", "areas csv → a.csv", None), ("cli", "persons csv → p.csv", "年度备份")]  # newest first


def test_seed_demo_refused_in_production(app: Flask, runner: FlaskCliRunner) -> None:
    app.config["YBT_ENV"] = "production"
    result = runner.invoke(args=["seed-demo", "--persons", "10"])
    assert result.exit_code == 1 and "生产环境" in result.output


def test_report_run_with_full_ids_needs_a_purpose(app: Flask, runner: FlaskCliRunner, tmp_path) -> None:
    from app.models import Area

    with get_db(app).transaction() as session:
        session.add(Area(code="339901000000", name="云溪县", level=3))
    out = tmp_path / "aged.csv"
    refused = runner.invoke(args=["report", "run", "mca_aged_roster", "--format", "csv", "--out", str(out)])
    assert refused.exit_code == 1 and "请填写用途" in refused.output and not out.exists()
    result = runner.invoke(args=["report", "run", "mca_aged_roster", "--format", "csv", "--out", str(out), "--purpose", "发放核对"])
    assert result.exit_code == 0, result.output
    masked = runner.invoke(args=["report", "run", "moa_monitoring_summary", "--format", "csv", "--out", str(tmp_path / "m.csv")])
    assert masked.exit_code == 0, masked.output  # prints no personal field in full: no purpose asked
    events = json.loads(runner.invoke(args=["audit", "list", "--kind", "download", "--format", "json"]).output)["events"]
    assert [(e["target"], e["purpose"]) for e in events] == [
        ("moa_monitoring_summary csv → m.csv", None), ("mca_aged_roster csv → aged.csv", "发放核对")]

"""Audit retention applied on a schedule: a request purges rows older than YBT_AUDIT_RETENTION_DAYS at
most once a day, across processes (the purge's own audit row says when it last ran), and never with
``YBT_AUDIT_PURGE=cron``. Times are set by hand on the rows; the process's hourly check is reset by hand."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from app.db import get_db
from app.models import AuditEvent
from app.models.base import utcnow
from app.services import audit


def _rows(app: Flask) -> list[tuple[str, str, int]]:
    with get_db(app).session() as session:
        return [(r.username, r.kind, r.records) for r in session.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars()]


def _age(app: Flask, username: str, days: int) -> None:
    with get_db(app).transaction() as session:
        session.execute(update(AuditEvent).where(AuditEvent.username == username).values(at=utcnow() - timedelta(days=days)))


def _new_hour(app: Flask) -> None:
    """As if this process had not checked for an hour (or another process were asking)."""
    app.extensions.setdefault("ybt_audit_purge", {})["checked"] = float("-inf")


def test_a_request_applies_the_retention_once_a_day(app: Flask, client: FlaskClient) -> None:
    app.config["YBT_AUDIT_RETENTION_DAYS"] = 30
    with app.app_context():
        audit.record(None, "person-view", "person:1", username="old", records=1)
        audit.record(None, "person-view", "person:2", username="recent", records=1)
    _age(app, "old", 31)
    _age(app, "recent", 29)

    client.get("/login")
    assert _rows(app) == [("recent", "person-view", 1), ("system", "audit-purge", 1)]

    with app.app_context():  # a row that has grown old since: not purged again within the day
        audit.record(None, "person-view", "person:3", username="old2", records=1)
    _age(app, "old2", 40)
    _new_hour(app)
    client.get("/login")
    assert [r[0] for r in _rows(app)] == ["recent", "system", "old2"]

    _age(app, "system", 2)  # the last purge was two days ago (by this or any process, or by cron)
    _new_hour(app)
    client.get("/login")
    assert _rows(app) == [("recent", "person-view", 1), ("system", "audit-purge", 1), ("system", "audit-purge", 1)]
    with get_db(app).session() as session:
        last = session.execute(select(AuditEvent).order_by(AuditEvent.id.desc())).scalars().first()
    assert last.detail == {"retention_days": 30, "trigger": "schedule"}


def test_cron_mode_and_zero_retention_leave_the_rows(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        audit.record(None, "person-view", "person:1", username="old", records=1)
    _age(app, "old", 5000)
    app.config["YBT_AUDIT_PURGE"] = "cron"
    client.get("/login")
    assert [r[0] for r in _rows(app)] == ["old"]
    app.config["YBT_AUDIT_PURGE"] = "request"
    app.config["YBT_AUDIT_RETENTION_DAYS"] = 0  # keep all
    _new_hour(app)
    client.get("/login")
    assert [r[0] for r in _rows(app)] == ["old"]

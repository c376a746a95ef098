"""Migrations build the whole schema from empty, and the models never drift from them."""

from __future__ import annotations

from sqlalchemy import func, inspect, select

from app.db import Database, drift
from app.models import CodeItem, TagType, metadata


def test_upgrade_from_empty_builds_every_table(db_url: str) -> None:
    db = Database(db_url)
    try:
        tables = set(inspect(db.engine).get_table_names())
        assert {t.name for t in metadata.sorted_tables} <= tables
        with db.session() as session:
            assert session.execute(select(func.count()).select_from(CodeItem)).scalar() > 300
            assert session.get(TagType, "dibao").department == "mca"
    finally:
        db.engine.dispose()


def test_models_and_migrations_do_not_drift(db_url: str) -> None:
    assert drift(db_url) == []


def test_drift_is_detected(db_url: str) -> None:
    """The check can fail: a column the models lack shows up as a difference."""
    db = Database(db_url)
    try:
        with db.engine.begin() as conn:
            conn.exec_driver_sql("ALTER TABLE person ADD COLUMN nickname VARCHAR(20)")
    finally:
        db.engine.dispose()
    differences = drift(db_url)
    assert any("nickname" in str(d) for d in differences)

"""Migrations build the whole schema from empty, and the models never drift from them."""

from __future__ import annotations

from sqlalchemy import func, inspect, select

from app.db import Database, drift, migrate
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


def test_upgrade_keeps_a_populated_database(db_url: str) -> None:
    """Later revisions apply to a database that already holds history (foreign keys on): back to 0003,
    a change batch referenced by a change-log row, then up to head again — nothing lost, no leftovers."""
    from alembic import command

    from app.db import alembic_config

    command.downgrade(alembic_config(db_url), "0003")
    db = Database(db_url)
    try:
        with db.engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO change_batch (id, source, created_at, note) VALUES (1, 'web', '2026-11-01 08:00:00', 'before')"
            )
            conn.exec_driver_sql(
                "INSERT INTO change_log (batch_id, entity, entity_id, action, changes) VALUES (1, 'person', '7', 'update', '{}')"
            )
    finally:
        db.engine.dispose()
    migrate(db_url)
    db = Database(db_url)
    try:
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT note FROM change_batch").scalars().all() == ["before"]
            assert conn.exec_driver_sql("SELECT count(*) FROM change_log").scalar() == 1
        tables = set(inspect(db.engine).get_table_names())
        assert not {t for t in tables if t.startswith("_alembic_tmp")}
        assert {t.name for t in metadata.sorted_tables} <= tables
    finally:
        db.engine.dispose()
    assert drift(db_url) == []

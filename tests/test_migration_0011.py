"""Revision 0011 gives a database migrated before 高龄津贴 existed its tag type and band code list."""

from __future__ import annotations

from alembic import command
from sqlalchemy import func, select

from app.db import Database, alembic_config, migrate
from app.models import CodeItem, CodeList, TagType


def _aged(db_url: str) -> tuple[TagType | None, list[tuple[str, str]], int]:
    db = Database(db_url)
    try:
        with db.session() as s:
            tag_type = s.get(TagType, "aged_allowance")
            if tag_type is not None:
                s.expunge(tag_type)
            items = [(i.code, i.label) for i in s.execute(
                select(CodeItem).where(CodeItem.list_name == "aged_allowance_band").order_by(CodeItem.sort_order)).scalars()]
            types = s.execute(select(func.count()).select_from(TagType)).scalar_one()
            return tag_type, items, types
    finally:
        db.engine.dispose()


def test_inserts_the_aged_allowance_only_when_missing(db_url: str) -> None:
    fresh, items, types = _aged(db_url)
    assert fresh is not None and fresh.department == "mca" and fresh.subject == "person"
    assert items == [("1", "80–89周岁"), ("2", "90–99周岁"), ("3", "100周岁及以上")]

    # a database from before: at 0010 and without the rows (0002 once read an older tag_types.json)
    command.downgrade(alembic_config(db_url), "0010")
    db = Database(db_url)
    try:
        with db.engine.begin() as conn:
            conn.exec_driver_sql("DELETE FROM tag_type WHERE code = 'aged_allowance'")
            conn.exec_driver_sql("DELETE FROM code_item WHERE list_name = 'aged_allowance_band'")
            conn.exec_driver_sql("DELETE FROM code_list WHERE name = 'aged_allowance_band'")
    finally:
        db.engine.dispose()
    assert _aged(db_url)[0] is None
    migrate(db_url)
    added, items_after, types_after = _aged(db_url)
    assert added is not None and added.attributes == fresh.attributes and added.name == "高龄津贴"
    assert added.sort_order == types  # after every other type
    assert items_after == items and types_after == types

    # and where they exist already (a new database), the upgrade adds no second copy
    command.downgrade(alembic_config(db_url), "0010")
    migrate(db_url)
    assert _aged(db_url)[1:] == (items, types)
    db = Database(db_url)
    try:
        with db.session() as s:
            assert s.get(CodeList, "aged_allowance_band").title == "高龄津贴档次"
    finally:
        db.engine.dispose()

"""The reading child of a web upload has no app: it must read with the parent's tag types (a tag type
saved in the browser), not the seed files the migrations started from."""

from __future__ import annotations

from flask import Flask

from app.db import get_db
from app.models import TagType
from app.registry.loader import invalidate_context
from app.services.imports import code_lists
from importers.isolated import parse_file_isolated


def test_child_reader_recognises_a_tag_type_saved_in_the_database(app: Flask) -> None:
    with get_db(app).session() as session:
        session.add(TagType(code="forest_ranger", name="生态护林员", subject="person", department="ly",
                            attributes=[{"name": "card_no", "label": "护林员证编号", "type": "text"}]))
        session.commit()
    invalidate_context()
    csv = "姓名,公民身份号码,护林员证编号\n张三,110101199003071234,HL-001\n".encode()
    with app.app_context(), get_db(app).session() as session:
        parsed = parse_file_isolated(csv, file_name="护林员.csv", code_lists=code_lists(session))
    mapping = next(iter(parsed.mapping.values()))
    assert mapping.get("护林员证编号") == "forest_ranger.card_no", parsed.mapping

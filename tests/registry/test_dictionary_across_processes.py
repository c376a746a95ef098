"""A tag type saved by another server process (or the CLI) reaches this process's cached runtime
dictionary at its next request: the cache is keyed on the newest tag-type/observation-item change in
the database, not only on this process's own saves."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from app.db import get_db
from app.models import TagType, User
from app.registry.loader import runtime_context
from app.services import history


def test_a_tag_type_saved_elsewhere_is_seen_at_the_next_request(app: Flask) -> None:
    with app.app_context():
        assert "forest_ranger" not in runtime_context().tag_types  # cached now
    # what another process's save leaves in the database; its invalidate_context() does not reach us
    with get_db(app).session() as session:
        actor = session.execute(select(User)).scalars().first()
        session.add(TagType(code="forest_ranger", name="生态护林员", subject="person", department="ly",
                            attributes=[{"name": "card_no", "label": "护林员证编号", "type": "text"}]))
        batch = history.open_batch(session, actor, "web", note="新增标签类型 forest_ranger")
        history.log_change(session, batch, "tag_type", "forest_ranger", "create", {"name": (None, "生态护林员")})
        session.commit()
    with app.app_context():
        context = runtime_context()
        assert context.tag_types["forest_ranger"]["name"] == "生态护林员"
        assert runtime_context().tag_types is context.tag_types  # and cached again: one read per change

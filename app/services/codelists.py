"""Code lists read from the database (seeded by migration), cached per database."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session

from app.models import CodeItem

_cache: dict[str, dict[str, dict[str, str]]] = {}


def code_lists(session: Session) -> dict[str, dict[str, str]]:
    """``{list_name: {code: label}}`` in sort order. Code lists change only through migrations."""
    key = str(session.get_bind().engine.url)
    if key not in _cache:
        lists: dict[str, dict[str, str]] = {}
        for item in session.execute(select(CodeItem).order_by(CodeItem.list_name, CodeItem.sort_order)).scalars():
            lists.setdefault(item.list_name, {})[item.code] = item.label
        _cache[key] = lists
    return _cache[key]


def labels(session: Session, list_name: str) -> dict[str, str]:
    return code_lists(session).get(list_name, {})


def clear_cache() -> None:
    _cache.clear()

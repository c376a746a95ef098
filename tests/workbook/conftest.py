"""Fixtures for the workbook round-trip tests: a session on a fresh database and the hand-made village."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import Session
from village_data import Village, build

from app.db import Database
from app.services.codelists import clear_cache


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    yield database
    database.engine.dispose()


@pytest.fixture
def session(db: Database) -> Iterator[Session]:
    clear_cache()
    with db.session() as s:
        yield s


@pytest.fixture
def village(session: Session) -> Village:
    return build(session)

"""Fixtures for import tests: the hand-made county of tests/services (areas and one user per role)
and helpers that build the pipeline's output (ParsedFile / Record) by hand."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "services"))

from hand_county import County  # noqa: E402
from ledger import build_county  # noqa: E402

from app.db import Database  # noqa: E402


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    yield database
    database.engine.dispose()


@pytest.fixture
def session(db: Database) -> Iterator[Session]:
    with db.session() as s:
        yield s


@pytest.fixture
def county(session: Session) -> County:
    return build_county(session)

"""Fixtures for report tests: the hand-made county of hand_data.py on a fresh database (both backends)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from hand_data import HandCounty, build
from sqlmodel import Session

from app.db import get_db
from app.reporting.frames import CACHE


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    with get_db(app).session() as s:
        yield s


@pytest.fixture
def hand(app: Flask, session: Session) -> HandCounty:
    CACHE.clear()
    return build(session)

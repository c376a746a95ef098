"""Village-entry fixtures: the hand-made county of tests/reports/hand_data.py plus a township user and a
grid (with its worker) in 甲村, and logged-in test clients."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "reports"))

from hand_data import TOWN_1, V1, HandCounty, build  # noqa: E402
from village_helpers import GRID, PASSWORD  # noqa: E402

from app.db import get_db  # noqa: E402
from app.models import Area  # noqa: E402
from app.reporting.frames import CACHE  # noqa: E402
from app.services.users import create_user  # noqa: E402


@pytest.fixture
def hand(app: Flask) -> HandCounty:
    CACHE.clear()
    with get_db(app).session() as session:
        county = build(session)
        session.add(Area(code=GRID, name="第1网格", level=6, parent_code=V1, valid_from=date(2000, 1, 1)))
        session.flush()
        create_user(session, "town_1", PASSWORD, "青石镇干部", "township_staff", TOWN_1)
        create_user(session, "grid_1", PASSWORD, "甲村网格员", "village_cadre", GRID)
        session.commit()
        return county


@pytest.fixture
def login(app: Flask, hand: HandCounty) -> Callable[[str], FlaskClient]:
    """A new test client logged in as ``username`` (each call is a separate browser session)."""

    def make(username: str) -> FlaskClient:
        client = app.test_client()
        response = client.post("/login", data={"username": username, "password": PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return make

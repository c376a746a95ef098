"""Village-entry fixtures: the hand-made county of tests/reports/hand_data.py plus a township user and a
grid (with its worker) in 甲村, and logged-in test clients."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "reports"))

from hand_data import TOWN_1, V1, HandCounty, build  # noqa: E402

from app.db import get_db  # noqa: E402
from app.models import Area  # noqa: E402
from app.reporting.frames import CACHE  # noqa: E402
from app.services.users import create_user  # noqa: E402

PASSWORD = "password-123"
GRID = V1 + "001"


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


def field_value(html: str, name: str) -> str:
    """The value of the input named ``name`` in a page (hidden or visible)."""
    match = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*value="([^"]*)"', html) or \
        re.search(rf'<input[^>]*value="([^"]*)"[^>]*name="{re.escape(name)}"', html)
    assert match, f"no input {name}"
    return match.group(1)


def form_values(html: str) -> dict[str, str]:
    """Every input and selected option of the page's entry form, as a browser would post them."""
    values: dict[str, str] = {}
    for match in re.finditer(r'<input([^>]*)>', html):
        attrs = dict(re.findall(r'(\w[\w-]*)="([^"]*)"', match.group(1)))
        if "name" in attrs and attrs.get("type") not in ("checkbox", "search"):
            values[attrs["name"]] = attrs.get("value", "")
    for match in re.finditer(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', html, re.S):
        selected = re.search(r'<option value="([^"]*)" selected', match.group(2))
        values[match.group(1)] = selected.group(1) if selected else ""
    return values

"""Fixtures for the report pages: the hand-made county of tests/reports/hand_data.py on a fresh
database (SQLite and PostgreSQL), and a client that logs in as one of its users."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "reports"))

from hand_data import HandCounty, build  # noqa: E402

from app.db import get_db  # noqa: E402
from app.reporting.frames import CACHE  # noqa: E402

PASSWORD = "password-123"


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    with get_db(app).session() as s:
        yield s


@pytest.fixture
def hand(app: Flask, session: Session) -> HandCounty:
    CACHE.clear()
    return build(session)


@pytest.fixture
def login(client: FlaskClient, hand: HandCounty) -> Callable[[str], FlaskClient]:
    """``login("mca")`` logs the client in as that hand-made user (logging out whoever was in)."""

    def do(username: str) -> FlaskClient:
        client.post("/logout")
        response = client.post("/login", data={"username": username, "password": PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return do

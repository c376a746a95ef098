"""Fixtures for collection-task tests: the hand-made county of tests/reports/hand_data.py (both
backends) plus the users a task involves: a cadre per village and staff per township."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "reports"))

from hand_data import COUNTY, TOWN_1, TOWN_2, V2, V3, build  # noqa: E402
from task_helpers import PASSWORD, TaskPeople  # noqa: E402

from app.db import get_db  # noqa: E402
from app.reporting.frames import CACHE  # noqa: E402
from app.services.users import create_user  # noqa: E402


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    with get_db(app).session() as s:
        yield s


@pytest.fixture
def people(app: Flask, session: Session) -> TaskPeople:
    CACHE.clear()
    hand = build(session)
    extra = TaskPeople(
        hand=hand,
        cadre_2=create_user(session, "cadre_2", PASSWORD, "乙村干部", "village_cadre", V2),
        cadre_3=create_user(session, "cadre_3", PASSWORD, "丙村干部", "village_cadre", V3),
        town_1=create_user(session, "town_1", PASSWORD, "青石镇干部", "township_staff", TOWN_1),
        town_2=create_user(session, "town_2", PASSWORD, "石门乡干部", "township_staff", TOWN_2),
        town_1_mca=create_user(session, "town_1_mca", PASSWORD, "青石镇民政办", "department", TOWN_1, "mca"),
        nhc=hand.nhc,
    )
    session.commit()
    assert COUNTY
    return extra


@pytest.fixture
def login(client: FlaskClient, people: TaskPeople) -> Callable[[str], FlaskClient]:
    def do(username: str) -> FlaskClient:
        client.post("/logout")
        response = client.post("/login", data={"username": username, "password": PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return do

"""View-test fixtures: a small area tree, one user per role, some base data, and a login helper."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session
from view_helpers import GRID_A1, PASSWORD, TREE, USERS, VILLAGE_A, VILLAGE_B, AuthActions

from app import clock
from app.db import get_db
from app.models import Area, User
from app.services import households, persons, tags
from app.services.users import create_user
from app.validators.idcard import make_id_number


@contextmanager
def transaction(app: Flask) -> Iterator[Session]:
    """A committed unit of work outside any request, as a CLI command or seed script would do it."""
    with get_db(app).transaction() as session:
        yield session


@pytest.fixture
def areas(app: Flask) -> None:
    with transaction(app) as session:
        session.add_all([Area(code=c, name=n, level=lv, parent_code=p) for c, n, lv, p in TREE])


@pytest.fixture
def make_user(app: Flask, areas: None) -> Callable[..., int]:
    """Create a user through the users service; returns its id."""

    def make(username: str, role: str, area_code: str, department: str | None = None, *,
             display_name: str | None = None, password: str = PASSWORD) -> int:
        with transaction(app) as session:
            user = create_user(session, username, password, display_name or f"{username}的姓名", role, area_code, department)
            return int(user.id)  # type: ignore[arg-type]

    return make


@pytest.fixture
def users(make_user: Callable[..., int]) -> dict[str, int]:
    return {name: make_user(name, role, area, dept) for name, (role, area, dept) in USERS.items()}


@pytest.fixture
def base_data(app: Flask, users: dict[str, int]) -> dict[str, int]:
    """Households, persons and tags in villages A (incl. its grid) and B, entered by an admin.

    Village A: 3 households (one in grid 1), 7 persons of whom one died, residence types
    1, 2, 3, 3, 4, (dead 1), 1; a 低保 household and a 党员; one ended tag.
    Village B: 1 低保 household with 2 persons of residence type 1.
    """
    ids: dict[str, int] = {}
    seq = iter(range(101, 999, 2))
    with transaction(app) as session:
        admin = session.get(User, users["admin"])

        def household(key: str, area: str) -> int:
            h = households.create_household(session, admin, {"number": f"H{area}{len(ids):03d}", "area_code": area})
            ids[key] = int(h.id)
            return ids[key]

        def person(key: str, household_id: int, area: str, residence: str, relation: str = "02") -> int:
            p = persons.create_person(session, admin, {
                "id_number": make_id_number("339901", date(1980, 1, 1), next(seq)), "name": f"村民{key}",
                "area_code": area, "household_id": household_id, "relation": relation, "residence_type": residence,
            })
            ids[key] = int(p.id)
            return ids[key]

        h1, h2, h3 = household("h1", VILLAGE_A), household("h2", VILLAGE_A), household("h3", GRID_A1)
        person("p1", h1, VILLAGE_A, "1")
        person("p2", h1, VILLAGE_A, "2", "10")
        person("p3", h1, VILLAGE_A, "3", "20")
        person("p4", h2, VILLAGE_A, "3")
        person("p5", h2, VILLAGE_A, "4", "10")
        person("p6", h2, VILLAGE_A, "1", "50")
        person("p7", h3, GRID_A1, "1")
        h4 = household("h4", VILLAGE_B)
        person("p8", h4, VILLAGE_B, "1")
        person("p9", h4, VILLAGE_B, "1", "10")

        since = date(2024, 1, 1)
        tags.grant_tag(session, admin, "dibao", h1, since, attrs={"kind": "2"})
        tags.grant_tag(session, admin, "dibao", h4, since, attrs={"kind": "2"})
        tags.grant_tag(session, admin, "party_member", ids["p1"], since)
        ended = tags.grant_tag(session, admin, "left_behind_elderly", ids["p2"], since)
        tags.end_tag(session, admin, int(ended.id), date(2024, 6, 1))  # type: ignore[arg-type]
        tags.grant_tag(session, admin, "party_member", ids["p6"], since)
        persons.end_person(session, admin, ids["p6"], "death", clock.today())  # ends p6's tags too
    return ids


@pytest.fixture
def auth(client: FlaskClient) -> AuthActions:
    return AuthActions(client)

"""Fixtures for import tests: the hand-made county of tests/services (areas and one user per role)
and helpers that build the pipeline's output (ParsedFile / Record) by hand."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "services"))

from hand_county import (  # noqa: E402
    CITY,
    COUNTY,
    GRID_A1,
    PROVINCE,
    TOWN_1,
    TOWN_2,
    VILLAGE_A,
    VILLAGE_B,
    VILLAGE_C,
    County,
)

from app.db import Database  # noqa: E402
from app.models import Area  # noqa: E402
from app.services.users import create_user  # noqa: E402

PASSWORD = "password-123"


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    yield database
    database.engine.dispose()


@pytest.fixture
def session(db: Database) -> Iterator[Session]:
    with db.session() as s:
        yield s


def build_county(session: Session) -> County:
    areas = [
        (PROVINCE, "浙江省", 1, None), (CITY, "示范市", 2, PROVINCE), (COUNTY, "云溪县", 3, CITY),
        (TOWN_1, "青石镇", 4, COUNTY), (TOWN_2, "石门乡", 4, COUNTY),
        (VILLAGE_A, "甲村", 5, TOWN_1), (VILLAGE_B, "乙村", 5, TOWN_1), (VILLAGE_C, "丙村", 5, TOWN_2),
        (GRID_A1, "第1网格", 6, VILLAGE_A),
    ]
    for code, name, level, parent in areas:
        session.add(Area(code=code, name=name, level=level, parent_code=parent, valid_from=date(2000, 1, 1)))
    session.flush()
    result = County(
        admin=create_user(session, "admin", PASSWORD, "管理员", "admin", COUNTY),
        cadre_a=create_user(session, "cadre_a", PASSWORD, "甲村干部", "village_cadre", VILLAGE_A),
        cadre_b=create_user(session, "cadre_b", PASSWORD, "乙村干部", "village_cadre", VILLAGE_B),
        grid_a1=create_user(session, "grid_a1", PASSWORD, "甲村网格员", "village_cadre", GRID_A1),
        township_1=create_user(session, "town_1", PASSWORD, "青石镇干部", "township_staff", TOWN_1),
        mca=create_user(session, "mca", PASSWORD, "县民政局", "department", COUNTY, "mca"),
        nhc=create_user(session, "nhc", PASSWORD, "县卫健局", "department", COUNTY, "nhc"),
    )
    session.commit()
    return result


@pytest.fixture
def county(session: Session) -> County:
    return build_county(session)

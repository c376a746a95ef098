"""The hand-made county shared by service tests: names, codes and helpers (fixtures are in conftest.py)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from app.models import User
from app.validators.idcard import make_id_number

PROVINCE, CITY, COUNTY = "330000000000", "339900000000", "339901000000"
TOWN_1, TOWN_2 = "339901100000", "339901200000"
VILLAGE_A, VILLAGE_B, VILLAGE_C = "339901100201", "339901100202", "339901200201"
GRID_A1 = VILLAGE_A + "001"


@dataclass
class County:
    admin: User
    cadre_a: User
    cadre_b: User
    grid_a1: User
    township_1: User
    mca: User
    nhc: User


def id_number(birth: date, seq: int) -> str:
    """A valid synthetic ID; odd ``seq`` = male."""
    return make_id_number("339901", birth, seq)


def names_alive(persons: Iterable[dict[str, Any]]) -> set[str]:
    return {p["name"] for p in persons if p["living_status"] == "1"}

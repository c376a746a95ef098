"""Shared constants and helpers of the view tests (imported by conftest.py and the test modules)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

PASSWORD = "test-pass-2026"
PROVINCE, CITY, COUNTY = "330000000000", "339900000000", "339901000000"
TOWNSHIP = "339901100000"
VILLAGE_A, VILLAGE_B = "339901100201", "339901100202"
GRID_A1 = "339901100201001"

TREE: tuple[tuple[str, str, int, str | None], ...] = (
    (PROVINCE, "浙江省", 1, None),
    (CITY, "示范市", 2, PROVINCE),
    (COUNTY, "云溪县", 3, CITY),
    (TOWNSHIP, "青山镇", 4, COUNTY),
    (VILLAGE_A, "青山村", 5, TOWNSHIP),
    (VILLAGE_B, "绿水村", 5, TOWNSHIP),
    (GRID_A1, "第1网格", 6, VILLAGE_A),
)

# username → (role, area, department)
USERS: dict[str, tuple[str, str, str | None]] = {
    "cadre_a": ("village_cadre", VILLAGE_A, None),
    "cadre_b": ("village_cadre", VILLAGE_B, None),
    "grid_a1": ("village_cadre", GRID_A1, None),
    "township": ("township_staff", TOWNSHIP, None),
    "mca": ("department", COUNTY, "mca"),
    "admin": ("admin", COUNTY, "data"),
}


@dataclass(frozen=True)
class Expected:
    """The counts the ``base_data`` fixture produces."""

    households: int
    living: int
    registered: int  # 户籍: residence_type 1, 2
    resident: int  # 常住: residence_type 1, 3
    dibao: int


EXPECTED = {
    VILLAGE_A: Expected(households=3, living=6, registered=3, resident=4, dibao=1),
    VILLAGE_B: Expected(households=1, living=2, registered=2, resident=2, dibao=1),
    GRID_A1: Expected(households=1, living=1, registered=1, resident=1, dibao=0),
}


class AuthActions:
    def __init__(self, client: FlaskClient):
        self._client = client

    def login(self, username: str = "cadre_a", password: str = PASSWORD, **extra: str) -> TestResponse:
        return self._client.post("/login", data={"username": username, "password": password, **extra})

    def logout(self) -> TestResponse:
        return self._client.post("/logout")


# -- reading rendered pages ----------------------------------------------------------------------

_STAT = re.compile(r'<div class="stat-value">(\d+)</div>\s*<div class="stat-label">([^<]+)</div>')
_ROW = re.compile(r"<tr[^>]*>(.*?)</tr>", re.S)
_CELL = re.compile(r"<t[dh][^>]*>(.*?)</t[dh]>", re.S)


def stats(html: str) -> dict[str, int]:
    """The landing page's stat cards as ``{label: value}``."""
    return {label.strip(): int(value) for value, label in _STAT.findall(html)}


def table_rows(html: str) -> list[list[str]]:
    """Every table row's cell texts (tags stripped)."""
    return [[re.sub(r"<[^>]+>", "", c).strip() for c in _CELL.findall(row)] for row in _ROW.findall(html)]


def row_for(html: str, first_cell: str) -> list[str]:
    matches = [r for r in table_rows(html) if r and r[0] == first_cell]
    assert len(matches) == 1, f"expected one row starting with {first_cell!r}, got {matches}"
    return matches[0]

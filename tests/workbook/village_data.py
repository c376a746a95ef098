"""A hand-made village for the workbook tests: two households in 甲村, one in 乙村, three tags.

甲村 (VILLAGE_A): A001 张一 (户主, 1960, 持证残疾 肢体二级), 李一 (配偶, 1962), 张二 (子, 1990), with 低保
(农村低保, 500 元, 3 人); A002 王一 (户主, 1975, 党员). 乙村 (VILLAGE_B): B001 赵一 (户主, 1980).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from sqlmodel import Session

from app.models import Area, User
from app.services import households, persons, tags
from app.services.users import create_user
from app.validators.idcard import make_id_number

COUNTY, TOWN = "339901000000", "339901100000"
VILLAGE_A, VILLAGE_B = "339901100201", "339901100202"
SINCE = date(2020, 1, 1)


def idn(birth: date, seq: int) -> str:
    """A valid synthetic ID number (odd seq = male)."""
    return make_id_number("339901", birth, seq)


@dataclass
class Village:
    admin: User
    cadre: User  # 甲村
    colleague: User  # another cadre of 甲村
    other: User  # 乙村
    ids: dict[str, int]


def build(session: Session) -> Village:
    for code, name, level, parent in ((COUNTY, "云溪县", 3, None), (TOWN, "青石镇", 4, COUNTY), (VILLAGE_A, "甲村", 5, TOWN),
                                      (VILLAGE_B, "乙村", 5, TOWN)):
        session.add(Area(code=code, name=name, level=level, parent_code=parent, valid_from=date(2000, 1, 1)))
    session.flush()
    pw = "password-123"
    admin = create_user(session, "admin", pw, "管理员", "admin", COUNTY)
    v = Village(admin, create_user(session, "cadre_a", pw, "甲村干部", "village_cadre", VILLAGE_A),
                create_user(session, "cadre_a2", pw, "甲村文书", "village_cadre", VILLAGE_A),
                create_user(session, "cadre_b", pw, "乙村干部", "village_cadre", VILLAGE_B), {})
    ids = v.ids
    for key, number, area in (("h1", "A001", VILLAGE_A), ("h2", "A002", VILLAGE_A), ("hb", "B001", VILLAGE_B)):
        ids[key] = households.create_household(session, admin, {"number": number, "area_code": area, "address": f"{number}号"},
                                               effective=SINCE).id
    people = (
        ("zhang1", "张一", date(1960, 5, 1), 11, "h1", "02"), ("li1", "李一", date(1962, 6, 2), 12, "h1", "10"),
        ("zhang2", "张二", date(1990, 7, 3), 13, "h1", "20"), ("wang1", "王一", date(1975, 8, 4), 15, "h2", "02"),
        ("zhao1", "赵一", date(1980, 9, 5), 17, "hb", "02"),
    )
    for key, name, birth, seq, household, relation in people:
        area = VILLAGE_B if household == "hb" else VILLAGE_A
        ids[key] = persons.create_person(session, admin, {
            "id_number": idn(birth, seq), "name": name, "household_id": ids[household], "area_code": area,
            "relation": relation, "ethnic_group": "01",
        }, effective=SINCE).id
    ids["dibao"] = tags.grant_tag(session, admin, "dibao", ids["h1"], SINCE,
                                  attrs={"kind": "2", "monthly_amount": 500, "covered_persons": 3}).id
    ids["disabled"] = tags.grant_tag(session, admin, "disabled", ids["zhang1"], SINCE, attrs={"category": "4", "grade": "2"}).id
    ids["party"] = tags.grant_tag(session, admin, "party_member", ids["wang1"], SINCE).id
    session.commit()
    return v


# -------------------------------------------------------------------- editing as a cadre would in Excel


def header_index(ws: Worksheet) -> dict[str, int]:
    return {c.value: c.column for c in ws[1] if c.value}


def find_row(ws: Worksheet, header: str, value: Any) -> int:
    col = header_index(ws)[header]
    for r in range(3, ws.max_row + 1):
        if ws.cell(r, col).value == value:
            return r
    raise KeyError(f"{header}={value} not in {ws.title}")


def set_cell(ws: Worksheet, row: int, header: str, value: Any) -> None:
    ws.cell(row, header_index(ws)[header]).value = value


def append_row(ws: Worksheet, values: dict[str, Any]) -> int:
    row = ws.max_row + 1
    for header, value in values.items():
        ws.cell(row, header_index(ws)[header]).value = value
    return row


def edit(content: bytes, change: Callable[[Any], None]) -> bytes:
    """Open the workbook with openpyxl (as Excel would), let ``change`` edit it, save it."""
    wb = load_workbook(io.BytesIO(content))
    change(wb)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()

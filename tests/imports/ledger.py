"""Hand-made pipeline output: what importers.pipeline.parse_file hands the apply layer."""

from __future__ import annotations

import hashlib
import os
from datetime import date
from typing import Any

from hand_county import (
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
from sqlmodel import Session

from app.issues import Issue
from app.models import Area
from app.services.users import create_user
from app.validators.idcard import make_id_number
from importers.model import ParsedFile, Record, SourceRow

PASSWORD = "password-123"
COLUMNS = {"name": "B", "id_number": "C", "sex": "D", "birth_date": "E", "relation": "F", "phone": "G",
           "household_number": "A", "number": "A", "address": "H"}


def dead_pid() -> int:
    """A process id with no process behind it (a killed server or ``ybt import``)."""
    pid = 2**22 - 7
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        except PermissionError:
            pass
        pid -= 1


def pid(birth: date, seq: int) -> str:
    return make_id_number("339901", birth, seq)


def person(row: int, id_number: str, name: str, household: str | None = None, sheet: str = "花名册",
           issues: list[Issue] | None = None, **values: Any) -> Record:
    vals = {"id_number": id_number, "name": name, **values}
    if household:
        vals["household_number"] = household
    src = SourceRow(sheet, row, {"姓名": name, "身份证号": id_number}, {k: COLUMNS[k] for k in vals if k in COLUMNS})
    return Record("person", id_number, vals, src, list(issues or []))


def household(row: int, number: str, sheet: str = "花名册", **values: Any) -> Record:
    vals = {"number": number, **values}
    return Record("household", number, vals, SourceRow(sheet, row, {"户号": number}, {"number": "A", "address": "H"}))


def tag(row: int, code: str, subject: str, sheet: str = "花名册", **values: Any) -> Record:
    return Record("tag", f"{code}:{subject}", {"code": code, **values}, SourceRow(sheet, row, {}, {}))


def parsed(records: list[Record], name: str = "台账.xlsx", issues: list[Issue] | None = None) -> ParsedFile:
    rows = {(r.source.sheet, r.source.row) for r in records}
    digest = hashlib.sha256(repr([(r.entity, r.key, sorted(r.values.items(), key=str)) for r in records]).encode()).hexdigest()
    return ParsedFile(name, digest, records, list(issues or []), rows_read=len(rows), sheets=sorted({s for s, _ in rows}))


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

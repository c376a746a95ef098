"""A township 低保 roster as villages keep it (issue 15): merged household blocks, no 户号 column, a
colloquial relation word, a bad phone, a head with a wrong ID. Built in code; every person synthetic."""

from __future__ import annotations

import io
from datetime import date

from openpyxl import Workbook
from sqlmodel import Session

from app.services import households, persons
from app.validators.idcard import make_id_number


def pid(birth: date, seq: int) -> str:
    return make_id_number("339901", birth, seq)


QIAN_YI = pid(date(1956, 3, 1), 11)     # head of block 1 (new)
WU_ER = pid(date(1958, 4, 2), 22)       # 老伴 of 钱一
QIAN_SAN = pid(date(1982, 5, 3), 31)    # 儿子, with a bad phone number
ZHAO_YI = pid(date(1950, 1, 1), 41)     # head of block 2, already registered in H-001
ZHAO_XIAO = pid(date(2010, 6, 6), 51)   # 孙子 of 赵一 (new)
BAD_HEAD = pid(date(1961, 7, 7), 61)[:-1] + ("0" if pid(date(1961, 7, 7), 61)[-1] != "0" else "1")  # checksum wrong
ZHOU_MEMBER = pid(date(1990, 8, 8), 72)  # member of the block whose head is refused
SUN_LIU = pid(date(1948, 9, 9), 81)     # a one-person household, no merge


def existing(session: Session, admin, village: str) -> int:
    h = households.create_household(session, admin, {"number": "H-001", "area_code": village, "address": "甲村1号"},
                                    effective=date(2020, 1, 1))
    persons.create_person(session, admin, {"id_number": ZHAO_YI, "name": "赵一", "relation": "02", "area_code": village,
                                           "household_id": h.id}, effective=date(2020, 1, 1))
    session.commit()
    return h.id


def roster(*, with_kind: bool = True) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "甲村"
    header = ["序号", "户主姓名", "家庭成员姓名", "身份证号", "与户主关系", "联系电话"] + (["低保类别"] if with_kind else [])
    ws.append(["2025年农村低保对象花名册"])
    ws.append(header)
    kind = ["农村低保"] if with_kind else []
    rows = [
        [1, "钱一", "钱一", QIAN_YI, "户主", "13800000001", *kind],     # row 3
        [None, None, "吴二", WU_ER, "老伴", None, *([None] if with_kind else [])],
        [None, None, "钱三", QIAN_SAN, "儿子", "138000000", *([None] if with_kind else [])],  # phone of 9 digits
        [2, "赵一", "赵一", ZHAO_YI, "户主", None, *kind],               # row 6
        [None, None, "赵小", ZHAO_XIAO, "孙子", None, *([None] if with_kind else [])],
        [3, "周大", "周大", BAD_HEAD, "户主", None, *kind],              # row 8
        [None, None, "周二", ZHOU_MEMBER, "女儿", None, *([None] if with_kind else [])],
        [4, "孙六", "孙六", SUN_LIU, "户主", None, *kind],               # row 10
    ]
    for r in rows:
        ws.append(r)
    last = chr(64 + len(header))
    ws.merge_cells(f"A1:{last}1")
    for top, bottom in ((3, 5), (6, 7), (8, 9)):
        ws.merge_cells(f"A{top}:A{bottom}")
        ws.merge_cells(f"B{top}:B{bottom}")
        if with_kind:
            ws.merge_cells(f"G{top}:G{bottom}")
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()

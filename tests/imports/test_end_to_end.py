"""A real messy workbook (title, two-row merged header, merged household block, total row) through
the reader (importers.pipeline) and the apply layer: preview, apply, import again, a changed copy."""

from __future__ import annotations

import io
from datetime import date

import pytest
from hand_county import VILLAGE_A, County
from ledger import pid
from openpyxl import Workbook
from sqlalchemy import select
from sqlmodel import Session

from app.models import Household, ImportConflict, Person
from app.services import imports

pytest.importorskip("importers.pipeline")

SUN, LI, ZHOU = pid(date(1960, 5, 1), 11), pid(date(1962, 6, 2), 22), pid(date(1990, 3, 3), 31)


def workbook(li_phone: str | None = None, li_name: str = "李四", zhou_id: str = ZHOU) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "花名册"
    ws.append(["甲村2024年户籍人口花名册"])
    ws.merge_cells("A1:H1")
    ws.append(["户号", "户主", "家庭成员", None, None, None, "联系电话", "住址"])
    ws.append([None, None, "姓名", "身份证号", "性别", "与户主关系", None, None])
    for rng in ("A2:A3", "B2:B3", "C2:F2", "G2:G3", "H2:H3"):
        ws.merge_cells(rng)
    ws.append(["H-100", "孙三", "孙三", SUN, "男", "户主", "13800000001", "甲村9号"])
    ws.append([None, None, li_name, LI.lower(), "女", "妻", li_phone, None])
    ws.append([None, None, "周五", zhou_id, "男", "子", None, None])
    for rng in ("A4:A6", "B4:B6", "H4:H6"):
        ws.merge_cells(rng)
    ws.append(["合计", None, "3人"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_messy_ledger_preview_apply_and_again(session: Session, county: County) -> None:
    content = workbook()
    preview, _ = imports.run_import(session, county.cadre_a, content, "甲村花名册.xlsx", area_code=VILLAGE_A)
    assert (preview.status, preview.counts["rows"], preview.counts["applied"]) == ("previewed", 3, 3)
    assert session.execute(select(Person)).first() is None

    applied, _ = imports.apply_import(session, county.cadre_a, preview.id)
    assert applied.counts["records"]["person"]["new"] == 3 and applied.counts["records"]["household"]["new"] == 1
    h = session.execute(select(Household).where(Household.number == "H-100")).scalar_one()
    members = session.execute(select(Person.name, Person.relation, Person.sex).where(Person.household_id == h.id)
                              .order_by(Person.birth_date)).all()
    assert [tuple(m) for m in members] == [("孙三", "02", "1"), ("李四", "12", "2"), ("周五", "20", "1")]
    assert (h.address, h.area_code) == ("甲村9号", VILLAGE_A)

    again, _ = imports.run_import(session, county.cadre_a, content, "甲村花名册.xlsx", area_code=VILLAGE_A, dry_run=False)
    assert (again.counts["applied"], again.counts["unchanged"]) == (0, 3)

    changed, result = imports.run_import(session, county.cadre_a, workbook(li_phone="13900000002", li_name="李 肆"),
                                         "甲村花名册-新.xlsx", area_code=VILLAGE_A, dry_run=False)
    li = next(o for o in result.outcomes if o.record.key == LI)
    assert (li.status, li.changes, li.conflicts) == ("conflict", {"phone": (None, "13900000002")}, {"name": ("李四", "李肆")})
    assert session.execute(select(ImportConflict.field, ImportConflict.file_value)).all() == [("name", "李肆")]


def test_bad_cell_rejects_only_its_row(session: Session, county: County) -> None:
    batch, result = imports.run_import(session, county.cadre_a, workbook(zhou_id=ZHOU[:-1] + ("0" if ZHOU[-1] != "0" else "1")),
                                       "坏号.xlsx", area_code=VILLAGE_A, dry_run=False)
    assert (batch.counts["applied"], batch.counts["rejected"]) == (2, 1)
    bad = next(o for o in result.outcomes if o.status == "rejected")
    assert bad.record.source.row == 6 and any(i.location.get("column") == "D" for i in bad.issues)
    assert session.execute(select(Person.name).order_by(Person.name)).scalars().all() == sorted(["孙三", "李四"])

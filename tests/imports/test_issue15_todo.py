"""Issue 15: a roster without the 低保类别 column keeps every 低保 tag with the attribute 待补充, lists it
on the village's to-do page and in ``ybt import show``; ``ybt import --effective`` back-dates a ledger."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from dibao_roster import QIAN_YI, SUN_LIU, ZHAO_YI, existing, roster
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from hand_county import VILLAGE_A, County
from ledger import PASSWORD, build_county
from sqlalchemy import func, select
from sqlmodel import Session

from app.db import get_db
from app.models import ChangeLog, Household, Person, Tag
from app.services import imports
from app.services import tags as tag_service


def test_missing_required_attribute_keeps_the_tag_as_pending(session: Session, county: County) -> None:
    existing(session, county.admin, VILLAGE_A)
    batch, result = imports.run_import(session, county.cadre_a, roster(with_kind=False), "低保花名册（无类别）.xlsx",
                                       area_code=VILLAGE_A, dry_run=False)
    # the same rows as with the column: only row 8 (the head with the wrong ID) is refused
    assert (batch.counts["rows"], batch.counts["applied"], batch.counts["rejected"]) == (8, 7, 1)
    tags = session.execute(select(Tag.household_id, Tag.attrs, Tag.pending_attrs).where(Tag.tag_code == "dibao")).all()
    numbers = dict(session.execute(select(Household.id, Household.number)).all())
    assert sorted((numbers[h], a, p) for h, a, p in tags) == sorted([
        (QIAN_YI, {}, ["kind"]), ("H-001", {}, ["kind"]), (SUN_LIU, {}, ["kind"])])
    warnings = [(i.code, i.severity) for o in result.outcomes if o.record.entity == "tag" for i in o.record.issues]
    assert warnings == [("tag-attr-pending", "warning")] * 3
    # the village's to-do list, in scope: the cadre of village A sees three, the cadre of village B none
    todo = tag_service.pending_tags(session, county.cadre_a)
    assert [(t.tag_code, tt.name, s.number) for t, tt, s in todo] == [
        ("dibao", "低保", QIAN_YI), ("dibao", "低保", "H-001"), ("dibao", "低保", SUN_LIU)]
    assert tag_service.pending_tags(session, county.cadre_b) == []
    # the same roster with the column: the 待补充 attribute is a blank, filled (not a conflict), under the
    # default policy (queue); the to-do list empties
    again, result = imports.run_import(session, county.cadre_a, roster(with_kind=True), "低保花名册.xlsx", area_code=VILLAGE_A,
                                       dry_run=False)
    assert (again.counts["applied"], again.counts["conflict"], again.counts["rejected"]) == (3, 0, 1)
    current = session.execute(select(Tag.household_id, Tag.attrs, Tag.pending_attrs).where(
        Tag.tag_code == "dibao", Tag.valid_to.is_(None))).all()
    assert sorted((numbers[h], a, p) for h, a, p in current) == sorted([
        (QIAN_YI, {"kind": "2"}, None), ("H-001", {"kind": "2"}, None), (SUN_LIU, {"kind": "2"}, None)])
    assert tag_service.pending_tags(session, county.cadre_a) == []


@pytest.fixture
def county_app(app: Flask):
    with get_db(app).session() as session:
        county = build_county(session)
        existing(session, county.admin, VILLAGE_A)
    return county


def test_todo_page_and_cli_show(app: Flask, client: FlaskClient, runner: FlaskCliRunner, county_app, tmp_path: Path) -> None:
    ledger = tmp_path / "低保花名册.xlsx"
    ledger.write_bytes(roster(with_kind=False))
    out = runner.invoke(args=["import", str(ledger), "--user", "cadre_a", "--effective", "2024-12-31"])
    assert out.exit_code == 0, out.output
    with get_db(app).session() as session:
        batch_id = session.execute(select(func.max(ChangeLog.batch_id))).scalar_one()
        valid_from = session.execute(select(Person.valid_from).where(Person.id_number == QIAN_YI)).scalar_one()
        tag_from = session.execute(select(Tag.valid_from).where(Tag.tag_code == "dibao")).scalars().all()
        effective = {e for e in session.execute(select(ChangeLog.effective_date).where(ChangeLog.batch_id == batch_id)).scalars()}
        import_id = session.execute(select(func.max(imports.ImportBatch.id))).scalar_one()
        zhao_from = session.execute(select(Person.valid_from).where(Person.id_number == ZHAO_YI)).scalar_one()
    # the ledger's facts take effect on the date given, not today
    assert valid_from == date(2024, 12, 31) and set(tag_from) == {date(2024, 12, 31)} and effective == {date(2024, 12, 31)}
    assert zhao_from == date(2020, 1, 1)  # unchanged person keeps its own history
    shown = runner.invoke(args=["import", "show", str(import_id), "--user", "cadre_a"])
    assert shown.exit_code == 0, shown.output
    assert "待补充 3 项（标签已导入，缺少必填属性）：" in shown.output
    assert f"  低保 户 {QIAN_YI}：低保类别" in shown.output and "  低保 户 H-001：低保类别" in shown.output
    # a future date is refused with a Chinese message
    future = runner.invoke(args=["import", str(ledger), "--user", "cadre_a", "--effective", "2999-01-01"])
    assert future.exit_code != 0 and "晚于今天" in future.output

    assert client.post("/login", data={"username": "cadre_a", "password": PASSWORD}).status_code == 302
    page = client.get("/imports/todo")
    assert page.status_code == 200 and page.text.count("<tr data-tag=") == 3
    assert f"户 {QIAN_YI}" in page.text and '<td class="pending">低保类别</td>' in page.text
    client.post("/logout")
    assert client.post("/login", data={"username": "cadre_b", "password": PASSWORD}).status_code == 302
    assert "没有待补充的项目" in client.get("/imports/todo").text

"""Tag types as data (issue 10 item 5): an admin adds a tag type in the browser; bad input is refused
with Chinese messages and nothing is written; the new type is at once in the village tag form, the
Excel 一表's 标签 sheet, the registry (an indicator using it validates and counts) and the importers."""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from hand_data import V1, HandCounty
from openpyxl import load_workbook
from sqlalchemy import func, select
from village_helpers import form_values

from app.db import get_db
from app.models import ChangeBatch, ChangeLog, ObservationItem, Tag, TagType
from app.services import indicators, reports, workbook
from importers import synonyms

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "reports"))
from catalogue import summary  # noqa: E402

URL = "/admin/extensions/tag-types/new"
GOOD = {"code": "hearing_aid", "name": "助听器发放", "subject": "person", "department": "cdpf", "sensitive": "1",
        "description": "残联助听器发放对象",
        "attr_name": ["grade", "amount", ""], "attr_label": ["听力残疾等级", "补贴金额", ""],
        "attr_type": ["code", "number", "text"], "attr_code_list": ["disability_grade", "", ""],
        "attr_required": ["1", "0", "0"], "attr_unit": ["", "元", ""]}


def text(response: object) -> str:
    return response.get_data(as_text=True)  # type: ignore[attr-defined]


def _counts(app: Flask) -> tuple[int, int, int]:
    with get_db(app).session() as session:
        return tuple(session.execute(select(func.count()).select_from(m)).scalar_one()  # type: ignore[return-value]
                     for m in (TagType, ChangeBatch, ChangeLog))


def _post(c: FlaskClient, url: str, data: dict) -> object:
    token = form_values(text(c.get(url)))["csrf_token"]
    return c.post(url, data={**data, "csrf_token": token})


def test_seeded_health_and_disability_tag_types_are_sensitive(app: Flask, hand: HandCounty) -> None:
    with get_db(app).session() as session:
        sensitive = set(session.execute(select(TagType.code).where(TagType.sensitive)).scalars())
    assert sensitive == {"hypertension", "diabetes2", "severe_mental", "family_doctor", "disabled"}


def test_only_admins_open_the_page(app: Flask, login: Callable[[str], FlaskClient]) -> None:
    assert login("cadre_1").get("/admin/extensions/").status_code == 403
    page = text(login("admin").get("/admin/extensions/"))
    assert "标签类型与台账指标" in page and "高龄津贴" in page and "耕地面积" in page


def test_bad_tag_type_refused_with_messages_and_nothing_written(app: Flask, login: Callable[[str], FlaskClient]) -> None:
    c = login("admin")
    before = _counts(app)
    bad = {**GOOD, "code": "Hearing Aid", "name": "", "department": "nope",
           "attr_name": ["grade", "grade", "9x"], "attr_label": ["等级", "", "其他"],
           "attr_code_list": ["no_such_list", "", ""], "attr_type": ["code", "number", "text"]}
    response = _post(c, URL, bad)
    assert response.status_code == 422
    page = text(response)
    for message in ("标签类型代码“Hearing Aid”格式不对", "请填写标签类型名称", "所属部门“nope”不在部门代码表中",
                    "第1个属性的代码表“no_such_list”不存在", "属性名称“grade”重复", "第2个属性缺少中文名称",
                    "第3个属性的名称“9x”格式不对"):
        assert message in page, message
    response = _post(c, URL, {**GOOD, "code": "dibao"})
    assert response.status_code == 422 and "标签类型代码“dibao”已存在" in text(response)
    assert _counts(app) == before


def test_new_tag_type_reaches_forms_workbook_registry_and_importers(app: Flask, hand: HandCounty,
                                                                   login: Callable[[str], FlaskClient]) -> None:
    from app.reporting import rosters

    with app.app_context():
        assert ("hearing_aid", "grade") not in rosters._tag_attr_specs()  # the roster engine's cache, filled now
    admin = login("admin")
    before = _counts(app)
    response = _post(admin, URL, GOOD)
    assert response.status_code == 302, text(response)
    with get_db(app).session() as session:
        saved = session.get(TagType, "hearing_aid")
        assert (saved.name, saved.subject, saved.department, saved.sensitive) == ("助听器发放", "person", "cdpf", True)
        assert saved.attributes == [
            {"name": "grade", "label": "听力残疾等级", "type": "code", "code_list": "disability_grade", "required": True},
            {"name": "amount", "label": "补贴金额", "type": "number", "unit": "元"}]
    after = _counts(app)
    assert (after[0] - before[0], after[1] - before[1], after[2] - before[2]) == (1, 1, 1)  # one batch, one log entry

    # the village tag form offers it at once; a cadre grants it to 甲二 (p2, 甲村, born 1952)
    cadre = login("cadre_1")
    p2 = hand.persons["p2"]
    assert "助听器发放" in text(cadre.get(f"/village/person/{p2}/tags/new"))
    url = f"/village/person/{p2}/tags/new?type=hearing_aid"
    form = text(cadre.get(url))
    assert "听力残疾等级" in form and "补贴金额" in form
    response = cadre.post(url, data={**form_values(form), "valid_from": "2025-03-01", "grade": "2", "amount": "300"})
    assert response.status_code == 302, text(response)
    with get_db(app).session() as session:
        tag = session.execute(select(Tag).where(Tag.tag_code == "hearing_aid")).scalar_one()
        assert (tag.person_id, tag.valid_from, tag.attrs) == (p2, date(2025, 3, 1), {"grade": "2", "amount": 300})

        # the Excel 一表: the 标签 sheet has its attribute columns and 甲二's row
        download = workbook.download_workbook(session, hand.cadre_1, V1)
        session.commit()
    tags = load_workbook(io.BytesIO(download.content))["标签"]
    rows = [list(r) for r in tags.iter_rows(values_only=True)]
    header = rows[0]
    assert "助听器发放·听力残疾等级" in header and "助听器发放·补贴金额" in header
    mine = [r for r in rows if r[header.index("标签")] == "助听器发放"]
    assert len(mine) == 1 and mine[0][header.index("助听器发放·补贴金额")] == 300

    with app.app_context():
        # the registry: an indicator using the new tag validates and counts its one holder
        session = get_db(app).session()
        registry = reports.registry_for(app, session)
        checked = indicators.check_text(INDICATOR, registry)
        assert not checked.errors, checked.issues
        indicators.publish(session, registry, None, INDICATOR, "测试")
        session.commit()
        registry = reports.registry_for(app, session)
        spec, issues = reports.validate_projection(REPORT, registry)
        assert spec is not None and not [i for i in issues if i.severity == "error"], issues
        report = reports.build_from_spec(get_db(app), session, registry, None, spec,
                                         reports.RunRequest(spec.id, on=date(2025, 6, 30)))
        # hand count on 2025-06-30: 甲二 (青石镇 甲村, 73, holds it since 2025-03-01) is the only holder;
        # 60+ holders: the same one. Before 2025-03-01 nobody.
        assert summary(report) == {"合计": [1, 1], "青石镇": [1, 1], "石门乡": [0, 0]}
        early = reports.build_from_spec(get_db(app), session, registry, None, spec,
                                        reports.RunRequest(spec.id, on=date(2025, 2, 28)))
        assert summary(early) == {"合计": [0, 0], "青石镇": [0, 0], "石门乡": [0, 0]}
        # a roster of the new tag shows its attributes as labels (the engine's cache followed the save)
        spec, issues = reports.validate_projection(ROSTER, registry)
        assert spec is not None and not [i for i in issues if i.severity == "error"], issues
        roster = reports.build_from_spec(get_db(app), session, registry, None, spec,
                                         reports.RunRequest(spec.id, on=date(2025, 6, 30)))
        sheet = roster.sheets[0]
        keys = [c.key for c in sheet.columns]
        assert [[r.values[k] for k in keys] for r in sheet.rows if r.kind == "data"] == [["甲二", "二级", 300]]
        session.close()

        # the importers: a roster named after it, its attribute labels, its canonical fields
        assert synonyms.detect_tag(["2025年助听器发放名册"]) == ("hearing_aid", True)
        assert synonyms.resolve_header("补贴金额", tag_code="hearing_aid") == "hearing_aid.amount"
        assert synonyms.fields()["hearing_aid.grade"].code_list == "disability_grade"

    # a rename is seen at once (explicit invalidation, no restart)
    edit = "/admin/extensions/tag-types/hearing_aid"
    response = _post(admin, edit, {**GOOD, "name": "助听器适配"})
    assert response.status_code == 302, text(response)
    with app.app_context():
        assert synonyms.detect_tag(["助听器适配对象名册"]) == ("hearing_aid", True)


INDICATOR = """
- code: P_HEARING_AID
  name: 助听器发放人数
  definition: 参考日持有有效“助听器发放”标签的在世人员
  unit: 人
  department: cdpf
  compute: {aggregate: count, subject: persons, where: {alive: true, tags: [hearing_aid]}}
- code: P_HEARING_AID_60
  name: 60周岁及以上助听器发放人数
  definition: 参考日持有有效“助听器发放”标签、年满60周岁的在世人员
  unit: 人
  department: cdpf
  compute: {aggregate: count, subject: persons, where: {alive: true, age: {gte: 60}, tags: [hearing_aid]}}
"""

REPORT = """
id: test_hearing_aid
version: 1
title: "{area}助听器发放情况"
department: cdpf
frequency: yearly
kind: area_summary
statutory: {表号: 测2表, 有效期至: 2027年12月}
rows: {level: township, subtotals: false, total: top}
columns:
  - {label: 发放人数, indicator: P_HEARING_AID}
  - {label: 其中60岁以上, indicator: P_HEARING_AID_60}
"""

ROSTER = """
id: test_hearing_aid_roster
version: 1
title: "{area}助听器发放名册"
department: cdpf
frequency: yearly
kind: roster
subject: persons
where: {alive: true, tags: [hearing_aid]}
statutory: {表号: 测3表, 有效期至: 2027年12月}
columns:
  - {label: 姓名, field: name}
  - {label: 听力残疾等级, field: tag.hearing_aid.grade}
  - {label: 补贴金额, field: tag.hearing_aid.amount}
"""


def test_observation_item_added_and_refused(app: Flask, login: Callable[[str], FlaskClient]) -> None:
    c = login("admin")
    url = "/admin/extensions/items/new"
    response = _post(c, url, {"code": "cropland_area", "name": "", "unit": "", "period_type": "W", "subject": "area",
                              "department": "moa"})
    assert response.status_code == 422
    page = text(response)
    for message in ("台账指标代码“cropland_area”已存在", "请填写台账指标名称", "请填写计量单位", "请选择填报周期"):
        assert message in page, message
    response = _post(c, url, {"code": "aged_allowance_paid", "name": "高龄津贴发放额", "unit": "元", "period_type": "M",
                              "subject": "area", "department": "mca"})
    assert response.status_code == 302, text(response)
    with get_db(app).session() as session:
        item = session.get(ObservationItem, "aged_allowance_paid")
        assert (item.name, item.unit, item.period_type, item.subject) == ("高龄津贴发放额", "元", "M", "area")
    with app.app_context():
        from app.registry.loader import runtime_context
        assert runtime_context().observation_items["aged_allowance_paid"]["unit"] == "元"

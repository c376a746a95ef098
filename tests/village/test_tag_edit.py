"""The village web's tag attribute edit: reached from the household page and the 待补充 list, one save,
a stale form refused with who changed it, bad input shown at its field with nothing written."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from flask import Flask
from flask.testing import FlaskClient
from hand_data import HandCounty
from sqlalchemy import func, select
from village_helpers import form_values

from app.db import get_db
from app.models import Tag
from app.services.tags import grant_tag


def _dibao_id(app: Flask, household_id: int) -> int:
    with get_db(app).session() as s:
        return s.execute(select(Tag.id).where(Tag.tag_code == "dibao", Tag.household_id == household_id)).scalar_one()


def _tag_count(app: Flask) -> int:
    with get_db(app).session() as s:
        return s.execute(select(func.count()).select_from(Tag)).scalar_one()


def test_edit_from_the_household_page(app: Flask, hand: HandCounty, login: Callable[[str], FlaskClient]) -> None:
    h1 = hand.households["H1"]
    tag_id = _dibao_id(app, h1)
    cadre = login("cadre_1")
    page = cadre.get(f"/village/household/{h1}").get_data(as_text=True)
    assert f'href="/village/tag/{tag_id}/edit?back=/village/household/{h1}"' in page and "修改属性" in page

    url = f"/village/tag/{tag_id}/edit?back=/village/household/{h1}"
    form = form_values(cadre.get(url).get_data(as_text=True))
    assert (form["kind"], form["monthly_amount"], form["row_version"]) == ("2", "800", "1")
    response = cadre.post(url, data={**form, "kind": "1", "monthly_amount": "650", "valid_from": "2025-03-01"})
    assert response.status_code == 302 and response.headers["Location"] == f"/village/household/{h1}"
    with get_db(app).session() as s:
        rows = s.execute(select(Tag.valid_from, Tag.valid_to, Tag.attrs).where(Tag.tag_code == "dibao", Tag.household_id == h1)
                         .order_by(Tag.valid_from)).all()
    assert [tuple(r) for r in rows] == [(date(2024, 2, 1), date(2025, 3, 1), {"kind": "2", "monthly_amount": 800}),
                                        (date(2025, 3, 1), None, {"kind": "1", "monthly_amount": 650.0})]
    page = cadre.get(f"/village/household/{h1}").get_data(as_text=True)
    assert "低保类别：城市低保" in page
    # the history shows one change of the attributes, old → new
    assert page.count("<span>标签：低保</span>") == 2  # granted, then changed once (the ended row not repeated)
    assert ('<th>属性</th><td class="old">低保类别：农村低保，月保障金额：800 元</td><td class="arrow">→</td>'
            '<td class="new">低保类别：城市低保，月保障金额：650 元</td>') in page

    # a second editor still holding the first form is refused, told who changed it; nothing is written
    count = _tag_count(app)
    response = login("town_1").post(url, data={**form, "kind": "2", "monthly_amount": "900", "valid_from": "2025-04-01"})
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "保存被拒绝：您打开后，甲村干部于" in html and "您打开之后，别人已修改了这条记录" in html
    assert _tag_count(app) == count


def test_bad_input_is_shown_at_its_field(app: Flask, hand: HandCounty, login: Callable[[str], FlaskClient]) -> None:
    tag_id = _dibao_id(app, hand.households["H1"])
    cadre = login("cadre_1")
    url = f"/village/tag/{tag_id}/edit"
    form = form_values(cadre.get(url).get_data(as_text=True))
    count = _tag_count(app)
    for changes, message, status in [
        ({"monthly_amount": "八百"}, "月保障金额须为数字，现为“八百”", 422),
        ({"kind": "1", "valid_from": "2023-05-01"}, "生效日期不能早于标签的开始日期2024-02-01", 422),
        ({"kind": "1", "valid_from": "2025-13-01"}, "生效日期不是有效日期", 422),
        ({"kind": ""}, "低保须填写低保类别", 422),
        ({}, "属性没有变化，未保存", 422),
    ]:
        response = cadre.post(url, data={**form, **changes})
        assert response.status_code == status, changes
        assert message in response.get_data(as_text=True), changes
    assert _tag_count(app) == count
    # outside the cadre's village: refused
    other = _dibao_id(app, hand.households["H6"])
    assert cadre.get(f"/village/tag/{other}/edit").status_code == 403
    # an outside back address is not followed
    response = cadre.post(url + "?back=https://evil.example/", data={**form, "kind": "1", "valid_from": "2025-03-01"})
    assert response.status_code == 302 and response.headers["Location"] == f"/village/household/{hand.households['H1']}"


def test_fill_a_pending_attribute_from_the_to_do_list(app: Flask, hand: HandCounty,
                                                      login: Callable[[str], FlaskClient]) -> None:
    with get_db(app).session() as s:
        tag = grant_tag(s, hand.admin, "dibao", hand.households["H2"], date(2025, 1, 1),
                        attrs={"monthly_amount": 300}, pending=["kind"])
        s.commit()
        tag_id = tag.id
    cadre = login("cadre_1")
    todo = cadre.get("/imports/todo").get_data(as_text=True)
    link = f'/village/tag/{tag_id}/edit?back=/imports/todo'
    assert f'href="{link}"' in todo
    form = form_values(cadre.get(link).get_data(as_text=True))
    assert form["valid_from"] == "2025-01-01"  # filling a missing value: from the tag's start by default
    response = cadre.post(link, data={**form, "kind": "2"})
    assert response.status_code == 302 and response.headers["Location"] == "/imports/todo"
    assert "没有待补充的项目" in cadre.get("/imports/todo").get_data(as_text=True)
    with get_db(app).session() as s:
        saved = s.get(Tag, tag_id)
        assert (saved.attrs, saved.pending_attrs, saved.valid_from) == ({"kind": "2", "monthly_amount": 300.0}, None,
                                                                        date(2025, 1, 1))


def test_the_person_page_links_tags_with_attributes_only(app: Flask, hand: HandCounty,
                                                         login: Callable[[str], FlaskClient]) -> None:
    p1 = hand.persons["p1"]  # 持证残疾 (category, grade, certificate) and 高血压 (no attributes)
    with get_db(app).session() as s:
        held = dict(s.execute(select(Tag.tag_code, Tag.id).where(Tag.person_id == p1)).all())
    page = login("cadre_1").get(f"/village/person/{p1}").get_data(as_text=True)
    assert f'href="/village/tag/{held["disabled"]}/edit?back=/village/person/{p1}"' in page
    assert f'/village/tag/{held["hypertension"]}/edit' not in page
    form = form_values(login("cadre_1").get(f"/village/tag/{held['disabled']}/edit").get_data(as_text=True))
    assert (form["category"], form["grade"], form["certificate_no"]) == ("4", "2", "C001")


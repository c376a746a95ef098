"""The cadre's pages: lists with search and filters, scope, edit with history, field messages, warnings,
ending and moving a person, tags and periodic values."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hand_data import V1, V2, V3, HandCounty
from sqlalchemy import func, select
from village_helpers import GRID, form_values

from app import clock
from app.db import get_db
from app.models import ChangeLog, Observation, Person, Tag
from app.validators.idcard import make_id_number
from app.views.village import areas as village_areas

Login = Callable[[str], FlaskClient]



def names(html: str) -> list[str]:
    """Person names linked from a list page, in order."""
    return re.findall(r'<a href="/village/person/\d+">([^<]+)</a>', html)


def numbers(html: str) -> list[str]:
    return re.findall(r'<a href="/village/household/\d+">([^<]+)</a>', html)


def field_messages(html: str) -> dict[str, str]:
    """The error message shown under each field of a generated form."""
    out = {}
    for chunk in html.split('data-field="')[1:]:
        name, _, body = chunk.partition('"')
        found = re.findall(r'<div class="field-error" role="alert">([^<]+)</div>', body.split("data-field=")[0])
        if found:
            out[name] = "；".join(found)
    return out


def text(response: object) -> str:
    return response.get_data(as_text=True)  # type: ignore[attr-defined]


def test_lists_search_and_filter(login: Login) -> None:
    c = login("cadre_1")
    assert numbers(text(c.get(f"/village/{V1}/households"))) == ["JC001", "JC002", "JC003"]
    assert names(text(c.get(f"/village/{V1}/persons"))) == ["甲一", "甲二", "甲三", "甲四", "甲五", "甲六", "甲七"]
    assert names(text(c.get(f"/village/{V1}/persons?q=甲四"))) == ["甲四"]
    assert names(text(c.get(f"/village/{V1}/persons?q=JC002"))) == ["甲四", "甲五", "甲六"]
    id_prefix = make_id_number("339901", date(2019, 10, 10), 11)[:14]  # 甲六's ID up to the birth date
    assert names(text(c.get(f"/village/{V1}/persons?q={id_prefix}"))) == ["甲六"]
    assert names(text(c.get(f"/village/{V1}/persons?tag=hypertension"))) == ["甲一"]
    assert names(text(c.get(f"/village/{V1}/persons?tag=dibao"))) == ["甲一", "甲二", "甲三"]  # a household tag
    assert names(text(c.get(f"/village/{V1}/persons?residence=2"))) == ["甲四"]
    assert numbers(text(c.get(f"/village/{V1}/households?q=甲五"))) == ["JC002"]
    assert numbers(text(c.get(f"/village/{V1}/households?tag=left_behind_child"))) == ["JC001"]  # a member's tag


def test_living_status_filter_and_pages(login: Login, monkeypatch: pytest.MonkeyPatch) -> None:
    c = login("admin")
    assert names(text(c.get(f"/village/{V3}/persons?living=2"))) == ["丙二"]
    monkeypatch.setattr(village_areas, "PER_PAGE", 2)
    first, last = text(c.get(f"/village/{V1}/persons")), text(c.get(f"/village/{V1}/persons?page=4"))
    assert names(first) == ["甲一", "甲二"] and "第 1 / 4 页，共 7 条" in first
    assert names(last) == ["甲七"] and "上一页" in last and "下一页" not in last


def test_scope_of_cadre_grid_worker_township_and_department(app: Flask, hand: HandCounty, login: Login) -> None:
    cadre = login("cadre_1")
    assert cadre.get("/village/").headers["Location"].endswith(f"/village/{V1}/households")
    assert cadre.get(f"/village/{V2}/persons").status_code == 403
    assert cadre.get(f"/village/person/{hand.persons['p8']}").status_code == 403
    grid = login("grid_1")
    assert grid.get(f"/village/{GRID}/persons").status_code == 200
    assert grid.get(f"/village/{V1}/persons").status_code == 403
    township = login("town_1")
    index = text(township.get("/village/"))
    assert "甲村" in index and "乙村" in index and "丙村" not in index
    assert names(text(township.get(f"/village/{V2}/persons?q=乙一"))) == ["乙一"]
    assert township.get(f"/village/{V3}/persons").status_code == 403
    # a department user may look but not change base data
    mca = login("mca")
    url = f"/village/person/{hand.persons['p1']}/edit"
    assert mca.get(url).status_code == 200
    response = mca.post(url, data={**form_values(text(mca.get(url))), "phone": "13000000000"})
    assert response.status_code == 403 and "只能查看" in text(response)
    assert ">修改</a>" not in text(mca.get(f"/village/person/{hand.persons['p1']}"))
    assert ">修改</a>" in text(cadre.get(f"/village/person/{hand.persons['p1']}"))


def test_a_tampered_row_version_is_a_conflict_not_a_crash(hand: HandCounty, login: Login) -> None:
    c = login("cadre_1")
    url = f"/village/person/{hand.persons['p1']}/edit"
    response = c.post(url, data={**form_values(text(c.get(url))), "row_version": "x1", "phone": "13000000009"})
    assert response.status_code == 409 and "保存被拒绝" in text(response)


def test_edit_shows_in_the_history_with_labels_source_and_effective_date(app: Flask, hand: HandCounty, login: Login) -> None:
    c = login("cadre_1")
    p5 = hand.persons["p5"]
    form = form_values(text(c.get(f"/village/person/{p5}/edit")))
    assert form["valid_from"] == clock.today().isoformat() and form["sex"] == "2" and form["relation"] == "10"
    response = c.post(f"/village/person/{p5}/edit", data={**form, "phone": "13955556666", "political_status": "01",
                                                         "valid_from": "2025-07-01"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/village/person/{p5}")
    page = text(c.get(f"/village/person/{p5}"))
    history = page[page.index('id="history"'):]
    assert "修改" in history and "甲村干部" in history and "来源：网页录入" in history and "生效 2025-07-01" in history
    assert '<th>联系电话</th><td class="old">19900000005</td><td class="arrow">→</td><td class="new">13955556666</td>' in history
    assert '<th>政治面貌</th><td class="old">（空）</td><td class="arrow">→</td><td class="new">中国共产党党员（01）</td>' in history
    with get_db(app).session() as session:
        person = session.get(Person, p5)
        assert (person.phone, person.political_status, person.valid_from) == ("13955556666", "01", date(2025, 7, 1))


def test_invalid_values_are_shown_at_the_field_and_nothing_is_saved(app: Flask, hand: HandCounty, login: Login) -> None:
    c = login("cadre_1")
    p4 = hand.persons["p4"]
    url = f"/village/person/{p4}/edit"
    form = form_values(text(c.get(url)))
    bad_id = form["id_number"][:17] + ("0" if form["id_number"][17] != "0" else "1")
    response = c.post(url, data={**form, "id_number": bad_id, "sex": "2", "ethnic_group": "99", "phone": "13911112222"})
    html = text(response)
    assert response.status_code == 422
    field_errors = field_messages(html)
    assert set(field_errors) == {"id_number", "ethnic_group"}
    assert field_errors["id_number"].startswith("身份证号码校验位错误")
    assert "民族的值“99”不在代码表中" in field_errors["ethnic_group"]
    assert f'value="{bad_id}"' in html and 'value="13911112222"' in html  # what was typed stays
    with get_db(app).session() as session:
        assert session.get(Person, p4).phone == "19900000004"
        assert session.execute(select(func.count()).select_from(ChangeLog).where(
            ChangeLog.entity == "person", ChangeLog.entity_id == str(p4), ChangeLog.action == "update")).scalar() == 0


def test_sex_and_birth_date_must_agree_with_the_id(hand: HandCounty, login: Login) -> None:
    c = login("cadre_1")
    url = f"/village/person/{hand.persons['p4']}/edit"
    form = form_values(text(c.get(url)))
    response = c.post(url, data={**form, "sex": "2", "birth_date": "1980-05-06"})
    errors = field_messages(text(response))
    assert response.status_code == 422 and set(errors) == {"id_number"}
    assert "出生日期" in errors["id_number"] and "性别" in errors["id_number"]


def test_a_warning_is_saved_after_explicit_confirmation(app: Flask, hand: HandCounty, login: Login) -> None:
    c = login("cadre_1")
    url = f"/village/household/{hand.households['H3']}/members/new"
    form = form_values(text(c.get(url)))
    values = {**form, "id_number": make_id_number("339901", date(clock.today().year - 112, 1, 1), 302), "name": "百岁老人",
              "relation": "52", "birth_date": "", "sex": ""}
    response = c.post(url, data=values)
    html = text(response)
    assert response.status_code == 422
    assert "超过110周岁，请核实出生日期" in html and 'name="confirm_warnings"' in html and "我已核实，仍然保存" in html
    # the ID filled in the birth date and sex on the server
    assert f'value="{clock.today().year - 112}-01-01"' in html and '<option value="2" selected>女</option>' in html
    response = c.post(url, data={**values, "confirm_warnings": "1"})
    assert response.status_code == 302
    with get_db(app).session() as session:
        person = session.execute(select(Person).where(Person.name == "百岁老人")).scalar_one()
        assert (person.household_id, person.area_code, person.sex) == (hand.households["H3"], V1, "2")


def test_end_a_person_by_moving_out(app: Flask, hand: HandCounty, login: Login) -> None:
    c = login("cadre_1")
    p4 = hand.persons["p4"]
    url = f"/village/person/{p4}/end"
    form = form_values(text(c.get(url)))
    response = c.post(url, data={**form, "reason": "moved_out", "status_date": "2025-08-01"})
    assert response.status_code == 422 and "迁出须填写迁往地" in text(response)
    response = c.post(url, data={**form, "reason": "moved_out", "status_date": "2025-08-01", "moved_to": "浙江省杭州市西湖区"})
    assert response.status_code == 302
    with get_db(app).session() as session:
        person = session.get(Person, p4)
        assert (person.living_status, person.status_date, person.moved_to) == ("3", date(2025, 8, 1), "浙江省杭州市西湖区")
        open_tags = session.execute(select(Tag.tag_code, Tag.valid_to).where(Tag.person_id == p4)).all()
        assert sorted(open_tags) == [("migrant_worker", date(2025, 8, 1)), ("veteran", date(2025, 8, 1))]
    page = text(c.get(f"/village/person/{p4}"))
    assert "<h1>甲四 <span class=\"badge\">迁出</span></h1>" in page and "结束" in page


def test_move_a_person_into_another_household(app: Flask, hand: HandCounty, login: Login) -> None:
    c = login("cadre_1")
    p6 = hand.persons["p6"]
    url = f"/village/person/{p6}/move"
    form = form_values(text(c.get(url)))
    response = c.post(url, data={**form, "household_number": "NOPE", "relation": "30"})
    assert response.status_code == 422 and "户号 NOPE 不存在" in text(response)
    response = c.post(url, data={**form, "household_number": "JC003", "relation": "02"})
    assert response.status_code == 422 and "该户已有户主甲七" in text(response)
    response = c.post(url, data={**form, "household_number": "JC003", "relation": "40", "valid_from": "2025-09-01"})
    assert response.status_code == 302
    household = text(c.get(f"/village/household/{hand.households['H3']}"))
    assert "甲六" in household and "甲七" in household
    with get_db(app).session() as session:
        person = session.get(Person, p6)
        assert (person.household_id, person.relation, person.valid_from) == (hand.households["H3"], "40", date(2025, 9, 1))


def test_add_and_end_a_tag_with_attributes(app: Flask, hand: HandCounty, login: Login) -> None:
    c = login("cadre_1")
    p5 = hand.persons["p5"]
    choose = text(c.get(f"/village/person/{p5}/tags/new"))
    assert "退役军人" in choose and "低保" not in choose  # 低保 is a household tag
    url = f"/village/person/{p5}/tags/new?type=veteran"
    form = form_values(text(c.get(url)))
    response = c.post(url, data={**form, "valid_from": "2025-01-01"})
    assert response.status_code == 422
    assert field_messages(text(response)) == {"category": "退役军人须填写人员类别"}
    response = c.post(url, data={**form, "valid_from": "2025-01-01", "category": "01", "discharged_on": "2010-12-01"})
    assert response.status_code == 302
    page = text(c.get(f"/village/person/{p5}"))
    assert "退役军人" in page and "人员类别" in page and "退役时间：2010-12-01" in page
    with get_db(app).session() as session:
        tag = session.execute(select(Tag).where(Tag.person_id == p5, Tag.tag_code == "veteran")).scalar_one()
        assert tag.attrs == {"category": "01", "discharged_on": "2010-12-01"}
    response = c.post(f"/village/tag/{tag.id}/end", data={"on": "2025-10-01", "back": f"/village/person/{p5}"})
    assert response.status_code == 302
    with get_db(app).session() as session:
        assert session.get(Tag, tag.id).valid_to == date(2025, 10, 1)
    history = text(c.get(f"/village/person/{p5}"))
    assert "人员类别：" in history and "退役时间：2010-12-01" in history  # attributes by their labels
    assert "标签：退役军人" in history and '<th>结束日期</th><td class="old">（空）</td><td class="arrow">→</td><td class="new">2025-10-01</td>' in history


def test_periodic_values(app: Flask, hand: HandCounty, login: Login) -> None:
    c = login("cadre_1")
    page = text(c.get(f"/village/{V1}/observations?year=2025&month=6"))
    assert 'name="v-cropland_area"' in page and 'value="1000.5"' in page and "2025-06" in page
    form = form_values(page)
    response = c.post(f"/village/{V1}/observations", data={**form, "v-cropland_area": "1010", "v-dibao_paid": "-5"})
    assert response.status_code == 422 and "低保金发放额不能为负数" in text(response)
    with get_db(app).session() as session:
        assert session.execute(select(Observation.value).where(Observation.item_code == "cropland_area",
                                                               Observation.subject_id == V1, Observation.period == "2025")).scalar() == 1000.5
    response = c.post(f"/village/{V1}/observations", data={**form, "v-cropland_area": "1010", "v-dibao_paid": "12000"})
    assert response.status_code == 302
    with get_db(app).session() as session:
        values = dict(session.execute(select(Observation.item_code, Observation.value).where(
            Observation.subject_id == V1, Observation.period.in_(["2025", "2025-06"]))).all())
        assert values == {"cropland_area": 1010.0, "dibao_paid": 12000.0}
    # a stale page (someone saved in between) is refused for that value
    response = c.post(f"/village/{V1}/observations", data={**form, "v-cropland_area": "999"})
    assert response.status_code == 409 and "已被他人修改，现值为 1010亩" in text(response)


def test_household_page_and_new_household(app: Flask, hand: HandCounty, login: Login) -> None:
    c = login("cadre_1")
    page = text(c.get(f"/village/household/{hand.households['H1']}"))
    assert "甲一" in page and "甲二" in page and "甲三" in page and "H1住房" in page and "120 平方米" in page
    assert "低保" in page and "低保类别" not in page.split("户标签")[0]
    url = f"/village/{V1}/households/new"
    form = form_values(text(c.get(url)))
    response = c.post(url, data={**form, "number": "JC001"})
    assert response.status_code == 422 and "户号 JC001 已存在" in text(response)
    response = c.post(url, data={**form, "number": "JC009", "address": "甲村9号"})
    assert response.status_code == 302
    assert numbers(text(c.get(f"/village/{V1}/households"))) == ["JC001", "JC002", "JC003", "JC009"]

"""Houses and organisations in the village web entry, and closing a household: lists, forms generated
from the model, appraisal and demolition, USCC checks, stale saves, scope — and what the reports see."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta

from catalogue import run, summary
from flask import Flask
from flask.testing import FlaskClient
from hand_data import V1, V2, V3, HandCounty
from sqlalchemy import select
from village_helpers import form_values

from app.clock import today
from app.db import get_db
from app.models import ChangeLog, House, Household, Organisation
from app.reporting.frames import CACHE
from app.validators.uscc import make_uscc

Login = Callable[[str], FlaskClient]
COLLECTIVE_USCC = make_uscc("N2339901" + "MA0000001")  # 甲村股份经济合作社 of hand_data


def text(response: object) -> str:
    return response.get_data(as_text=True)  # type: ignore[attr-defined]


def addresses(html: str) -> list[str]:
    return re.findall(r'<a href="/village/house/\d+">([^<]+)</a>', html)


def org_names(html: str) -> list[str]:
    return re.findall(r'<a href="/village/organisation/\d+">([^<]+)</a>', html)


def errors(html: str) -> list[str]:
    return re.findall(r'<div class="field-error" role="alert">([^<]+)</div>', html)


def house_of(app: Flask, address: str) -> House:
    with get_db(app).session() as s:
        house = s.execute(select(House).where(House.address == address)).scalar_one()
        s.expunge(house)
        return house


def test_house_lists_filter_by_grade_status_and_scope(login: Login) -> None:
    cadre, town = login("cadre_1"), login("town_1")
    assert addresses(text(cadre.get(f"/village/{V1}/houses"))) == ["H1住房"]
    assert cadre.get(f"/village/{V2}/houses").status_code == 403  # another village
    assert addresses(text(town.get(f"/village/{V2}/houses"))) == ["H4住房", "H8住房"]
    assert addresses(text(town.get(f"/village/{V2}/houses?grade=D"))) == ["H4住房"]
    assert addresses(text(town.get(f"/village/{V2}/houses?q=YC003"))) == ["H8住房"]  # by the 户号 living there
    admin = login("admin")
    assert addresses(text(admin.get(f"/village/{V3}/houses"))) == ["H6住房"]  # H7's house is demolished
    assert addresses(text(admin.get(f"/village/{V3}/houses?status=2"))) == ["H7住房"]
    assert addresses(text(admin.get(f"/village/{V3}/houses?status=all"))) == ["H6住房", "H7住房"]
    assert addresses(text(admin.get(f"/village/{V3}/houses?grade=unknown"))) == []


def test_register_a_house_with_its_household_and_field_messages(app: Flask, hand: HandCounty, login: Login) -> None:
    c = login("cadre_1")
    url = f"/village/{V1}/houses/new"
    page = text(c.get(url + "?household=JC002"))
    assert "房屋地址" in page and "安全等级" in page and "居住户户号" in page and "建筑面积" in page  # from Column.info
    form = form_values(page)
    assert form["household_number"] == "JC002" and form["valid_from"] == today().isoformat()
    base = {**form, "address": "甲村2组5号", "house_type": "1", "structure": "3", "safety_grade": "B"}
    # wrong values are shown at their fields and nothing is saved
    bad = c.post(url, data={**base, "floor_area": "abc"})
    assert bad.status_code == 422 and "建筑面积须为数字，现为“abc”" in errors(text(bad))
    bad = c.post(url, data={**base, "floor_area": "12000"})
    assert bad.status_code == 422 and "建筑面积 12000 平方米超过 5000，请核实单位（单位是平方米，不是平方尺或亩）" in errors(text(bad))
    bad = c.post(url, data={**base, "floor_area": "90", "household_number": "JC999"})
    assert bad.status_code == 422 and "户号 JC999 不存在" in errors(text(bad))
    bad = c.post(url, data={**base, "floor_area": "90", "address": ""})
    assert bad.status_code == 422 and "房屋地址不能为空" in errors(text(bad))
    with get_db(app).session() as s:
        assert s.execute(select(House).where(House.area_code == V1)).scalars().all()[0].address == "H1住房"
        assert len(s.execute(select(House).where(House.area_code == V1)).scalars().all()) == 1
    ok = c.post(url, data={**base, "floor_area": "90.5", "valid_from": "2025-03-01"})
    assert ok.status_code == 302
    house = house_of(app, "甲村2组5号")
    assert (house.household_id, house.floor_area, house.safety_grade, house.structure, house.status, house.valid_from) == (
        hand.households["H2"], 90.5, "B", "3", "1", date(2025, 3, 1))
    shown = text(c.get(ok.headers["Location"]))
    assert "JC002" in shown and "砖木结构" in shown and "B级" in shown and "新增" in shown
    assert '<th>居住户</th><td class="old">（空）</td><td class="arrow">→</td><td class="new">JC002</td>' in shown
    assert "甲村2组5号" in text(c.get(f"/village/household/{hand.households['H2']}"))  # under the household's 住房
    # a household of another village cannot live in a house of this one (a township user may read both)
    town = login("town_1")
    bad = town.post(url, data={**base, "address": "甲村2组6号", "floor_area": "80", "household_number": "YC001"})
    assert bad.status_code == 422 and any(e.startswith("居住户与房屋不在同一个村") for e in errors(text(bad)))


def test_appraisal_demolition_history_and_reports(app: Flask, hand: HandCounty, login: Login) -> None:
    c = login("cadre_1")
    house = house_of(app, "H1住房")
    url = f"/village/house/{house.id}/appraise"
    form = form_values(text(c.get(url)))
    assert form["safety_grade"] == "C" and form["on"] == today().isoformat()
    future = (today() + timedelta(days=1)).isoformat()
    bad = c.post(url, data={**form, "safety_grade": "D", "on": future})
    assert bad.status_code == 422 and "生效日期不能晚于今天" in errors(text(bad))
    appraised_on = today() - timedelta(days=10)
    assert c.post(url, data={**form, "safety_grade": "D", "on": appraised_on.isoformat()}).status_code == 302
    page = text(c.get(f"/village/house/{house.id}"))
    history = page[page.index('id="history"'):]
    assert '<th>安全等级</th><td class="old">C级（C）</td><td class="arrow">→</td><td class="new">D级（D）</td>' in history
    assert f"生效 {appraised_on}" in history and "甲村干部" in history
    # the reports: C before the appraisal day, D from it on (甲村: 1 house, 120 m², C/D 1, of which D)
    CACHE.clear()
    with get_db(app).session() as s:
        assert summary(run(app, s, "mohurd_rural_housing", on=appraised_on - timedelta(days=1)))["甲村"] == [1, 120, 1, 0]
        assert summary(run(app, s, "mohurd_rural_housing", on=appraised_on))["甲村"] == [1, 120, 1, 1]
    # demolition: the end state, not counted from that day, no more changes
    demolish = f"/village/house/{house.id}/demolish"
    form = form_values(text(c.get(demolish)))
    demolished_on = today() - timedelta(days=2)
    assert c.post(demolish, data={**form, "on": demolished_on.isoformat()}).status_code == 302
    page = text(c.get(f"/village/house/{house.id}"))
    assert "已拆除" in page and "/demolish" not in page and "/appraise" not in page and "/edit" not in page
    assert addresses(text(c.get(f"/village/{V1}/houses"))) == []
    edit = f"/village/house/{house.id}/edit"
    refused = c.post(edit, data={**form_values(text(c.get(edit))), "floor_area": "130"})
    assert refused.status_code == 422 and "该房屋已拆除（注销），不能再修改" in text(refused)
    again = c.post(demolish, data={**form, "on": demolished_on.isoformat()})
    assert again.status_code == 422 and "该房屋已是拆除（注销）状态" in text(again)
    CACHE.clear()
    with get_db(app).session() as s:
        assert summary(run(app, s, "mohurd_rural_housing", on=demolished_on - timedelta(days=1)))["甲村"] == [1, 120, 1, 1]
        assert summary(run(app, s, "mohurd_rural_housing", on=demolished_on))["甲村"] == [0, 0, 0, 0]
        actions = [e.action for e in s.execute(select(ChangeLog).where(
            ChangeLog.entity == "house", ChangeLog.entity_id == str(house.id)).order_by(ChangeLog.id)).scalars()]
        assert actions == ["create", "update", "end"]


def test_a_stale_house_edit_is_refused_with_what_changed(app: Flask, login: Login) -> None:
    one, two = login("cadre_1"), login("admin")
    house = house_of(app, "H1住房")
    url = f"/village/house/{house.id}/edit"
    form_one, form_two = form_values(text(one.get(url))), form_values(text(two.get(url)))
    assert one.post(url, data={**form_one, "floor_area": "125"}).status_code == 302
    stale = two.post(url, data={**form_two, "floor_area": "118"})
    html = text(stale)
    assert stale.status_code == 409 and "别人已修改了这条记录" in html and "甲村干部" in html
    assert 'value="118"' in html  # the typed value stays in the form
    assert house_of(app, "H1住房").floor_area == 125


def test_organisations_register_with_uscc_checks_edit_and_close(app: Flask, login: Login) -> None:
    c = login("cadre_1")
    assert org_names(text(c.get(f"/village/{V1}/organisations"))) == ["甲村股份经济合作社"]
    url = f"/village/{V1}/organisations/new"
    form = form_values(text(c.get(url)))
    base = {**form, "name": "甲村竹编厂", "kind": "1", "industry": "C", "employees": "8"}
    good = make_uscc("91339901" + "MA1234567")
    wrong_check = good[:17] + ("0" if good[17] != "0" else "1")
    bad = c.post(url, data={**base, "uscc": wrong_check})
    assert bad.status_code == 422
    assert any(e.startswith(f"统一社会信用代码校验位错误：最后一位应为“{good[17]}”") for e in errors(text(bad)))
    bad = c.post(url, data={**base, "uscc": COLLECTIVE_USCC})
    assert bad.status_code == 422 and f"统一社会信用代码 {COLLECTIVE_USCC} 已登记（甲村股份经济合作社）" in errors(text(bad))
    bad = c.post(url, data={**base, "uscc": good, "employees": "-3"})
    assert bad.status_code == 422 and "从业人员数须为不小于0的整数，现为“-3”" in errors(text(bad))
    bad = c.post(url, data={**base, "uscc": good, "kind": ""})
    assert bad.status_code == 422 and "单位类型不能为空" in errors(text(bad))
    ok = c.post(url, data={**base, "uscc": good.lower()})  # normalised to upper case
    assert ok.status_code == 302
    with get_db(app).session() as s:
        org = s.execute(select(Organisation).where(Organisation.name == "甲村竹编厂")).scalar_one()
        assert (org.uscc, org.kind, org.employees, org.area_code, org.status) == (good, "1", 8, V1, "1")
        org_id = org.id
    assert org_names(text(c.get(f"/village/{V1}/organisations"))) == ["甲村竹编厂", "甲村股份经济合作社"]  # by kind
    edit = f"/village/organisation/{org_id}/edit"
    assert c.post(edit, data={**form_values(text(c.get(edit))), "employees": "11"}).status_code == 302
    page = text(c.get(f"/village/organisation/{org_id}"))
    assert '<th>从业人员数</th><td class="old">8</td><td class="arrow">→</td><td class="new">11</td>' in page
    close = f"/village/organisation/{org_id}/close"
    assert c.post(close, data={**form_values(text(c.get(close)))}).status_code == 302
    assert "已注销" in text(c.get(f"/village/organisation/{org_id}"))
    assert org_names(text(c.get(f"/village/{V1}/organisations"))) == ["甲村股份经济合作社"]
    assert org_names(text(c.get(f"/village/{V1}/organisations?status=2"))) == ["甲村竹编厂"]
    refused = c.post(edit, data={**form_values(text(c.get(edit))), "employees": "12"})
    assert refused.status_code == 422 and "甲村竹编厂已注销，不能再修改" in text(refused)
    assert login("cadre_1").get(f"/village/{V3}/organisations").status_code == 403


def test_closing_a_household(app: Flask, hand: HandCounty, login: Login) -> None:
    c = login("cadre_1")
    h2 = hand.households["H2"]
    url = f"/village/household/{h2}/close"
    refused = c.post(url, data=form_values(text(c.get(url))))
    assert refused.status_code == 422 and "该户仍有在世成员，请先迁出或转户后再注销" in text(refused)
    new = f"/village/{V1}/households/new"
    assert c.post(new, data={**form_values(text(c.get(new))), "number": "JC009", "valid_from": "2025-01-01"}).status_code == 302
    with get_db(app).session() as s:
        empty = s.execute(select(Household).where(Household.number == "JC009")).scalar_one().id
    url = f"/village/household/{empty}/close"
    form = form_values(text(c.get(url)))
    future = c.post(url, data={**form, "on": (today() + timedelta(days=3)).isoformat()})
    assert future.status_code == 422 and "注销日期不能晚于今天" in errors(text(future))
    on = today() - timedelta(days=1)
    assert c.post(url, data={**form, "on": on.isoformat()}).status_code == 302
    page = text(c.get(f"/village/household/{empty}"))
    assert "已注销" in page and "注销户</a>" not in page
    with get_db(app).session() as s:
        closed = s.get(Household, empty)
        assert (closed.status, closed.status_date, closed.valid_from) == ("2", on, on)
    again = c.post(url, data={**form, "on": on.isoformat()})
    assert again.status_code == 422 and "户 JC009 已注销" in text(again)


def test_a_department_user_reads_but_cannot_write_houses_or_organisations(app: Flask, login: Login) -> None:
    mca = login("mca")
    listing = mca.get(f"/village/{V1}/houses")  # a department reads the houses of its households, address masked
    assert listing.status_code == 200 and addresses(text(listing)) == ["H1住房****"] and "登记房屋" not in text(listing)
    house = house_of(app, "H1住房")
    refused = mca.post(f"/village/house/{house.id}/appraise", data={"safety_grade": "D", "on": today().isoformat()})
    assert refused.status_code == 403
    assert mca.post(f"/village/{V1}/organisations/new", data={"name": "某公司", "kind": "1"}).status_code == 403
    assert house_of(app, "H1住房").safety_grade == "C"
    with get_db(app).session() as s:
        assert s.execute(select(Organisation).where(Organisation.name == "某公司")).first() is None

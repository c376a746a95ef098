"""The landing page of each role, and the dashboard queries behind it."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from view_helpers import EXPECTED, GRID_A1, VILLAGE_A, VILLAGE_B, AuthActions, row_for, stats

from app.db import get_db
from app.models import User
from app.services import dashboard

pytestmark = pytest.mark.usefixtures("base_data")


def landing(client: FlaskClient, auth: AuthActions, username: str) -> str:
    assert auth.login(username).status_code == 302
    response = client.get("/")
    assert response.status_code == 200
    return response.get_data(as_text=True)


@pytest.mark.parametrize(("username", "area", "name"), [
    ("cadre_a", VILLAGE_A, "青山村"),
    ("cadre_b", VILLAGE_B, "绿水村"),
    ("grid_a1", GRID_A1, "第1网格"),
])
def test_village_cadre_sees_own_area_counts(client: FlaskClient, auth: AuthActions, username: str, area: str,
                                            name: str) -> None:
    html = landing(client, auth, username)
    expected = EXPECTED[area]
    assert f"<h1>{name}</h1>" in html and area in html
    assert stats(html) == {"户数": expected.households, "在世人口": expected.living, "户籍人口": expected.registered,
                           "常住人口": expected.resident, "低保户": expected.dibao}
    assert "采集任务" in html and "即将上线" not in html  # every workbench feature is live


def test_village_cadre_does_not_see_other_village(client: FlaskClient, auth: AuthActions) -> None:
    html = landing(client, auth, "cadre_a")
    assert "绿水村" not in html and VILLAGE_B not in html
    assert stats(html)["户数"] == EXPECTED[VILLAGE_A].households  # not the township's 4


def test_village_cadre_residence_and_tags(client: FlaskClient, auth: AuthActions) -> None:
    html = landing(client, auth, "cadre_a")
    assert row_for(html, "户籍人口（本地常住）")[1] == "2"  # p1 and p7 (p6 died)
    assert row_for(html, "常住外来人口（居住半年以上）")[1] == "2"
    assert row_for(html, "流动人口（居住不满半年）")[1] == "1"
    assert row_for(html, "低保") == ["低保", "户", "民政", "1"]
    assert row_for(html, "党员")[-1] == "1"  # the dead member's tag ended with him
    assert row_for(html, "留守老人")[-1] == "0"  # ended tag


def test_township_staff_sees_each_village(client: FlaskClient, auth: AuthActions) -> None:
    html = landing(client, auth, "township")
    assert "<h1>青山镇</h1>" in html
    a, b = EXPECTED[VILLAGE_A], EXPECTED[VILLAGE_B]
    assert row_for(html, "青山村") == ["青山村", VILLAGE_A, str(a.households), str(a.living), str(a.dibao)]
    assert row_for(html, "绿水村") == ["绿水村", VILLAGE_B, str(b.households), str(b.living), str(b.dibao)]
    assert row_for(html, "合计")[2:] == [str(a.households + b.households), str(a.living + b.living), str(a.dibao + b.dibao)]
    assert "第1网格" not in html  # grids roll up into their village


def test_department_user_sees_only_its_tag_types(client: FlaskClient, auth: AuthActions) -> None:
    html = landing(client, auth, "mca")
    assert "民政" in html
    assert row_for(html, "低保") == ["低保", "户", "2"]
    assert row_for(html, "特困")[-1] == "0"
    assert "党员" not in html and "持证残疾" not in html


def test_admin_landing_leads_with_actions(client: FlaskClient, auth: AuthActions) -> None:
    html = landing(client, auth, "admin")
    body = html[html.index("<main"):]
    assert "<table" not in body  # the read-only dictionaries have their own page
    for href in ("/village/", "/imports/", "/tasks/", "/reports/", "/reports/manage", "/admin/reference"):
        assert f'href="{href}"' in body, href


def test_admin_sees_dictionaries(client: FlaskClient, auth: AuthActions) -> None:
    auth.login("admin")
    html = client.get("/admin/reference").get_data(as_text=True)
    assert row_for(html, "村（社区）") == ["村（社区）", "2"]
    assert row_for(html, "网格") == ["网格", "1"]
    assert row_for(html, "村（社区）干部") == ["村（社区）干部", "3"]
    assert row_for(html, "residence_type")[:2] == ["residence_type", "居住类型"]
    assert row_for(html, "residence_type")[-1] == "4"
    assert row_for(html, "dibao") == ["dibao", "低保", "户", "民政", "低保类别、月保障金额、保障人数"]


def test_user_text_is_escaped(app: Flask, client: FlaskClient, auth: AuthActions, users: dict[str, int]) -> None:
    with get_db(app).transaction() as session:
        session.get(User, users["cadre_a"]).display_name = "<script>alert(1)</script>"
    html = landing(client, auth, "cadre_a")
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# -- the service directly --------------------------------------------------------------------------


def test_area_summary_is_scoped(app: Flask, users: dict[str, int]) -> None:
    from app.issues import PermissionDenied

    with get_db(app).transaction() as session:
        township = session.get(User, users["township"])
        cadre_a = session.get(User, users["cadre_a"])
        area, counts = dashboard.area_summary(session, township, VILLAGE_B)
        assert area.name == "绿水村" and counts.households == EXPECTED[VILLAGE_B].households
        with pytest.raises(PermissionDenied):
            dashboard.area_summary(session, cadre_a, VILLAGE_B)
        with pytest.raises(PermissionDenied):
            dashboard.admin_dashboard(session, township)


@pytest.mark.parametrize("username", ["cadre_a", "grid_a1", "township", "mca", "admin"])
def test_no_landing_page_shows_an_unbuilt_feature(client: FlaskClient, auth: AuthActions, username: str) -> None:
    """Every 工作台 tile opens a working page: no 即将上线 stub, no disabled tile, on any role's landing page."""
    html = landing(client, auth, username)
    assert "即将上线" not in html and "is-disabled" not in html
    tiles = re.findall(r'<a class="tile" href="([^"]+)"', html)
    assert tiles
    for href in tiles:
        assert client.get(href, follow_redirects=True).status_code == 200, href

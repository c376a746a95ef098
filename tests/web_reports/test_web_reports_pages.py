"""The report catalogue and report pages: who sees what, the area select, the preview's layout and numbers."""

from __future__ import annotations

import re
from collections.abc import Callable

from catalogue import id_of, masked_id
from flask.testing import FlaskClient
from hand_data import COUNTY, TOWN_1, TOWN_2, V1, V2, V3, HandCounty
from sqlmodel import Session
from web_report_helpers import REF, body_row, options, table_rows, text

from app.registry.loader import load_registry
from app.services.users import create_user

ALL_IDS = sorted(load_registry().reports)
Login = Callable[[str], FlaskClient]


def report_ids(page: str) -> set[str]:
    return set(re.findall(r'href="/reports/([a-z0-9_]+)"', page)) - {"downloads", "manage"}


# ------------------------------------------------------------------------------ the catalogue


def test_department_user_sees_only_its_departments_reports(login: Login) -> None:
    page = text(login("mca").get("/reports/"))
    assert report_ids(page) == {i for i in ALL_IDS if i.startswith("mca_")}
    assert "困难群众分村汇总表" in page and "{area}" not in page
    page = text(login("nhc").get("/reports/"))
    assert report_ids(page) == {"nhc_elderly_health", "nhc_hypertension_changes"}
    assert "65岁及以上老年人健康管理底数" in page and "（截至）" not in page  # placeholders left out cleanly
    assert "/reports/manage" not in page


def test_admin_sees_every_report_and_the_manage_link(login: Login) -> None:
    page = text(login("admin").get("/reports/"))
    assert report_ids(page) == set(ALL_IDS)
    assert 'href="/reports/manage"' in page and "/reports/manage?from=mca_needy_by_village" in page


def test_reports_need_a_login(client: FlaskClient, hand: HandCounty) -> None:
    response = client.get("/reports/mca_needy_by_village")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_department_user_may_not_open_another_departments_report(login: Login) -> None:
    response = login("mca").get("/reports/nhc_elderly_health")
    assert response.status_code == 403
    assert "属于其他部门" in text(response)


def test_unknown_report_is_404_with_a_suggestion(login: Login) -> None:
    response = login("mca").get("/reports/mca_needy_by_villag")
    assert response.status_code == 404
    assert "mca_needy_by_village" in text(response)  # 是否想写…


def test_landing_pages_link_to_the_reports(login: Login, session: Session, hand: HandCounty) -> None:
    create_user(session, "town_1", "password-123", "青石镇干部", "township_staff", TOWN_1)
    session.commit()
    for username in ("mca", "admin", "town_1"):
        page = text(login(username).get("/"))
        assert 'href="/reports/"' in page, username
    assert 'href="/reports/manage"' in text(login("admin").get("/"))


# ------------------------------------------------------------------------------ the form


def test_area_select_is_limited_to_the_users_scope(login: Login, session: Session, hand: HandCounty) -> None:
    page = text(login("mca").get("/reports/mca_needy_by_village"))
    assert [v for v, _ in options(page, "area")] == [COUNTY, TOWN_1, V1, V2, TOWN_2, V3]
    create_user(session, "mca_town", "password-123", "青石镇民政办", "department", TOWN_1, "mca")
    session.commit()
    page = text(login("mca_town").get("/reports/mca_needy_by_village"))
    assert options(page, "area") == [(TOWN_1, "青石镇"), (V1, "甲村"), (V2, "乙村")]
    page = text(login("cadre_1").get("/reports/mca_needy_by_village"))
    assert options(page, "area") == [(V1, "甲村")]


def test_form_offers_a_date_or_a_period_and_the_versions(login: Login) -> None:
    client = login("mca")
    page = text(client.get("/reports/mca_needy_by_village"))
    assert 'type="date" name="as_of"' in page and 'name="period"' not in page
    assert options(page, "version") == [("1", "v1（最新）")]
    for fmt in ("xlsx", "csv", "json"):
        assert f'formaction="/reports/mca_needy_by_village/download" name="format" value="{fmt}"' in page
    page = text(client.get("/reports/mca_dibao_changes"))
    assert 'name="period"' in page and 'name="as_of"' not in page
    # the period picker: the last complete month by default, recent periods offered, free text still allowed
    from app import clock
    from app.services.reports import last_complete_period

    start, _end = last_complete_period(clock.today(), "monthly")
    assert f'value="{start:%Y-%m}" required' in page and 'list="period-choices"' in page
    assert f'<option value="{start:%Y-%m}">{start.year}年{start.month}月</option>' in page


# ------------------------------------------------------------------------------ the preview


def test_preview_of_needy_by_village(login: Login) -> None:
    response = login("mca").get(f"/reports/mca_needy_by_village?area={COUNTY}&as_of={REF}&version=1&preview=1")
    assert response.status_code == 200
    page = text(response)
    assert '<h2 class="report-title">云溪县困难群众分村汇总表</h2>' in page
    assert "<dt>表号：</dt><dd>民救1表</dd>" in page and "<dd>2027年12月31日</dd>" in page  # statutory block
    assert "截至2025年6月30日" in page and "单位：户、人、元" in page
    # merged header: 3 rows, groups spanning their leaves, leaves spanning down to the bottom
    assert '<th rowspan="3" scope="col">单位名称</th>' in page
    assert '<th colspan="5" scope="col">低保</th>' in page
    assert '<th colspan="2" scope="col">其中</th>' in page
    assert '<th rowspan="2" scope="col">户数</th>' in page
    assert '<th scope="col">城市低保户</th>' in page
    rows = table_rows(page)
    numbers = [cells for cls, cells in rows if cls == "column-numbers"]
    assert numbers == [["甲", *[str(i) for i in range(1, 12)]]]
    body = [(cls, cells[0]) for cls, cells in rows if cls.startswith("row-")]
    assert body == [("row-total", "合计"), ("row-subtotal", "青石镇小计"), ("row-data", "甲村"), ("row-data", "乙村"),
                    ("row-subtotal", "石门乡小计"), ("row-data", "丙村")]
    # 低保 on 2025-06-30: H1 (甲村; p1 p2 p3; 800) and H6, H7 (丙村; p13, p15; 600 + 300)
    #                                    户 人 城市 农村 月金额   边缘 特困 集中 分散 留守 孤儿
    assert body_row(page, "合计") == ("row-total", ["合计", "3", "5", "0", "3", "1,700", "0", "2", "1", "1", "1", "0"])
    assert body_row(page, "甲村")[1][:6] == ["甲村", "1", "3", "0", "1", "800"]
    assert body_row(page, "丙村")[1][:6] == ["丙村", "2", "2", "0", "2", "900"]
    assert body_row(page, "石门乡小计")[0] == "row-subtotal"
    assert "1≥3+4；6=7+8" in page  # the form's note


def test_preview_for_a_township_and_an_earlier_date(login: Login) -> None:
    page = text(login("mca").get(f"/reports/mca_needy_by_village?area={TOWN_1}&as_of=2024-12-31&preview=1"))
    assert '<h2 class="report-title">青石镇困难群众分村汇总表</h2>' in page
    # 2024-12-31: 甲村 has H1 (农村 800) and H3 (城市 500); persons p1 p2 p3 + p7
    assert body_row(page, "合计")[1][:6] == ["合计", "2", "4", "1", "1", "1,300"]
    assert [cells[0] for cls, cells in table_rows(page) if cls.startswith("row-")] == ["合计", "甲村", "乙村"]


def test_preview_masks_id_numbers_even_when_the_download_has_them(login: Login) -> None:
    page = text(login("mca").get(f"/reports/mca_dibao_roster?area={COUNTY}&as_of={REF}&preview=1"))
    assert masked_id("p1") in page and masked_id("p15") in page
    assert id_of("p1") not in page and id_of("p15") not in page
    assert "身份证号只显示前4位和后4位" in page
    # H1's household columns span its three members' rows, as in the xlsx file
    rows = [cells for cls, cells in table_rows(page) if cls == "row-data"]
    assert rows[:3] == [
        ["1", "青石镇", "甲村", "JC001", "甲一", "3", "农村低保", "800.00", "甲一", "户主", "男", "75", masked_id("p1")],
        ["甲二", "配偶", "女", "72", masked_id("p2")],
        ["甲三", "孙子", "男", "9", masked_id("p3")],
    ]
    assert '<td rowspan="3">JC001</td>' in page


def test_preview_of_a_change_list_for_a_period(login: Login) -> None:
    page = text(login("mca").get(f"/reports/mca_dibao_changes?area={COUNTY}&period=2025-06&preview=1"))
    assert "报告期：2025年6月" in page
    rows = [cells for cls, cells in table_rows(page) if cls == "row-data"]
    assert [r[:5] for r in rows] == [["新增", "石门乡", "丙村", "BC002", "丙三"], ["减少", "青石镇", "甲村", "JC003", "甲七"]]
    assert rows[0][5] == masked_id("p15")


def test_village_cadre_previews_own_village(login: Login) -> None:
    page = text(login("cadre_1").get(f"/reports/mca_needy_by_village?as_of={REF}&preview=1"))
    assert '<h2 class="report-title">甲村困难群众分村汇总表</h2>' in page
    assert [cells[0] for cls, cells in table_rows(page) if cls.startswith("row-")] == ["合计", "甲村"]

"""Downloading reports: the files, the download log, refusals and bad input."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import date
from urllib.parse import quote

import pytest
from catalogue import id_of
from flask.testing import FlaskClient
from hand_data import COUNTY, TOWN_1, V1, V3, HandCounty
from openpyxl import load_workbook
from sqlalchemy import select
from sqlmodel import Session
from web_report_helpers import REF, issues, table_rows, text

from app.models import ReportDownload
from app.services.users import create_user

Login = Callable[[str], FlaskClient]
NEEDY = f"/reports/mca_needy_by_village/download?area={COUNTY}&as_of={REF}&version=1"


def logged(session: Session) -> list[ReportDownload]:
    session.expire_all()
    return list(session.execute(select(ReportDownload).order_by(ReportDownload.id)).scalars())


def cell_values(data: bytes) -> list[list[object]]:
    workbook = load_workbook(io.BytesIO(data))
    sheet = workbook.worksheets[0]
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    workbook.close()
    return values


# ------------------------------------------------------------------------------ the files


def test_xlsx_download_opens_and_has_the_title_and_numbers(login: Login) -> None:
    response = login("mca").get(NEEDY + "&format=xlsx")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert quote("云溪县困难群众分村汇总表_2025-06-30") + ".xlsx" in disposition
    assert 'filename="mca_needy_by_village_2025-06-30.xlsx"' in disposition
    assert response.headers["Cache-Control"] == "no-store"
    rows = cell_values(response.data)
    assert any("云溪县困难群众分村汇总表" in str(v) for row in rows for v in row if v)
    total = next(row for row in rows if row and row[0] == "合计")
    assert [v for v in total[1:6]] == [3, 5, 0, 3, 1700]


def test_csv_download_starts_with_a_bom(login: Login) -> None:
    response = login("mca").get(NEEDY + "&format=csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.data.startswith(b"\xef\xbb\xbf")
    lines = response.data.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("单位名称,低保/户数,低保/人数")
    assert lines[1].startswith("合计,3,5,0,3,")


def test_json_download(login: Login) -> None:
    response = login("mca").get(NEEDY + "&format=json")
    assert response.status_code == 200
    assert "云溪县困难群众分村汇总表" in json.dumps(json.loads(response.data), ensure_ascii=False)


def test_change_list_file_name_has_no_slash(login: Login) -> None:
    response = login("mca").get(f"/reports/mca_dibao_changes/download?area={COUNTY}&period=2025-06&format=xlsx")
    assert response.status_code == 200
    disposition = response.headers["Content-Disposition"]
    assert quote("云溪县2025年6月低保对象新增_减少名单_2025-06") + ".xlsx" in disposition  # 新增/减少 → 新增_减少


def test_roster_download_has_the_full_id_numbers_the_projection_asks_for(login: Login) -> None:
    client = login("mca")
    url = f"/reports/mca_dibao_roster/download?area={COUNTY}&as_of={REF}&format=csv"
    refused = client.get(url)  # unmasked: [id_number] — only with a stated purpose
    assert refused.status_code == 422 and "请填写用途" in refused.get_data(as_text=True)
    assert client.get(url + "&purpose=%20").status_code == 422
    response = client.get(url + "&purpose=核对低保名单")
    assert id_of("p1") in response.data.decode("utf-8-sig")  # the download is logged with its purpose


# ------------------------------------------------------------------------------ the log


def test_each_download_is_logged(login: Login, session: Session, hand: HandCounty) -> None:
    client = login("mca")
    client.get(NEEDY + "&format=xlsx")
    client.get(f"/reports/mca_needy_by_village/download?area={V1}&as_of=2024-12-31&format=csv")
    client.get(f"/reports/mca_dibao_changes/download?area={COUNTY}&period=2025Q2&format=json")
    entries = logged(session)
    assert [(e.user_id, e.report_ref, e.area_code, e.reference_date, e.period, e.format, e.rows) for e in entries] == [
        (hand.mca.id, "mca_needy_by_village@1", COUNTY, date(2025, 6, 30), None, "xlsx", 6),
        (hand.mca.id, "mca_needy_by_village@1", V1, date(2024, 12, 31), None, "csv", 2),  # 合计 + 甲村
        (hand.mca.id, "mca_dibao_changes@1", COUNTY, date(2025, 6, 30), "2025-04-01..2025-06-30", "json", 2),
    ]
    page = text(client.get("/reports/downloads"))
    rows = [cells for _cls, cells in table_rows(page, "download-log")[1:]]
    assert [r[1:] for r in rows] == [
        ["县民政局 mca", "低保对象新增/减少名单 v1", f"云溪县 {COUNTY}", "2025-04-01..2025-06-30", "json", "2"],
        ["县民政局 mca", "困难群众分村汇总表 v1", f"甲村 {V1}", "2024-12-31", "csv", "2"],
        ["县民政局 mca", "困难群众分村汇总表 v1", f"云溪县 {COUNTY}", "2025-06-30", "xlsx", "6"],
    ]


def test_download_log_shows_own_downloads_admin_sees_all(login: Login) -> None:
    login("mca").get(NEEDY + "&format=csv")
    login("nhc").get(f"/reports/nhc_elderly_health/download?area={COUNTY}&as_of={REF}&format=csv")
    nhc_page = text(login("nhc").get("/reports/downloads"))
    assert "65岁及以上老年人健康管理底数 v1" in nhc_page and "困难群众分村汇总表" not in nhc_page
    admin_page = text(login("admin").get("/reports/downloads"))
    assert "65岁及以上老年人健康管理底数 v1" in admin_page and "困难群众分村汇总表 v1" in admin_page
    assert "县民政局" in admin_page and "县卫健局" in admin_page


def test_previews_are_not_logged(login: Login, session: Session) -> None:
    login("mca").get(f"/reports/mca_needy_by_village?area={COUNTY}&as_of={REF}&preview=1")
    assert logged(session) == []


# ------------------------------------------------------------------------------ refusals


def test_another_departments_report_is_403(login: Login, session: Session) -> None:
    response = login("mca").get(f"/reports/nhc_elderly_health/download?area={COUNTY}&as_of={REF}&format=xlsx")
    assert response.status_code == 403
    assert "属于其他部门" in text(response)
    assert logged(session) == []


def test_area_outside_scope_is_403(login: Login, session: Session, hand: HandCounty) -> None:
    create_user(session, "mca_town", "password-123", "青石镇民政办", "department", TOWN_1, "mca")
    session.commit()
    response = login("mca_town").get(f"/reports/mca_needy_by_village/download?area={V3}&as_of={REF}&format=xlsx")
    assert response.status_code == 403
    assert "超出您的管辖范围" in text(response)
    response = login("cadre_1").get(f"/reports/mca_needy_by_village/download?area={COUNTY}&as_of={REF}")
    assert response.status_code == 403
    response = login("cadre_1").get(f"/reports/mca_needy_by_village?area={V3}&as_of={REF}&preview=1")
    assert response.status_code == 403 and "超出您的管辖范围" in text(response) and "report-table" not in text(response)
    assert logged(session) == []


def test_unknown_area_is_refused(login: Login, session: Session) -> None:
    response = login("mca").get(f"/reports/mca_needy_by_village/download?area=339901999999&as_of={REF}")
    assert response.status_code == 422
    assert "区划 339901999999 不存在" in text(response)
    assert logged(session) == []


@pytest.mark.parametrize(("query", "status", "message"), [
    ("as_of=2025-02-30", 422, "字段 截至日期 日期“2025-02-30”无法识别"),
    ("as_of=30.06.2025", 422, "日期“30.06.2025”无法识别 请按 YYYY-MM-DD 填写"),
    ("as_of=2025-06-30&format=pdf", 422, "不支持的格式“pdf” 可选：xlsx、csv、json"),
    ("as_of=2025-06-30&version=x", 422, "版本“x”应为正整数"),
    ("as_of=2025-06-30&version=9", 404, "报表“mca_needy_by_village”没有第9版 现有版本：1"),
])
def test_bad_input_gets_a_chinese_error(login: Login, session: Session, query: str, status: int, message: str) -> None:
    response = login("mca").get(f"/reports/mca_needy_by_village/download?area={COUNTY}&{query}")
    assert response.status_code == status
    found = issues(text(response))
    assert any(message in i for i in found), found
    assert logged(session) == []


@pytest.mark.parametrize(("period", "message"), [
    ("2025-13", "报告期“2025-13”无法识别"),
    ("2025-06-30..2025-06-01", "报告期“2025-06-30..2025-06-01”无法识别"),
    ("六月", "写成 2025-06、2025Q2、2025H1、2025 或 2025-06-01..2025-06-30"),
])
def test_bad_period_gets_a_chinese_error(login: Login, session: Session, period: str, message: str) -> None:
    response = login("mca").get(f"/reports/mca_dibao_changes/download?area={COUNTY}&period={quote(period)}")
    assert response.status_code == 422
    page = text(response)
    assert any(message in i for i in issues(page))
    assert 'name="period"' in page  # back on the report's form
    assert logged(session) == []


def test_bad_date_on_the_preview_stays_on_the_form(login: Login) -> None:
    response = login("mca").get(f"/reports/mca_needy_by_village?area={COUNTY}&as_of=2025-13-01&preview=1")
    assert response.status_code == 422
    page = text(response)
    assert issues(page) == ["字段 截至日期 日期“2025-13-01”无法识别 请按 YYYY-MM-DD 填写一个真实存在的日期，例如 2025-06-30"]
    assert 'value="2025-13-01"' in page and "report-table" not in page


def test_json_clients_get_json_errors(login: Login) -> None:
    response = login("mca").get(f"/reports/mca_needy_by_village/download?area={COUNTY}&as_of=2025-02-30",
                                headers={"Accept": "application/json"})
    assert response.status_code == 422
    assert response.get_json()["error"]["issues"][0]["code"] == "bad-date"

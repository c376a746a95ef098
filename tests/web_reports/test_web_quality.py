"""Quality pages on the hand-made county: the preview's clickable cells, the lineage JSON a click
fetches (scope and masking), the rule results page and its drill-down."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import yaml
from flask import Flask
from flask.testing import FlaskClient
from hand_data import V1, V3, HandCounty
from web_report_helpers import REF

from app.registry.rules import parse_rules
from app.services import reports

URL = "/quality/explain/mca_needy_by_village?version=1"


def test_preview_cells_carry_area_and_column(login: Callable[[str], FlaskClient]) -> None:
    client = login("mca")
    page = client.get(f"/reports/mca_needy_by_village?area=339901000000&as_of={REF}&preview=1").get_data(as_text=True)
    assert 'data-explain-url="/quality/explain/mca_needy_by_village?version=1"' in page
    assert f'<tr class="row-data" data-area="{V3}">' in page
    assert re.search(rf'data-area="{V3}"><td>丙村</td><td class="num explainable" data-col="1"', page)
    assert "js/lineage.js" in page
    roster = client.get(f"/reports/mca_dibao_roster?area=339901000000&as_of={REF}&preview=1").get_data(as_text=True)
    assert "data-explain-url" not in roster and "explainable" not in roster


def test_explain_json_for_a_click(login: Callable[[str], FlaskClient], hand: HandCounty) -> None:
    client = login("mca")
    data = client.get(f"{URL}&area={V3}&column=2&as_of={REF}", headers={"Accept": "application/json"}).get_json()
    assert data["value"] == 2 and data["records_total"] == 2
    assert sorted(r["name"] for r in data["records"]) == ["丙一", "丙三"]
    assert all(r["id_number"][4:14] == "*" * 10 for r in data["records"])
    assert {r["link"] for r in data["records"]} == {f"/village/person/{hand.persons['p13']}",
                                                    f"/village/person/{hand.persons['p15']}"}
    assert [c["effective_date"] for c in data["changes"]] == ["2025-06-10", "2025-06-15"]


def test_explain_respects_scope_and_department(login: Callable[[str], FlaskClient]) -> None:
    cadre = login("cadre_1")  # 甲村 cadre asking about 丙村
    refused = cadre.get(f"{URL}&area={V3}&column=1&as_of={REF}", headers={"Accept": "application/json"})
    assert refused.status_code == 403
    nhc = login("nhc")  # another department's report
    assert nhc.get(f"{URL}&area={V1}&column=1&as_of={REF}", headers={"Accept": "application/json"}).status_code == 403
    mca = login("mca")
    bad = mca.get(f"{URL}&area={V1}&column=abc", headers={"Accept": "application/json"})
    assert bad.status_code == 422 and "栏次“abc”应为正整数" in bad.get_data(as_text=True)


def test_rules_page_and_drill_down(app: Flask, login: Callable[[str], FlaskClient], hand: HandCounty,
                                   tmp_path: Path) -> None:
    client = login("mca")
    with app.app_context():
        from app.db import get_db

        with get_db(app).session() as session:
            registry = reports.registry_for(app, session)
        rules, issues = parse_rules(yaml.safe_load(
            "- {code: R_DIBAO_MAX, name: 低保人数不超过2, department: mca, left: P_DIBAO, op: '<=', right: 2}"),
            "t.yaml", registry.indicators)
        assert not issues
        app.extensions["ybt.rules"] = (registry, rules)
    page = client.get(f"/quality/rules?area=339901000000&as_of={REF}").get_data(as_text=True)
    assert '<strong class="rule-violation-count">1</strong>' in page
    assert "青石镇 甲村" in page
    detail = client.get(f"/quality/rules/R_DIBAO_MAX/{V1}?as_of={REF}")
    assert detail.status_code == 200
    body = detail.get_data(as_text=True)
    assert "低保人数（参考日 2025-06-30）= 3" in body
    for name in ("甲一", "甲二", "甲三"):
        assert name in body
    assert "甲七" not in body  # H3's 低保 ended 2025-06-20
    bad = client.get("/quality/rules?as_of=2025-13-01")
    assert bad.status_code == 422 and "日期“2025-13-01”无法识别" in bad.get_data(as_text=True)


def test_reconcile_upload_page_and_xlsx(login: Callable[[str], FlaskClient], tmp_path: Path) -> None:
    import io

    from openpyxl import load_workbook

    client = login("mca")
    generated = client.get(f"/reports/mca_needy_by_village/download?area=339901000000&as_of={REF}&format=xlsx").data
    wb = load_workbook(io.BytesIO(generated))
    ws = wb.active
    row = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "丙村")
    ws.cell(row, 2).value = 5  # 户数: generated 2
    buffer = io.BytesIO()
    wb.save(buffer)
    form = {"area": "339901000000", "as_of": REF, "format": "html"}
    page = client.post("/quality/reconcile/mca_needy_by_village", content_type="multipart/form-data",
                       data={**form, "file": (io.BytesIO(buffer.getvalue()), "手工.xlsx")})
    body = page.get_data(as_text=True)
    assert page.status_code == 200, body
    assert '<strong class="diff-count">1</strong>' in body
    assert f"preview=1#explain-{V3}-1" in body.replace("&amp;", "&")
    xlsx = client.post("/quality/reconcile/mca_needy_by_village", content_type="multipart/form-data",
                       data={**form, "format": "xlsx", "file": (io.BytesIO(buffer.getvalue()), "手工.xlsx")})
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    assert [r[:6] for r in sheet.iter_rows(min_row=4, values_only=True)] == [("丙村", V3, 1, "户数", 5, 2)]
    missing = client.post("/quality/reconcile/mca_needy_by_village", content_type="multipart/form-data", data=form)
    assert missing.status_code == 422 and "请选择要核对的手工报表文件" in missing.get_data(as_text=True)
    nhc = login("nhc")
    assert nhc.get("/quality/reconcile/mca_needy_by_village").status_code == 403


def test_department_chart_data_from_history(login: Callable[[str], FlaskClient], hand: HandCounty) -> None:
    from datetime import date

    from app.db import get_db
    from app.services import charts

    client = login("mca")
    landing = client.get("/").get_data(as_text=True)
    assert 'data-chart-src="/quality/charts/department"' in landing and "vendor/echarts/echarts.min.js" in landing
    with get_db(client.application).session() as session:
        # 低保 households at month ends: H3 from 2024-01-01, H1 from 02-01, H6 from 03-01
        spec = charts.tag_trend(session, hand.mca, date(2024, 3, 31), months=3)
        assert spec["categories"] == ["2024-01", "2024-02", "2024-03"]
        assert spec["series"] == [{"name": "低保", "data": [1, 2, 3]}, {"name": "留守儿童", "data": [1, 1, 1]},
                                  {"name": "特困", "data": [2, 2, 2]}]
        # June 2025: H3 ended 06-20, H7 began 06-15 → still 3 at the end of June; a cadre sees only 甲村
        june = charts.tag_trend(session, hand.cadre_1, date(2025, 6, 30), months=2)
        assert {s["name"]: s["data"] for s in june["series"]}["低保"] == [2, 1]
    data = client.get("/quality/charts/department").get_json()
    assert len(data["tags"]["categories"]) == 24 and data["tasks"]["categories"] == []


def test_completeness_page_and_xlsx(login: Callable[[str], FlaskClient]) -> None:
    client = login("mca")
    page = client.get(f"/quality/completeness?area=339901000000&as_of={REF}").get_data(as_text=True)
    assert "<td>乙村</td><td class=\"num\">8</td><td class=\"num\">66.7%</td><td class=\"num\">25.0%</td>" in page
    assert 'id="completeness-data"' in page
    xlsx = client.get(f"/quality/completeness?area=339901000000&as_of={REF}&format=xlsx")
    assert xlsx.headers["Content-Type"].startswith("application/vnd.openxmlformats")
    bad = client.get("/quality/completeness?months=abc")
    assert bad.status_code == 422 and "月数“abc”应为正整数" in bad.get_data(as_text=True)

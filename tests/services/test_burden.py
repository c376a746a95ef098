"""减负监测 on a small data set built here, checked against numbers worked out by hand.

Areas: 云溪县 > 青石镇 > 甲村 (with grid 甲村一网格), 乙村. Accounts: admin (county), town (青石镇),
cadre_1 (甲村), grid_1 (甲村一网格), cadre_2 (乙村). Times are UTC as stored; the period is read in
Beijing time (UTC+8).

Change batches (entries):                                  in 2025?   counted for
  b1 web      cadre_1  2025-03-01 02:00      3             yes        甲村
  b2 excel    grid_1   2025-05-01 08:00      4             yes        甲村 (the grid's village)
  b3 task     cadre_2  2025-06-01 08:00      2             yes        乙村
  b4 import   town     2025-07-01 08:00      5             yes        total only (a township account)
  b5 flowback admin    2025-08-01 08:00      1             yes        total only
  b6 seed     admin    2025-02-01 08:00    100             yes        "other", not village work
  b7 web      cadre_1  2024-12-31 16:30      1             yes: 2025-01-01 00:30 Beijing time   甲村
  b8 web      cadre_2  2025-12-31 16:30      7             no:  2026-01-01 00:30 Beijing time
  → facts 2025: web 3+1 = 4, excel 4, task 2, import 5, flowback 1 = 16; other 100;
    甲村 4 web + 4 excel = 8; 乙村 2 task.

Downloads (rows):                                     leaf columns   cells
  mca_needy_by_village@1  county   9 rows  (twice)    11             2 × 99 = 198
  mca_needy_by_village@1  甲村      2 rows             11             22
  draft_relief@1          乙村      1 row              2 (1 pending)  2
  mca_needy_by_village@1  county   9 rows  2026-01-05 — outside
  → cells 222; cells per fact 222 / 16 = 13.875 → 13.88; 甲村 22 / 8 = 2.75; 乙村 2 / 2 = 1.0
  → zero re-typing: mca_needy_by_village only (draft_relief keeps a column for villages to type)
  → catalogue: 20 shipped reports + draft_relief = 21; absorbed in 2025: draft_relief (v1 published 2025-04-01)
(mca_needy_by_village's 11 leaves counted in forms_registry/reports/mca_needy_by_village.yaml: 低保 户数 人数
城市 农村 月保障金额, 低保边缘户, 特困 合计 集中 分散, 留守儿童, 孤儿.)
"""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime

import pytest
from flask import Flask
from openpyxl import load_workbook

from app.db import get_db
from app.models import Area, ChangeBatch, ChangeLog, ReportDefinition, ReportDownload
from app.services import burden, reports
from app.services.users import create_user

COUNTY, TOWN, V1, V2 = "339901000000", "339901100000", "339901100201", "339901100202"
GRID = V1 + "001"
DRAFT = """\
id: draft_relief
version: 1
title: "{area}临时救助情况表"
department: mca
frequency: monthly
kind: area_summary
statutory: {表号: 民救8表, 有效期至: 2099-12-31}
columns:
  - {label: 低保户数, indicator: HH_DIBAO}
  - {label: 临时救助人次, new_indicator: {name: 临时救助人次, unit: 人次}}
"""

EXPECTED = {
    "period": "2025", "start": "2025-01-01", "end": "2025-12-31",
    "cells_delivered": 222, "downloads": 4, "facts_entered": 16,
    "facts_by_source": {"web": 4, "excel": 4, "task": 2, "import": 5, "flowback": 1, "other": 100},
    "cells_per_fact": 13.88, "reports_zero_retyping": ["mca_needy_by_village"],
    "catalogue_size": 21, "absorbed": ["draft_relief"],
}


def build(app: Flask) -> None:
    with get_db(app).session() as s:
        for code, name, level, parent in [(COUNTY, "云溪县", 3, None), (TOWN, "青石镇", 4, COUNTY), (V1, "甲村", 5, TOWN),
                                          (V2, "乙村", 5, TOWN), (GRID, "甲村一网格", 6, V1)]:
            s.add(Area(code=code, name=name, level=level, parent_code=parent, valid_from=date(2000, 1, 1)))
        s.flush()
        pw = "password-123"
        users = {"admin": create_user(s, "admin", pw, "管理员", "admin", COUNTY),
                 "town": create_user(s, "town", pw, "镇干部", "township_staff", TOWN),
                 "cadre_1": create_user(s, "cadre_1", pw, "甲村干部", "village_cadre", V1),
                 "grid_1": create_user(s, "grid_1", pw, "网格员", "village_cadre", GRID),
                 "cadre_2": create_user(s, "cadre_2", pw, "乙村干部", "village_cadre", V2)}
        batches = [("web", "cadre_1", datetime(2025, 3, 1, 2, tzinfo=UTC), 3), ("excel", "grid_1", datetime(2025, 5, 1, 8, tzinfo=UTC), 4),
                   ("task", "cadre_2", datetime(2025, 6, 1, 8, tzinfo=UTC), 2), ("import", "town", datetime(2025, 7, 1, 8, tzinfo=UTC), 5),
                   ("flowback", "admin", datetime(2025, 8, 1, 8, tzinfo=UTC), 1), ("seed", "admin", datetime(2025, 2, 1, 8, tzinfo=UTC), 100),
                   ("web", "cadre_1", datetime(2024, 12, 31, 16, 30, tzinfo=UTC), 1), ("web", "cadre_2", datetime(2025, 12, 31, 16, 30, tzinfo=UTC), 7)]
        for source, who, at, n in batches:
            batch = ChangeBatch(source=source, actor_id=users[who].id, created_at=at)
            s.add(batch)
            s.flush()
            s.add_all([ChangeLog(batch_id=batch.id, entity="person", entity_id=str(i), action="update") for i in range(n)])
        s.add(ReportDefinition(report_id="draft_relief", version=1, source=DRAFT, published_by=users["admin"].id,
                               published_at=datetime(2025, 4, 1, 8, tzinfo=UTC)))
        for ref, area, rows, at in [("mca_needy_by_village@1", COUNTY, 9, datetime(2025, 6, 30, 8, tzinfo=UTC)),
                                    ("mca_needy_by_village@1", COUNTY, 9, datetime(2025, 7, 30, 8, tzinfo=UTC)),
                                    ("mca_needy_by_village@1", V1, 2, datetime(2025, 7, 30, 9, tzinfo=UTC)),
                                    ("draft_relief@1", V2, 1, datetime(2025, 9, 1, 8, tzinfo=UTC)),
                                    ("mca_needy_by_village@1", COUNTY, 9, datetime(2026, 1, 5, 8, tzinfo=UTC))]:
            s.add(ReportDownload(report_ref=ref, area_code=area, reference_date=date(2025, 6, 30), format="xlsx",
                                 rows=rows, created_at=at))
        s.commit()


@pytest.fixture
def county(app: Flask) -> Flask:
    build(app)
    return app


def _summary(data: dict) -> dict:
    return {k: data[k] for k in EXPECTED}


def test_burden_agrees_with_the_hand_computation(county: Flask) -> None:
    with county.app_context(), get_db(county).session() as s:
        result = burden.compute(s, reports.registry_for(county, s), "2025").as_dict()
    assert _summary(result) == EXPECTED
    villages = {v["name"]: (v["facts"], v["downloads"], v["cells"], v["cells_per_fact"]) for v in result["villages"]}
    assert villages == {"甲村": (8, 1, 22, 2.75), "乙村": (2, 1, 2, 1.0)}
    assert result["villages"][0]["facts_by_source"] == {"web": 4, "excel": 4, "task": 0, "import": 0, "flowback": 0}
    per_report = {r["id"]: (r["downloads"], r["rows"], r["cells"], r["zero_retyping"]) for r in result["reports"]}
    assert per_report == {"mca_needy_by_village": (3, 20, 220, True), "draft_relief": (1, 1, 2, False)}


def test_a_half_year_counts_only_its_own_days(county: Flask) -> None:
    with county.app_context(), get_db(county).session() as s:
        result = burden.compute(s, reports.registry_for(county, s), "2025H1").as_dict()
    # b1 3 web, b2 4 excel, b3 2 task, b7 1 web = 10; downloads: the county one of 06-30 (99 cells)
    assert result["facts_entered"] == 10 and result["cells_delivered"] == 99 and result["cells_per_fact"] == 9.9


def test_cli_burden_json_and_xlsx_agree(county: Flask, runner, tmp_path) -> None:
    out = runner.invoke(args=["burden", "--period", "2025", "--format", "json"])
    assert out.exit_code == 0, out.output
    assert _summary(json.loads(out.stdout)) == EXPECTED
    target = tmp_path / "b.xlsx"
    assert runner.invoke(args=["burden", "--period", "2025", "--format", "xlsx", "--out", str(target)]).exit_code == 0
    wb = load_workbook(target)
    summary = {row[0]: row[1] for row in wb["汇总"].iter_rows(values_only=True)}
    assert summary["交付报表单元格数"] == 222 and summary["录入基础数据条数"] == 16
    bad = runner.invoke(args=["burden", "--period", "2025-13"])
    assert bad.exit_code == 1 and "无法识别" in bad.output


def test_burden_page_shows_the_same_numbers_to_the_admin_only(county: Flask, client) -> None:
    client.post("/login", data={"username": "cadre_1", "password": "password-123"})
    assert client.get("/burden?period=2025").status_code == 403
    client.post("/logout")
    client.post("/login", data={"username": "admin", "password": "password-123"})
    page = client.get("/burden?period=2025").get_data(as_text=True)
    assert '<dd class="burden-cells">222</dd>' in page and '<dd class="burden-facts">16</dd>' in page
    assert '<dd class="burden-ratio">13.88</dd>' in page
    assert 'data-chart-key="villages"' in page and "echarts.min.js" in page
    charts = client.get("/burden?period=2025&format=json").get_json()
    assert charts["reports"]["series"][0]["data"] == [220, 2] and charts["burden"]["cells_delivered"] == 222
    download = client.get("/burden?period=2025&format=xlsx")
    assert download.status_code == 200
    wb = load_workbook(io.BytesIO(download.data))
    assert [r[:3] for r in wb["按村"].iter_rows(min_row=2, values_only=True)] == [(V1, "甲村", 8), (V2, "乙村", 2)]
    bad = client.get("/burden?period=明年")
    assert bad.status_code == 422 and "无法识别" in bad.get_data(as_text=True)


def test_chart_specs_follow_the_same_numbers(county: Flask) -> None:
    with county.app_context(), get_db(county).session() as s:
        specs = burden.charts(burden.compute(s, reports.registry_for(county, s), "2025"))
    assert specs["reports"]["series"][0]["data"] == [220, 2]
    villages = specs["villages"]
    assert villages["categories"] == ["甲村", "乙村"]
    assert {x["name"]: x["data"] for x in villages["series"]}["Excel 一表"] == [4, 0]
    assert sum(sum(x["data"]) for x in villages["series"]) == 10  # 甲村 8 + 乙村 2

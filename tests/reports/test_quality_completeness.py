"""Completeness and freshness on the hand-made county (hand_data.py), reference date 2025-06-30.

Living persons: 甲村 p1–p7 (7), 乙村 p8–p12 p16–p18 (8; p19 moved out 2025-05-20), 丙村 p13 p15 (2; p14
died 2025-03-01). Everyone has 与户主关系, 所属户 and 联系电话; nobody has 民族, 婚姻, 文化程度, 政治面貌 — except
p1, whose 民族 the test sets with effect from 2025-06-05. Required (3 fields): 甲村 15/21, 乙村 16/24,
丙村 4/6; recommended (4 fields): 1/4 everywhere. Last changes: everyone 2024-01-01 except p1
(2025-06-05) and p15 (created 2025-06-10), so stale (older than 2024-06-30): 甲村 6, 乙村 8, 丙村 1.
Edits in June 2025: 甲村 (p1; H3's 低保 ended 06-20), 丙村 (p15, H7 and its 低保) — not 乙村 (last:
p19 moved out 2025-05-20).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from flask.testing import FlaskCliRunner
from hand_data import V1, V2, V3, HandCounty
from openpyxl import load_workbook
from sqlmodel import Session

from app.reporting.frames import CACHE
from app.services.completeness import months_before
from app.services.persons import update_person


@pytest.fixture
def county(session: Session, hand: HandCounty) -> HandCounty:
    update_person(session, hand.admin, hand.persons["p1"], {"ethnic_group": "01"}, effective=date(2025, 6, 5))
    session.commit()
    CACHE.clear()
    return hand


def test_per_village_and_township(runner: FlaskCliRunner, county: HandCounty) -> None:
    result = runner.invoke(args=["completeness", "--as-of", "2025-06-30", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    villages = {v["code"]: v for v in data["villages"]}
    assert [(villages[c]["persons"], villages[c]["required_share"], villages[c]["recommended_share"],
             villages[c]["stale_persons"], villages[c]["edited_in_period"], villages[c]["last_edit"])
            for c in (V1, V2, V3)] == [
        (7, round(15 / 21, 4), 0.25, 6, True, "2025-06-20"),
        (8, round(16 / 24, 4), 0.25, 8, False, "2025-05-20"),
        (2, round(4 / 6, 4), 0.25, 1, True, "2025-06-15"),
    ]
    assert villages[V1]["missing"] == {"与户主关系": 0, "所属户": 0, "民族": 6, "婚姻状况": 7, "文化程度": 7,
                                       "政治面貌": 7, "联系电话": 0}
    towns = {t["code"]: t for t in data["townships"]}
    qs = towns["339901100000"]
    assert (qs["persons"], qs["required_share"], qs["stale_persons"], qs["villages"], qs["villages_without_edit"]) == \
        (15, round(31 / 45, 4), 14, 2, 1)
    assert (towns["339901200000"]["villages_without_edit"], data["total"]["persons"], data["total"]["stale_persons"]) == (0, 17, 15)


def test_months_and_period_options(runner: FlaskCliRunner, county: HandCounty) -> None:
    # 18 months back is 2023-12-30: nobody's last change (2024-01-01 at the earliest) is older
    data = json.loads(runner.invoke(args=["completeness", "--as-of", "2025-06-30", "--months", "18",
                                          "--format", "json"]).output)
    assert data["total"]["stale_persons"] == 0
    # in May 2025 only 乙村 changed (p19 moved out 05-20); on 2025-05-31 p1's edit has not happened yet
    may = json.loads(runner.invoke(args=["completeness", "--as-of", "2025-05-31", "--format", "json"]).output)
    assert [v["edited_in_period"] for v in may["villages"]] == [False, True, False]
    assert may["villages"][0]["required_share"] == round(14 / 21, 4)
    bad = runner.invoke(args=["completeness", "--months", "0"])
    assert bad.exit_code == 1 and "月数 0 应在 1 到 120 之间" in bad.output


def test_xlsx_export(runner: FlaskCliRunner, county: HandCounty, tmp_path: Path) -> None:
    out = tmp_path / "c.xlsx"
    result = runner.invoke(args=["completeness", "--as-of", "2025-06-30", "--format", "xlsx", "--out", str(out)])
    assert result.exit_code == 0, result.output
    wb = load_workbook(out)
    assert wb.sheetnames == ["乡镇汇总", "分村"]
    rows = list(wb["分村"].iter_rows(min_row=3, values_only=True))
    assert [r[:3] for r in rows] == [(V1, "甲村", 7), (V2, "乙村", 8), (V3, "丙村", 2)]
    assert rows[1][5:10] == (8, "2025-05-20", "否", 1, 1)


def test_months_before() -> None:
    assert months_before(date(2025, 6, 30), 12) == date(2024, 6, 30)
    assert months_before(date(2025, 3, 31), 1) == date(2025, 2, 28)
    assert months_before(date(2025, 1, 15), 13) == date(2023, 12, 15)

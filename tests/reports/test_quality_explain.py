"""Cell lineage (``ybt report explain``) on the hand-made county: values, records and the period's
changes worked out by hand from hand_data.py (reference date 2025-06-30, period June 2025)."""

from __future__ import annotations

import json

from flask.testing import FlaskCliRunner
from hand_data import TOWN_1, V1, V3, HandCounty

REPORT = "mca_needy_by_village"


def explain(runner: FlaskCliRunner, area: str, column: int, *extra: str) -> dict:
    result = runner.invoke(args=["report", "explain", REPORT, "--area", area, "--as-of", "2025-06-30",
                                 "--column", str(column), "--format", "json", *extra])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_count_cell_lists_exactly_its_records_and_the_june_changes(runner: FlaskCliRunner, hand: HandCounty) -> None:
    # 丙村 column 1 (低保户数): H6 (低保 since 2024-03-01) and H7 (created 2025-06-10, 低保 from 2025-06-15)
    data = explain(runner, V3, 1)
    assert data["value"] == 2
    assert data["column_label"] == "户数" and data["indicator"]["code"] == "HH_DIBAO"
    assert sorted(r["id"] for r in data["records"]) == sorted([hand.households["H6"], hand.households["H7"]])
    assert len(data["records"]) == data["value"]
    assert {r["name"] for r in data["records"]} == {"户号 BC001", "户号 BC002"}
    # June moved it from 1 to 2: H7 was created (06-10) and got its 低保 tag (06-15)
    moves = [(c["entity"], c["action"], c["effective_date"]) for c in data["changes"]]
    assert moves == [("household", "create", "2025-06-10"), ("tag", "create", "2025-06-15")]
    assert all(c["record"] == {"entity": "household", "id": str(hand.households["H7"])} for c in data["changes"])
    assert all(c["source_label"] == "网页录入" and c["who"] == "管理员" for c in data["changes"])


def test_a_record_that_dropped_out_during_the_period_is_in_the_changes_not_the_records(
        runner: FlaskCliRunner, hand: HandCounty) -> None:
    # 甲村 column 1: H1 only on 06-30; H3's 低保 ended 2025-06-20, so it counted on 05-31 and moved the cell
    data = explain(runner, V1, 1)
    assert data["value"] == 1
    assert [r["id"] for r in data["records"]] == [hand.households["H1"]]
    assert [(c["entity"], c["record"]["id"], c["effective_date"]) for c in data["changes"]] == [
        ("tag", str(hand.households["H3"]), "2025-06-20")]


def test_person_count_through_household_tags_masks_id_numbers(runner: FlaskCliRunner, hand: HandCounty) -> None:
    # 丙村 column 2 (低保人数): p13 (H6; p14 died 2025-03-01) and p15 (entered 2025-06-10 into H7)
    data = explain(runner, V3, 2)
    assert data["value"] == 2 == len(data["records"])
    assert sorted(r["name"] for r in data["records"]) == ["丙一", "丙三"]
    assert all("*" in r["id_number"] and len(r["id_number"]) == 18 for r in data["records"])
    assert [(c["entity"], c["effective_date"]) for c in data["changes"]] == [("person", "2025-06-10"),
                                                                          ("tag", "2025-06-15")]
    assert data["changes"][0]["record"] == {"entity": "person", "id": str(hand.persons["p15"])}


def test_sum_cells_add_up_for_a_village_a_township_subtotal_and_the_total(runner: FlaskCliRunner,
                                                                        hand: HandCounty) -> None:
    # column 5 月保障金额: H1 800 (青石镇; H3's 500 ended 06-20); H6 600 + H7 300 (石门乡)
    town = explain(runner, TOWN_1, 5)
    assert town["value"] == 800
    assert [(r["id"], r["value"]) for r in town["records"]] == [(hand.households["H1"], 800)]
    total = explain(runner, "339901000000", 5)
    assert total["value"] == 1700
    assert sum(r["value"] for r in total["records"]) == 1700
    assert len(total["records"]) == 3


def test_period_option_and_text_format(runner: FlaskCliRunner, hand: HandCounty) -> None:
    # period 2025Q2 → reference date 2025-06-30, changes from 2025-04-01: still the same two for 丙村 col 1
    data = explain(runner, V3, 1, "--period", "2025Q2")
    assert data["period"] == ["2025-04-01", "2025-06-30"] and data["value"] == 2
    text = runner.invoke(args=["report", "explain", REPORT, "--area", V3, "--as-of", "2025-06-30", "--column", "7"])
    assert text.exit_code == 0, text.output
    assert "特困人员" in text.output and "= 1" in text.output and "丙一" in text.output


def test_bad_column_and_a_roster_are_refused_in_chinese(runner: FlaskCliRunner, hand: HandCounty) -> None:
    bad = runner.invoke(args=["report", "explain", REPORT, "--area", V3, "--as-of", "2025-06-30", "--column", "99"])
    assert bad.exit_code == 1 and "栏次 99 不存在" in bad.output
    unknown = runner.invoke(args=["report", "explain", REPORT, "--area", "339901299999", "--column", "1"])
    assert unknown.exit_code == 1 and "区划 339901299999 不存在" in unknown.output
    roster = runner.invoke(args=["report", "explain", "mca_dibao_roster", "--area", V3, "--column", "1"])
    assert roster.exit_code == 1 and "单元格溯源只支持汇总表" in roster.output


def test_every_summary_cell_of_the_catalogue_is_explained_by_its_records(app, session, hand: HandCounty) -> None:
    """For every area summary of the catalogue and every column, on the county's 合计 row and on 甲村:
    counts have as many records as the cell, sums' record values add up to it."""
    from datetime import date

    from app.db import get_db
    from app.services import lineage, reports

    checked = 0
    with app.app_context():
        registry = reports.registry_for(app, session)
        for spec in registry.latest():
            if spec.kind != "area_summary":
                continue
            for n, _label, _code in lineage.indicator_leaves(spec):
                for area in ("339901000000", V1):
                    req = reports.RunRequest(spec.id, area_code=area, on=date(2025, 6, 30))
                    result = lineage.explain(get_db(app), session, registry, None, req, n)
                    total = sum(r["value"] for r in result.as_dict()["records"])
                    if result.indicator.compute.aggregate in ("count", "distinct_households"):
                        assert len(result.records) == result.value, (spec.id, n, area)
                    assert abs(total - result.value) < 1e-6, (spec.id, n, area, total, result.value)
                    checked += 1
    assert checked > 100

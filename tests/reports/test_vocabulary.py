"""The richer vocabulary on the hand-made county (hand_data.py): flows within the period, derived and
comparison columns, any-of tag conditions, last/next age dates; indicators published into the
database and used by a report at once. Every expected number is worked out by hand beside it."""

from __future__ import annotations

from datetime import date

import pytest
from catalogue import summary
from hand_data import HandCounty

from app.db import get_db
from app.issues import ValidationFailed
from app.reporting.evaluate import age_date
from app.services import indicators, reports

NEW_INDICATORS = """
- code: P_TEKUN_60
  name: 60周岁及以上特困人员
  definition: 参考日持有有效“特困”标签、年满60周岁的在世人员
  unit: 人
  department: mca
  compute: {aggregate: count, subject: persons, where: {alive: true, age: {gte: 60}, tags: [tekun]}}
- code: HH_DIBAO_NEW
  name: 本期新增低保户数
  definition: 报告期内开始持有“低保”标签的户
  unit: 户
  department: mca
  compute: {aggregate: count, subject: households, flow: {event: tag_started, tag: dibao}}
- code: HH_DIBAO_END
  name: 本期减少低保户数
  definition: 报告期内“低保”标签结束的户
  unit: 户
  department: mca
  compute: {aggregate: count, subject: households, flow: {event: tag_ended, tag: dibao}}
- code: P_TEKUN_OR_LEFT
  name: 特困人员或留守儿童
  definition: 持有“特困”或“留守儿童”标签之一的在世人员
  unit: 人
  department: mca
  compute: {aggregate: count, subject: persons, where: {alive: true, tags: [{any_of: [tekun, left_behind_child]}]}}
- code: P_60_NOT_TK_DIS
  name: 60周岁及以上非特困非残疾人员
  definition: 年满60周岁、既无“特困”也无“持证残疾”标签的在世人员
  unit: 人
  department: mca
  compute: {aggregate: count, subject: persons, where: {alive: true, age: {gte: 60}, not_tags: [{any_of: [tekun, disabled]}]}}
"""

SUMMARY = """
id: test_vocab_summary
version: 1
title: "{area}困难群众变动及构成（{period}）"
department: mca
frequency: monthly
kind: area_summary
statutory: {表号: 测1表, 有效期至: 2027年12月}
rows: {level: township, subtotals: false, total: top}
columns:
  - label: 低保户
    children:
      - {label: 期末户数, indicator: HH_DIBAO}
      - label: 本月变动
        children:
          - {label: 新增, indicator: HH_DIBAO_NEW}
          - {label: 减少, indicator: HH_DIBAO_END}
      - {label: 上年同期, indicator: HH_DIBAO, compare: last_year}
      - {label: 比上年同期增减, indicator: HH_DIBAO, compare: change_last_year}
      - {label: 比上年同期增长（%）, indicator: HH_DIBAO, compare: change_last_year_pct}
      - {label: 比上月增减, indicator: HH_DIBAO, compare: change}
  - label: 特困人员
    children:
      - {label: 合计, indicator: P_TEKUN}
      - {label: 其中60周岁以上, indicator: P_TEKUN_60}
      - {label: 60岁以上占比（%）, derived: {share: [P_TEKUN_60, P_TEKUN]}}
  - {label: 每名60岁以上特困对应老人数, derived: {ratio: [P_ELDERLY_60, P_TEKUN_60]}, decimals: 1}
  - {label: 特困或留守, indicator: P_TEKUN_OR_LEFT}
  - {label: 60岁以上非特困非残疾, indicator: P_60_NOT_TK_DIS}
  - {label: 备注, blank: true}
"""


def _publish(app, session, text: str = NEW_INDICATORS) -> None:
    indicators.publish(session, reports.registry_for(app, session), None, text, "测试")
    session.commit()


def _run(app, session, text: str, on: date | None = None, period: str | None = None, area: str | None = None):
    registry = reports.registry_for(app, session)
    spec, issues = reports.validate_projection(text, registry)
    assert spec is not None and not [i for i in issues if i.severity == "error"], issues
    return reports.build_from_spec(get_db(app), session, registry, None, spec,
                                   reports.RunRequest(spec.id, area_code=area, on=on, period=period))


def test_flows_derived_comparison_any_of_on_reference_month(app, session, hand: HandCounty) -> None:
    _publish(app, session)
    report = _run(app, session, SUMMARY, period="2025-06")
    assert report.title == "云溪县困难群众变动及构成（2025年6月）"
    assert summary(report) == {
        # 低保户 on 2025-06-30: H1 (甲村), H6, H7 (丙村); H3 ended 2025-06-20.
        # 新增 in June: H7 (from 2025-06-15); 减少: H3 (ended 2025-06-20).
        # 2024-06-30: H1, H3 (青石镇), H6 (石门乡). 2025-05-31: H1, H3, H6.
        # 特困: p7 (甲村, 95), p13 (丙村, 55); 60+: p7 only. Share 合计 = 1/2 (not 100 + 0).
        # 60+ (alive, 户籍 1/2): 甲村 p1 p2 p7, 乙村 p8 p9 p10 → 6 in 青石镇; 石门乡 0 (p14 died) → 0/0 "—".
        # any of 特困/留守: p7, p3 (甲村), p13 (丙村). 60+ neither 特困 nor 残疾: p2, p8, p9 (p1 p10 残疾).
        #          户  新增 减少 上年 增减 增长%  比上月  特困 60+ 占比   老人比 任一 60+非  备注
        "合计":   [3, 1,   1,   3,   0,   0.0,   0,      2,   1,  50.0,  6.0,   3,   3,    None],
        "青石镇": [1, 0,   1,   2,   -1,  -50.0, -1,     1,   1,  100.0, 6.0,   2,   3,    None],
        "石门乡": [2, 1,   0,   1,   1,   100.0, 1,      1,   0,  0.0,   "—",   1,   0,    None],
    }


def test_flows_follow_the_period_and_as_of_date(app, session, hand: HandCounty) -> None:
    _publish(app, session)
    may = summary(_run(app, session, SUMMARY, period="2025-05"))
    # May 2025: no 低保 started or ended; 2025-05-31 stock H1 H3 H6; 2024-05-31 the same three;
    # p7 is 特困 and 95, p13 55; p19 moved out 2025-05-20 (no longer counted as alive).
    assert [may["合计"][i] for i in (0, 1, 2, 3, 4)] == [3, 0, 0, 3, 0]
    assert may["青石镇"][:3] == [2, 0, 0]
    year = summary(_run(app, session, SUMMARY, on=date(2025, 6, 30)))  # no period: the reference month
    assert year["合计"][:3] == [3, 1, 1]


def test_division_by_zero_and_subtotals_recompute_ratios(app, session, hand: HandCounty) -> None:
    _publish(app, session)
    text = SUMMARY.replace("rows: {level: township, subtotals: false, total: top}",
                           "rows: {level: village, subtotals: true, total: bottom}")
    got = summary(_run(app, session, text, period="2025-06"))
    share = {name: row[9] for name, row in got.items()}
    # 甲村 1/1, 乙村 0/0 (no 特困), 青石镇小计 1/1, 丙村 0/1, 石门乡小计 0/1, 合计 1/2 (bottom)
    assert share == {"青石镇小计": 100.0, "甲村": 100.0, "乙村": "—", "石门乡小计": 0.0, "丙村": 0.0, "合计": 50.0}
    assert list(got)[-1] == "合计"


def test_flows_of_persons_and_households_within_the_year(app, session, hand: HandCounty) -> None:
    flows = """
- {code: P_DIED_Y, name: 本年死亡人数, definition: 本年内死亡, unit: 人, department: stats,
   compute: {aggregate: count, subject: persons, flow: died, period: reference_year}}
- {code: P_OUT_Y, name: 本年迁出人数, definition: 本年内迁出, unit: 人, department: stats,
   compute: {aggregate: count, subject: persons, flow: moved_out, period: reference_year}}
- {code: P_IN_M, name: 本月迁入人数, definition: 本月新登记且非本月出生, unit: 人, department: stats,
   compute: {aggregate: count, subject: persons, flow: moved_in, period: reference_month}}
- {code: HH_NEW_M, name: 本月立户数, definition: 本月新立的户, unit: 户, department: stats,
   compute: {aggregate: count, subject: households, flow: household_created, period: reference_month}}
- {code: P_BORN_Y, name: 本年出生人数, definition: 本年内出生, unit: 人, department: stats,
   compute: {aggregate: count, subject: persons, flow: born, period: reference_year}}
"""
    _publish(app, session, flows)
    text = """
id: test_flows
version: 1
title: "{area}人口变动"
department: stats
frequency: yearly
kind: area_summary
rows: {level: village, subtotals: false, total: top}
columns:
  - {label: 死亡, indicator: P_DIED_Y}
  - {label: 迁出, indicator: P_OUT_Y}
  - {label: 迁入, indicator: P_IN_M}
  - {label: 立户, indicator: HH_NEW_M}
  - {label: 出生, indicator: P_BORN_Y}
"""
    got = summary(_run(app, session, text, on=date(2025, 6, 30)))
    # p14 died 2025-03-01 (丙村); p19 moved out 2025-05-20 (乙村); p15 entered 2025-06-10, born 1985 (丙村);
    # H7 created 2025-06-10 (丙村); nobody born in 2025.
    assert got == {"合计": [1, 1, 1, 1, 0], "甲村": [0, 0, 0, 0, 0], "乙村": [0, 1, 0, 0, 0], "丙村": [1, 0, 1, 1, 0]}
    # as of 2025-04-30: only the death has happened; June's arrivals are not there yet
    assert summary(_run(app, session, text, on=date(2025, 4, 30)))["合计"] == [1, 0, 0, 0, 0]


def test_age_reference_last_or_next_month_day(app, session, hand: HandCounty) -> None:
    assert age_date(date(2025, 3, 15), (8, 31), "last") == date(2024, 8, 31)
    assert age_date(date(2025, 3, 15), (8, 31), "next") == date(2025, 8, 31)
    assert age_date(date(2025, 8, 31), (8, 31), "last") == age_date(date(2025, 8, 31), (8, 31), "next") == date(2025, 8, 31)
    assert age_date(date(2025, 9, 1), (8, 31), "next") == date(2026, 8, 31)
    assert age_date(date(2025, 3, 15), (8, 31)) == date(2025, 8, 31)  # the same-year form is unchanged
    ages = """
- {code: P_9_15_LAST, name: 9至15周岁（上一个8月31日）, definition: 按最近已过的8月31日计算年龄, unit: 人, department: moe,
   compute: {aggregate: count, subject: persons, where: {alive: true, age: {gte: 9, lte: 15}}, age_date: {last: 08-31}}}
- {code: P_9_15_NEXT, name: 9至15周岁（下一个8月31日）, definition: 按即将到来的8月31日计算年龄, unit: 人, department: moe,
   compute: {aggregate: count, subject: persons, where: {alive: true, age: {gte: 9, lte: 15}}, age_date: {next: 08-31}}}
"""
    _publish(app, session, ages)
    text = """
id: test_ages
version: 1
title: "{area}学龄"
department: moe
frequency: yearly
kind: area_summary
rows: {level: village, subtotals: false, total: none}
columns:
  - {label: 上一个, indicator: P_9_15_LAST}
  - {label: 下一个, indicator: P_9_15_NEXT}
"""
    got = summary(_run(app, session, text, on=date(2025, 3, 15)))
    # 2024-08-31: p3 (2015-09-01) is 8, p17 (2009-08-31) 15 → 乙村 1.
    # 2025-08-31: p3 is 9 (甲村), p17 turns 16 (out), p18 6 → 甲村 1.
    assert got == {"甲村": [0, 1], "乙村": [1, 0], "丙村": [0, 0]}


def test_derived_and_comparison_errors_are_chinese_with_paths(app, session, hand: HandCounty) -> None:
    registry = reports.registry_for(app, session)
    bad = SUMMARY.replace("share: [P_TEKUN_60, P_TEKUN]", "quotient: [P_TEKUN, P_NOPE]").replace(
        "compare: change}", "compare: yesterday}")
    _spec, issues = reports.validate_projection(bad, registry)
    messages = {(i.location.get("path"), i.message) for i in issues if i.severity == "error"}
    assert ("columns[1].children[2].derived.quotient", "未知的派生运算“quotient”") in messages
    assert ("columns[0].children[5].compare", "未知的对比期“yesterday”") in messages
    with pytest.raises(ValidationFailed):
        reports.publish(session, registry, hand.admin, bad)


def test_no_data_is_not_zero(app, session, hand: HandCounty) -> None:
    text = """
id: test_no_data
version: 1
title: "{area}集体经济"
department: moa
frequency: yearly
kind: area_summary
rows: {level: village, subtotals: true, total: top}
columns:
  - {label: 上年经营性收入（万元）, indicator: OBS_COLLECTIVE_INCOME_PREV}
  - {label: 户均（万元）, derived: {per_capita: [OBS_COLLECTIVE_INCOME_PREV, HH_REGISTERED]}, decimals: 2}
"""
    got = summary(_run(app, session, text, on=date(2025, 6, 30)))
    # collective_income 2024: 甲村 156000 元 = 15.6 万元, 丙村 82500 = 8.25; 乙村 reported nothing → blank, not 0.
    # 户籍户数 (status 1) on 2025-06-30: 甲村 H1 H2 H3 = 3 → 15.6 / 3 = 5.2 万元 a household
    assert got["甲村"] == [pytest.approx(15.6), 5.2]
    assert got["乙村"] == [None, "—"]
    assert got["青石镇小计"][0] == pytest.approx(15.6) and got["丙村"][0] == pytest.approx(8.25)
    assert got["合计"][0] == pytest.approx(23.85)
    # 2023: nobody reported anything for 2022 — every cell is "no data", the total too
    empty = summary(_run(app, session, text, on=date(2023, 6, 30)))
    assert {name: row[0] for name, row in empty.items()} == dict.fromkeys(empty, None)


def test_a_published_report_keeps_the_indicator_versions_it_was_published_with(app, session, hand: HandCounty) -> None:
    _publish(app, session)  # P_TEKUN_60 v1: 特困, 60 and over → p7 (95)
    text = SUMMARY.replace("id: test_vocab_summary", "id: test_pinned")
    reports.publish(session, reports.registry_for(app, session), hand.admin, text)
    session.commit()
    # version 2 of the indicator: 96 and over → nobody (p7 is 95)
    v2 = NEW_INDICATORS.split("- code: HH_DIBAO_NEW")[0].replace("gte: 60", "gte: 96")
    _publish(app, session, v2)

    def tekun_60(version: int) -> int:
        registry = reports.registry_for(app, session)
        report = reports.build_report(get_db(app), session, registry, None,
                                      reports.RunRequest("test_pinned", version, on=date(2025, 6, 30)))
        return summary(report)["合计"][8]

    assert tekun_60(1) == 1  # still computed with version 1 of P_TEKUN_60
    reports.publish(session, reports.registry_for(app, session), hand.admin, text.replace("version: 1", "version: 2"))
    session.commit()
    assert tekun_60(2) == 0  # the new report version pins version 2
    assert tekun_60(1) == 1


def test_indicator_rows_heading_row_codes_and_integer_counts(app, session, hand: HandCounty) -> None:
    text = """
id: test_rows
version: 1
title: "{area}基本情况（{period}）"
department: stats
frequency: yearly
kind: indicator_rows
rows: {level: township, value_label: 本年}
columns:
  - {label: 户籍户数, indicator: HH_REGISTERED, row_code: "1.1"}
  - {label: 特困人员, indicator: P_TEKUN}
"""
    report = _run(app, session, text, on=date(2025, 6, 30))
    sheet = report.sheets[0]
    value = next(c for c in sheet.columns if c.key == "value")
    assert (value.label, value.kind, value.decimals) == ("本年", "integer", 0)
    # 青石镇 on 2025-06-30: households H1 H2 H3 H4 H5 H8 (status 1) = 6; 特困 p7 = 1
    assert [(r.values["code"], r.values["value"]) for r in sheet.rows] == [("1.1", 6), ("02", 1)]
    registry = reports.registry_for(app, session)
    _spec, issues = reports.validate_projection(text.replace("kind: indicator_rows", "kind: area_summary"), registry)
    assert {(i.code, i.location.get("path")) for i in issues if i.severity == "error"} >= {
        ("not-applicable", "rows.value_label"), ("not-applicable", "columns[0].row_code")}


def test_monthly_and_quarterly_reports_default_to_the_last_complete_period() -> None:
    assert reports.last_complete_period(date(2025, 7, 5), "monthly") == (date(2025, 6, 1), date(2025, 6, 30))
    assert reports.last_complete_period(date(2025, 1, 1), "monthly") == (date(2024, 12, 1), date(2024, 12, 31))
    assert reports.last_complete_period(date(2025, 5, 20), "quarterly") == (date(2025, 1, 1), date(2025, 3, 31))
    assert reports.last_complete_period(date(2025, 1, 10), "quarterly") == (date(2024, 10, 1), date(2024, 12, 31))


def test_a_monthly_report_without_date_or_period_is_last_month(app, session, hand: HandCounty) -> None:
    _publish(app, session)
    registry = reports.registry_for(app, session)
    spec, _ = reports.validate_projection(SUMMARY, registry)
    report = reports.build_from_spec(get_db(app), session, registry, None, spec, reports.RunRequest(spec.id),
                                     today=date(2025, 7, 3))
    assert report.title == "云溪县困难群众变动及构成（2025年6月）"
    assert summary(report)["合计"][:3] == [3, 1, 1]  # as on 2025-06-30 with June's flows

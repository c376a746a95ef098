"""教育 and 农业农村 projections on the hand-made county (hand_data.py); expected numbers by hand.

School ages count on 8月31日 of the reference year, not on the reference date:
  p3  2015-09-01: 9 on 2025-08-31 (10 only on 09-01)      → 小学
  p6  2019-10-10: 5 on 2025-08-31                          → 学前
  p17 2009-08-31: 16 ON 2025-08-31 (15 on 06-30)           → no longer school age
  p18 2019-08-31: 6 ON 2025-08-31 (5 on 06-30)             → 小学, not 学前
  p12 2005-08-31: 20 on 2025-08-31, and 流动人口 anyway     → not counted
"""

from __future__ import annotations

from datetime import date

from catalogue import id_of, masked_id, row_order, run, summary, table
from hand_data import HandCounty

# ------------------------------------------------------------------------------ 适龄儿童少年底数

def test_school_age_counts_on_august_31(app, session, hand: HandCounty) -> None:
    report = run(app, session, "moe_school_age")
    assert report.title == "云溪县适龄儿童少年底数（截至2025年6月30日，年龄计算至当年8月31日）"
    assert report.statutory["有效期至"] == "2028年8月31日"
    assert summary(report) == {
        #           学前 适龄合计 小学 初中 低保家庭
        "合计":      [1,   2,      2,   0,   1],
        "青石镇小计": [1,   2,      2,   0,   1],
        "甲村":      [1,   1,      1,   0,   1],  # 学前 p6; 适龄 p3 (H1 is 低保)
        "乙村":      [0,   1,      1,   0,   0],  # p18 turns 6 on 08-31; p17 turns 16 on 08-31 → out
        "石门乡小计": [0,   0,      0,   0,   0],
        "丙村":      [0,   0,      0,   0,   0],
    }


def test_school_age_as_of_2024_12_31_counts_on_2024_08_31(app, session, hand: HandCounty) -> None:
    # ages on 2024-08-31: p3 8, p6 4, p17 15, p18 5
    assert summary(run(app, session, "moe_school_age", on=date(2024, 12, 31))) == {
        #           学前 适龄合计 小学 初中 低保家庭
        "合计":      [2,   2,      1,   0,   1],
        "青石镇小计": [2,   2,      1,   0,   1],
        "甲村":      [1,   1,      1,   0,   1],  # 学前 p6; 适龄 p3
        "乙村":      [1,   1,      0,   0,   0],  # 学前 p18; 适龄 p17 (15: neither 小学 nor 初中 — hence 2≥3+4)
        "石门乡小计": [0,   0,      0,   0,   0],
        "丙村":      [0,   0,      0,   0,   0],
    }


def test_school_age_roster(app, session, hand: HandCounty) -> None:
    report = run(app, session, "moe_school_age_roster")
    assert table(report) == [
        (1, "甲村", "JC001", "甲一", "甲三", "男", date(2015, 9, 1), 9, id_of("p3")),
        (2, "乙村", "YC003", "乙六", "乙八", "女", date(2019, 8, 31), 6, id_of("p18")),
    ]
    rows = report.sheets[0].rows
    assert [r.group for r in rows] == [str(hand.households["H1"]), str(hand.households["H8"])]
    # the reference year decides the 8月31日: on 2024-12-31 it is p3 (8) and p17 (15)
    past = table(run(app, session, "moe_school_age_roster", on=date(2024, 12, 31)))
    assert [(r[4], r[7]) for r in past] == [("甲三", 8), ("乙七", 15)]


# ------------------------------------------------------------------------------ 防止返贫监测

def test_monitoring_summary(app, session, hand: HandCounty) -> None:
    report = run(app, session, "moa_monitoring_summary")
    assert row_order(report)[0] == ("total", "合计")
    assert summary(report) == {
        #           监测户 人数 不稳定 边缘 突发 | 脱贫户 人数
        "合计":      [2,    6,   1,    1,   0,     1,    3],
        "青石镇小计": [2,    6,   1,    1,   0,     1,    3],
        "甲村":      [1,    3,   1,    0,   0,     1,    3],  # H2 (脱贫不稳定, from 2025-02-01): p4 p5 p6; H2 脱贫户
        "乙村":      [1,    3,   0,    1,   0,     0,    0],  # H4 (边缘易致贫): p8 p9 p10
        "石门乡小计": [0,    0,   0,    0,   0,     0,    0],
        "丙村":      [0,    0,   0,    0,   0,     0,    0],
    }


def test_monitoring_summary_before_h2_was_monitored(app, session, hand: HandCounty) -> None:
    assert summary(run(app, session, "moa_monitoring_summary", on=date(2025, 1, 31)))["合计"] == [1, 3, 0, 1, 0, 1, 3]


def test_monitored_households_roster(app, session, hand: HandCounty) -> None:
    report = run(app, session, "moa_monitored_households")
    assert report.sheets[0].notes[-1] == "共 2 户"
    assert table(report) == [
        # one row per household; 户主 ID masked, address unmasked (unmasked: [address])
        (1, "青石镇", "甲村", "JC002", "甲四", masked_id("p4"), 3, "JC002号", "脱贫不稳定户", "因病", "2025-02-01"),
        (2, "青石镇", "乙村", "YC001", "乙一", masked_id("p8"), 3, "YC001号", "边缘易致贫户", None, "2024-01-01"),
    ]
    assert [r.group for r in report.sheets[0].rows] == [None, None]

"""卫健, 医保 and 人社 projections on the hand-made county (hand_data.py); expected numbers by hand."""

from __future__ import annotations

from datetime import date

from catalogue import masked_id, phone_of, row_order, run, summary, table
from hand_data import HandCounty

ORDER = [("total", "合计"), ("subtotal", "青石镇小计"), ("data", "甲村"), ("data", "乙村"),
         ("subtotal", "石门乡小计"), ("data", "丙村")]


# ------------------------------------------------------------------------------ 65岁及以上老年人健康管理

def test_elderly_health_on_reference_date(app, session, hand: HandCounty) -> None:
    report = run(app, session, "nhc_elderly_health")
    assert report.title == "云溪县65岁及以上老年人健康管理底数（截至2025年6月30日）"
    assert row_order(report) == ORDER
    assert report.statutory["表号"] == "卫基公3表"
    assert summary(report) == {
        #           65+ 男 女 高血压 糖尿病 签约 | 高血压 糖尿病 | 精神 | 0–6岁
        "合计":      [6,  3, 3, 2,     1,     3,    2,     1,     0,    2],
        "青石镇小计": [6,  3, 3, 2,     1,     3,    2,     1,     0,    2],
        # 甲村 常住 65+: p1 75 男, p2 72 女, p7 95 女; 高血压 p1; 签约 p1 p2; 0–6: p6 (5)
        "甲村":      [3,  1, 2, 1,     0,     2,    1,     0,     0,    1],
        # 乙村: p8 84 男, p9 男 (65 ON 2025-06-30), p10 100 女; p8 has 高血压 + 糖尿病 + 签约; 0–6: p18 (5)
        #       p11 (常住外来, 35) counts as 常住 but is young; p19 moved out
        "乙村":      [3,  2, 1, 1,     1,     1,    1,     1,     0,    1],
        "石门乡小计": [0,  0, 0, 0,     0,     0,    0,     0,     0,    0],
        # 丙村: p14 died 2025-03-01 (her 高血压 ended with her); p13 55, p15 40
        "丙村":      [0,  0, 0, 0,     0,     0,    0,     0,     0,    0],
    }


def test_elderly_health_as_of_2024_12_31(app, session, hand: HandCounty) -> None:
    assert summary(run(app, session, "nhc_elderly_health", on=date(2024, 12, 31))) == {
        #           65+ 男 女 高血压 糖尿病 签约 | 高血压 糖尿病 | 精神 | 0–6岁
        "合计":      [7,  3, 4, 3,     1,     3,    3,     1,     0,    2],
        "青石镇小计": [6,  3, 3, 2,     1,     3,    2,     1,     0,    2],
        "甲村":      [3,  1, 2, 1,     0,     2,    1,     0,     0,    1],  # p1 74, p2 72, p7 94
        # 乙村: p8 (84 that very day), p19 82 男 (not yet moved out), p10 100; p9 only 64
        "乙村":      [3,  2, 1, 1,     1,     1,    1,     1,     0,    1],
        "石门乡小计": [1,  0, 1, 1,     0,     0,    1,     0,     0,    0],
        "丙村":      [1,  0, 1, 1,     0,     0,    1,     0,     0,    0],  # p14 79, alive, 高血压
    }


def test_elderly_health_p9_turns_65_on_the_reference_date(app, session, hand: HandCounty) -> None:
    # p9 was born 1960-06-30: 64 on 2025-06-29, 65 on 2025-06-30 (a birthday on the reference date counts)
    day_before = summary(run(app, session, "nhc_elderly_health", on=date(2025, 6, 29)))
    assert day_before["乙村"][:3] == [2, 1, 1]  # p8, p10
    assert day_before["合计"][:3] == [5, 2, 3]
    on_the_day = summary(run(app, session, "nhc_elderly_health", on=date(2025, 6, 30)))
    assert on_the_day["乙村"][:3] == [3, 2, 1]  # p8, p9, p10


def test_hypertension_changes_2025q1_p14_died(app, session, hand: HandCounty) -> None:
    report = run(app, session, "nhc_hypertension_changes", period="2025Q1")
    assert report.period_line == "报告期：2025年1月1日至2025年3月31日"
    # on 2024-12-31: p1, p8, p14 managed; on 2025-03-31: p1, p8. p14 died 2025-03-01.
    # 年龄 is her age on the list's last day before the period (2024-12-31): 79.
    assert table(report) == [
        ("减少", "石门乡", "丙村", "丙二", "女", 79, masked_id("p14"), "199****0014", "死亡", date(2025, 3, 1)),
    ]
    assert phone_of("p14") == "19900000014"
    assert report.sheets[0].notes[-1] == "本期新增 0 人，减少 1 人"
    # Q2: nobody starts or stops 高血压 management
    assert table(run(app, session, "nhc_hypertension_changes", period="2025Q2")) == []


# ------------------------------------------------------------------------------ 医保 资助参保

def test_medical_subsidy(app, session, hand: HandCounty) -> None:
    report = run(app, session, "nhsa_medical_subsidy")
    assert report.statutory == {}
    assert summary(report) == {
        #           参保 资助 未参保 | 低保 特困 监测 (未参保)
        "合计":      [8,  3,   7,     1,   1,   5],
        "青石镇小计": [7,  2,   6,     0,   1,   5],
        # 甲村 户籍: p1(资助) p2 p3(资助) p5 insured; p4 p6 p7 not;
        #   低保 H1 all insured; 特困 p7 not; 监测 H2: p4 p6 not (p5 is)
        "甲村":      [4,  2,   3,     0,   1,   2],
        # 乙村 户籍: p16 p17 p18 insured (资助 否); p8 p9 p10 not (H4 监测 → 3); p11/p12 not 户籍
        "乙村":      [3,  0,   3,     0,   0,   3],
        "石门乡小计": [1,  1,   1,     1,   0,   0],
        # 丙村: p13 insured (资助, 特困); p15 not, and H7 is 低保 → 1
        "丙村":      [1,  1,   1,     1,   0,   0],
    }


# ------------------------------------------------------------------------------ 人社 城乡居民养老保险

def test_pension(app, session, hand: HandCounty) -> None:
    report = run(app, session, "hrss_pension")
    assert report.title == "云溪县2025年6月城乡居民基本养老保险参保情况表"
    assert summary(report) == {
        #           参保 领取 60+未领取 劳动年龄 外出务工
        "合计":      [5,  3,   3,       5,      1],
        "青石镇小计": [5,  3,   3,       3,      1],
        # 甲村: p1 p2 (领取) p5 (不领取); 60+ not receiving: p7; 16–59 户籍: p4 (人户分离) p5; 务工 p4
        "甲村":      [3,  2,   1,       2,      1],
        # 乙村: p8 (领取) p16; 60+ not receiving: p9 (65) p10; 16–59: p16 (p17 is 15, p11/p12 not 户籍)
        "乙村":      [2,  1,   2,       1,      0],
        "石门乡小计": [0,  0,   0,       2,      0],
        "丙村":      [0,  0,   0,       2,      0],  # 16–59: p13 55, p15 40
    }

"""统计 and 住建 projections on the hand-made county (hand_data.py); expected numbers by hand."""

from __future__ import annotations

import pytest
from catalogue import row_order, run, summary, table
from hand_data import V3, HandCounty

# ------------------------------------------------------------------------------ 农村基本情况村表 (indicator rows)

def test_village_basic_one_sheet_per_village(app, session, hand: HandCounty) -> None:
    report = run(app, session, "stats_village_basic")
    assert [s.name for s in report.sheets] == ["甲村", "乙村", "丙村"]
    assert [s.title for s in report.sheets] == [f"{v}农村基本情况（2025年6月30日）" for v in ("甲村", "乙村", "丙村")]
    assert report.sheets[0].column_numbers == ["甲", "乙", "丙", "1"]
    first = table(report, 0)
    assert [r[:3] for r in first][:3] == [("户籍户数", "户", "01"), ("户籍人口", "人", "02"), ("其中：男", "人", "03")]
    values = {s.name: [r[3] for r in table(report, i)] for i, s in enumerate(report.sheets)}
    assert values == {
        # 户数 户籍 男 女 常住 劳男 劳女 务工 耕地   上年粮食 单位
        # 甲村: H1 H2 H3; 户籍 p1–p7 (p4 人户分离); 常住 excludes p4; 劳动力 p4 (男 45), p5 (女 43)
        "甲村": [3, 7, 3, 4, 6, 1, 1, 1, 1000.5, 300, 1],
        # 乙村: H4 H5 H8; 户籍 p8 p9 p10 p16 p17 p18 (p11 外来, p12 流动, p19 moved out);
        #       常住 adds p11; 劳动力 女 p16 (p9 65, p17 15)
        "乙村": [3, 6, 3, 3, 7, 0, 1, 0, 800, 250, 0],
        # 丙村: H6 H7; 户籍 p13 p15 (p14 died); 劳动力 男 p13 55, p15 40
        "丙村": [2, 2, 2, 0, 2, 2, 0, 0, 1200, 410, 1],
    }


def test_village_basic_for_one_village(app, session, hand: HandCounty) -> None:
    report = run(app, session, "stats_village_basic", area=V3)
    assert [s.name for s in report.sheets] == ["丙村"]
    assert [r[3] for r in table(report)] == [2, 2, 2, 0, 2, 2, 0, 0, 1200, 410, 1]


# ------------------------------------------------------------------------------ 乡镇基本情况 (township rows)

def test_township_basic(app, session, hand: HandCounty) -> None:
    report = run(app, session, "stats_township_basic")
    assert report.paper == "A3"
    assert row_order(report) == [("total", "合计"), ("data", "青石镇"), ("data", "石门乡")]
    assert [r[1] for r in table(report)] == ["339901000000", "339901100000", "339901200000"]  # show_code
    assert report.sheets[0].column_numbers == ["甲", "乙", *[str(i) for i in range(1, 14)]]
    rows = summary(report)
    expected = {
        #         户数 户籍 男 女 常住 实有 劳男 劳女 耕地    粮食(上年) 集体收入(上年,万元) 单位 从业人员
        # 青石镇 = 甲村 + 乙村. 实有 (1/3/4): 甲村 6 (not p4), 乙村 8 (p8 p9 p10 p11 p12 p16 p17 p18)
        "青石镇": [6,  13,  6, 7, 13,  14,  1,   2,   1800.5, 550,      15.6,                1,   3],
        # 石门乡 = 丙村; 集体收入 82500 元 = 8.25 万元; 合作社 12 人
        "石门乡": [2,  2,   2, 0, 2,   2,   2,   0,   1200,   410,      8.25,                1,   12],
        "合计":   [8,  15,  8, 7, 15,  16,  3,   2,   3000.5, 960,      23.85,               2,   15],
    }
    for name, values in expected.items():
        assert rows[name] == pytest.approx(values), name


# ------------------------------------------------------------------------------ 农村房屋安全 (show_code)

def test_rural_housing(app, session, hand: HandCounty) -> None:
    report = run(app, session, "mohurd_rural_housing")
    assert report.unit_line == "单位：栋、平方米"
    assert [(r[0], r[1]) for r in table(report)] == [
        ("合计", "339901000000"), ("青石镇小计", "339901100000"), ("甲村", "339901100201"), ("乙村", "339901100202"),
        ("石门乡小计", "339901200000"), ("丙村", "339901200201")]
    assert summary(report) == {
        #           栋数 面积   C/D 其中D
        "合计":      [4,  445.5, 2,  1],
        "青石镇小计": [3,  295.5, 2,  1],
        "甲村":      [1,  120,   1,  0],  # H1 house C 120
        "乙村":      [2,  175.5, 1,  1],  # H4 house D 80.5, H8 house B 95
        "石门乡小计": [1,  150,   0,  0],
        "丙村":      [1,  150,   0,  0],  # H6 house A 150; H7's old D house is 注销 (status 2) → not counted
    }

"""残联 and 退役军人 projections on the hand-made county (hand_data.py); expected numbers by hand."""

from __future__ import annotations

from datetime import date

from catalogue import labels, masked_id, row_order, run, summary, table
from hand_data import HandCounty

# ------------------------------------------------------------------------------ 持证残疾人

def test_disabled_summary_total_at_the_bottom(app, session, hand: HandCounty) -> None:
    report = run(app, session, "cdpf_disabled_summary")
    assert report.paper == "A3"
    assert row_order(report) == [("subtotal", "青石镇小计"), ("data", "甲村"), ("data", "乙村"),
                                 ("subtotal", "石门乡小计"), ("data", "丙村"), ("total", "合计")]
    assert report.sheets[0].column_numbers == ["甲", *[str(i) for i in range(1, 14)]]
    assert summary(report) == {
        #           合计 视力 听力 言语 肢体 智力 精神 多重 一级 二级 三级 四级 重度
        "青石镇小计": [3,   1,   0,   0,   1,   1,   0,   0,   1,   1,   1,   0,   2],
        "甲村":      [1,   0,   0,   0,   1,   0,   0,   0,   0,   1,   0,   0,   1],  # p1 肢体 二级
        "乙村":      [2,   1,   0,   0,   0,   1,   0,   0,   1,   0,   1,   0,   1],  # p10 视力 一级; p17 智力 三级
        "石门乡小计": [0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0],
        "丙村":      [0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0],
        "合计":      [3,   1,   0,   0,   1,   1,   0,   0,   1,   1,   1,   0,   2],
    }


def test_disabled_roster_masks_personal_fields(app, session, hand: HandCounty) -> None:
    report = run(app, session, "cdpf_disabled_roster")
    assert report.title == "云溪县持证残疾人花名册（截至2025年6月30日）"
    assert labels(report) == ["序号", "乡镇（街道）", "村（社区）", "姓名", "性别", "年龄", "公民身份号码", "证号", "类别",
                              "等级", "联系电话", "家庭住址"]
    assert table(report) == [
        (1, "青石镇", "甲村", "甲一", "男", 75, masked_id("p1"), "****", "肢体残疾", "二级", "199****0001", "JC001号****"),
        (2, "青石镇", "乙村", "乙三", "女", 100, masked_id("p10"), "****", "视力残疾", "一级", "199****0010", "YC001号****"),
        (3, "青石镇", "乙村", "乙七", "男", 15, masked_id("p17"), "****", "智力残疾", "三级", "199****0017", "YC003号****"),
    ]
    assert masked_id("p1") == "3399**********0013"
    # 证号 (残疾证号) is the ID number plus two digits: masked like it (the short test values entirely)
    # a masked ID column is text, not an ID to be checked
    assert report.sheets[0].columns[6].kind == "text"


def test_disabled_roster_on_a_past_date(app, session, hand: HandCounty) -> None:
    # 2023-12-31: nobody is entered yet (everyone from 2024-01-01)
    assert table(run(app, session, "cdpf_disabled_roster", on=date(2023, 12, 31))) == []


# ------------------------------------------------------------------------------ 退役军人和其他优抚对象

def test_veterans_without_subtotals(app, session, hand: HandCounty) -> None:
    report = run(app, session, "mva_veterans_by_village")
    assert row_order(report) == [("total", "合计"), ("data", "甲村"), ("data", "乙村"), ("data", "丙村")]
    assert [name for name, _v in report.footer] == ["单位负责人", "填表人", "联系电话", "报出日期"]
    assert report.footer[-1][1]  # 报出日期 is filled in
    assert summary(report) == {
        #      合计 退役士兵 残疾军人 烈士遗属等 60+
        "合计": [3,  1,      1,      1,        1],
        "甲村": [1,  1,      0,      0,        0],  # p4 退役士兵, 45
        "乙村": [1,  0,      0,      1,        1],  # p8 烈士遗属, 84 (p19 moved out 2025-05-20)
        "丙村": [1,  0,      1,      0,        0],  # p13 残疾军人, 55
    }


def test_veterans_as_of_2024_12_31(app, session, hand: HandCounty) -> None:
    assert summary(run(app, session, "mva_veterans_by_village", on=date(2024, 12, 31))) == {
        #      合计 退役士兵 残疾军人 烈士遗属等 60+
        "合计": [4,  2,      1,      1,        2],
        "甲村": [1,  1,      0,      0,        0],
        "乙村": [2,  1,      0,      1,        2],  # p8 and p19 (退役士兵, 82, still here)
        "丙村": [1,  0,      1,      0,        0],
    }

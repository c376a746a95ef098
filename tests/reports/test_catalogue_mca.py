"""民政 projections on the hand-made county (hand_data.py). Every expected number is worked out by
hand from the hand_data docstring; the comment beside it names the persons or households behind it."""

from __future__ import annotations

from datetime import date

from catalogue import id_of, labels, masked_id, phone_of, row_order, run, summary, table
from hand_data import TOWN_1, HandCounty

NEEDY_ORDER = [("total", "合计"), ("subtotal", "青石镇小计"), ("data", "甲村"), ("data", "乙村"),
               ("subtotal", "石门乡小计"), ("data", "丙村")]


# ------------------------------------------------------------------------------ 困难群众分村汇总

def test_needy_by_village_on_reference_date(app, session, hand: HandCounty) -> None:
    report = run(app, session, "mca_needy_by_village")
    assert report.title == "云溪县困难群众分村汇总表"
    assert row_order(report) == NEEDY_ORDER  # total on top, township 小计 before its villages
    assert report.sheets[0].column_numbers == ["甲", *[str(i) for i in range(1, 12)]]
    assert report.sheets[0].notes == ["1≥3+4；6=7+8"]
    assert report.unit_line == "单位：户、人、元"
    assert report.statutory["有效期至"] == "2027年12月31日"
    assert summary(report) == {
        #           低保户 人数 城市 农村 月金额  边缘 特困 集中 分散 留守 孤儿
        "合计":      [3,    5,   0,   3,   1700, 0,   2,   1,   1,   1,   0],
        "青石镇小计": [1,    3,   0,   1,   800,  0,   1,   0,   1,   1,   0],
        # 甲村: H1 only (H3's 低保 ended 2025-06-20); H1 = p1 p2 p3; 800 元; 特困 p7 分散; 留守 p3 (9岁)
        "甲村":      [1,    3,   0,   1,   800,  0,   1,   0,   1,   1,   0],
        # 乙村: no 低保, 特困, 留守 at all (H4 is a 监测户, not 低保)
        "乙村":      [0,    0,   0,   0,   0,    0,   0,   0,   0,   0,   0],
        "石门乡小计": [2,    2,   0,   2,   900,  0,   1,   1,   0,   0,   0],
        # 丙村: H6 (600) + H7 (300, from 2025-06-15); persons p13 + p15 (p14 died 2025-03-01); 特困 p13 集中
        "丙村":      [2,    2,   0,   2,   900,  0,   1,   1,   0,   0,   0],
    }


def test_needy_by_village_as_of_2024_12_31(app, session, hand: HandCounty) -> None:
    report = run(app, session, "mca_needy_by_village", on=date(2024, 12, 31))
    assert summary(report) == {
        #           低保户 人数 城市 农村 月金额  边缘 特困 集中 分散 留守 孤儿
        "合计":      [3,    6,   1,   2,   1900, 0,   2,   1,   1,   1,   0],
        "青石镇小计": [2,    4,   1,   1,   1300, 0,   1,   0,   1,   1,   0],
        # 甲村: H1 (农村 800) and H3 (城市 500, still 低保); persons p1 p2 p3 + p7
        "甲村":      [2,    4,   1,   1,   1300, 0,   1,   0,   1,   1,   0],
        "乙村":      [0,    0,   0,   0,   0,    0,   0,   0,   0,   0,   0],
        "石门乡小计": [1,    2,   0,   1,   600,  0,   1,   1,   0,   0,   0],
        # 丙村: H6 only (H7 does not exist before 2025-06-10); p13 and p14 (still alive)
        "丙村":      [1,    2,   0,   1,   600,  0,   1,   1,   0,   0,   0],
    }


def test_needy_by_village_around_the_end_of_h3s_dibao(app, session, hand: HandCounty) -> None:
    # 2025-06-19: H3 still 城市低保 (ends 2025-06-20); H7 already 低保 (from 2025-06-15)
    before = summary(run(app, session, "mca_needy_by_village", on=date(2025, 6, 19)))
    #                         低保户 人数 城市 农村 月金额  边缘 特困 集中 分散 留守 孤儿
    assert before["甲村"] == [2,    4,   1,   1,   1300, 0,   1,   0,   1,   1,   0]  # H1 + H3; p1 p2 p3 p7
    assert before["丙村"] == [2,    2,   0,   2,   900,  0,   1,   1,   0,   0,   0]  # H6 + H7; p13 p15
    assert before["合计"] == [4,    6,   1,   3,   2200, 0,   2,   1,   1,   1,   0]
    # 2025-06-21: H3 has left 低保 (p7 is still 特困)
    after = summary(run(app, session, "mca_needy_by_village", on=date(2025, 6, 21)))
    assert after["甲村"] == [1,    3,   0,   1,   800,  0,   1,   0,   1,   1,   0]  # H1; p1 p2 p3
    assert after["合计"] == [3,    5,   0,   3,   1700, 0,   2,   1,   1,   1,   0]


def test_needy_by_village_for_one_township(app, session, hand: HandCounty) -> None:
    report = run(app, session, "mca_needy_by_village", area=TOWN_1)
    assert report.title == "青石镇困难群众分村汇总表"
    # one township: no 小计 rows, its own 合计 on top
    assert row_order(report) == [("total", "合计"), ("data", "甲村"), ("data", "乙村")]
    assert summary(report)["合计"] == [1, 3, 0, 1, 800, 0, 1, 0, 1, 1, 0]  # = 甲村 + 乙村(0)


# ------------------------------------------------------------------------------ 低保对象花名册

def test_dibao_roster_rows_grouped_by_household(app, session, hand: HandCounty) -> None:
    report = run(app, session, "mca_dibao_roster")
    assert report.title == "云溪县2025年6月低保对象花名册"
    assert report.period_line == "截至2025年6月30日"
    assert labels(report) == ["序号", "乡镇（街道）", "村（社区）", "户号", "户主姓名", "家庭人口", "低保类别", "月保障金额",
                              "姓名", "与户主关系", "性别", "年龄", "公民身份号码"]
    assert table(report) == [
        # H1 JC001 (农村低保 800): 户主 p1, 配偶 p2, 孙子 p3 — in relation order 02, 10, 41
        (1, "青石镇", "甲村", "JC001", "甲一", 3, "农村低保", 800, "甲一", "户主", "男", 75, id_of("p1")),
        (1, "青石镇", "甲村", "JC001", "甲一", 3, "农村低保", 800, "甲二", "配偶", "女", 72, id_of("p2")),
        (1, "青石镇", "甲村", "JC001", "甲一", 3, "农村低保", 800, "甲三", "孙子", "男", 9, id_of("p3")),
        # H6 BC001 (农村低保 600): p13 only — p14 died 2025-03-01, so 家庭人口 1
        (2, "石门乡", "丙村", "BC001", "丙一", 1, "农村低保", 600, "丙一", "户主", "男", 55, id_of("p13")),
        # H7 BC002 (农村低保 300 from 2025-06-15): p15
        (3, "石门乡", "丙村", "BC002", "丙三", 1, "农村低保", 300, "丙三", "户主", "男", 40, id_of("p15")),
    ]
    rows = report.sheets[0].rows
    h1, h6, h7 = (str(hand.households[k]) for k in ("H1", "H6", "H7"))
    assert [r.group for r in rows] == [h1, h1, h1, h6, h7]
    # household-level columns merge vertically: 序号, 乡镇, 村, 户号, 户主, 家庭人口, 低保类别, 月保障金额
    sheet = report.sheets[0]
    assert [c.label for c in sheet.columns if c.key in sheet.merge_columns] == labels(report)[:8]
    assert id_of("p1") == "339901195003010013"  # unmasked (unmasked: [id_number]), written as text
    assert sheet.columns[-1].kind == "id"
    assert sheet.notes[-1] == "共 5 人"


def test_dibao_roster_as_of_2024_12_31(app, session, hand: HandCounty) -> None:
    report = run(app, session, "mca_dibao_roster", on=date(2024, 12, 31))
    names = [(r[3], r[8], r[6], r[7]) for r in table(report)]
    assert names == [
        ("JC001", "甲一", "农村低保", 800), ("JC001", "甲二", "农村低保", 800), ("JC001", "甲三", "农村低保", 800),
        ("JC003", "甲七", "城市低保", 500),                                  # H3 still 城市低保
        ("BC001", "丙一", "农村低保", 600), ("BC001", "丙二", "农村低保", 600),  # p14 alive, 配偶
    ]
    assert [r[0] for r in table(report)] == [1, 1, 1, 2, 3, 3]
    assert table(report)[4][5] == 2  # H6 had two members then


# ------------------------------------------------------------------------------ 本月低保新增/减少

def test_dibao_changes_june_2025(app, session, hand: HandCounty) -> None:
    report = run(app, session, "mca_dibao_changes", period="2025-06")
    assert report.title == "云溪县2025年6月低保对象新增/减少名单"
    assert report.period_line == "报告期：2025年6月"
    assert table(report) == [
        # H7 BC002: did not exist on 2025-05-31, 低保 from 2025-06-15 → 新增, 新立户
        ("新增", "石门乡", "丙村", "BC002", "丙三", masked_id("p15"), 1, "新立户"),
        # H3 JC003: 低保 ended 2025-06-20 → 减少; head p7, one member
        ("减少", "青石镇", "甲村", "JC003", "甲七", masked_id("p7"), 1, "退出（标签终止）"),
    ]
    assert report.sheets[0].notes[-1] == "本期新增 1 户，减少 1 户"
    assert report.meta["报告期"] == "2025-06-01..2025-06-30"
    assert report.meta["参考日期"] == "2025-06-30"


def test_dibao_changes_other_periods(app, session, hand: HandCounty) -> None:
    # May 2025: nothing happened to 低保 (H1, H3, H6 on both 04-30 and 05-31)
    assert table(run(app, session, "mca_dibao_changes", period="2025-05")) == []
    # 2025Q2 (2025-03-31 → 2025-06-30): the same two changes as June
    q2 = table(run(app, session, "mca_dibao_changes", period="2025Q2"))
    assert [(r[0], r[3], r[7]) for r in q2] == [("新增", "BC002", "新立户"), ("减少", "JC003", "退出（标签终止）")]


# ------------------------------------------------------------------------------ 高龄津贴

def test_aged_allowance_on_reference_date(app, session, hand: HandCounty) -> None:
    report = run(app, session, "mca_aged_allowance")
    assert report.title == "云溪县2025年6月高龄津贴对象分村汇总表"
    assert row_order(report) == NEEDY_ORDER
    assert summary(report) == {
        #           80+ 80–89 90–99 100+ 领取 金额 60+(民政)  (领取/金额: no 高龄津贴 tags here, see test_aged_allowance_tag.py)
        "合计":      [3, 1, 1, 1, 0, 0, 6],
        "青石镇小计": [3, 1, 1, 1, 0, 0, 6],
        # 甲村: p7 95 (90–99); 60+: p1 75, p2 72, p7 95
        "甲村":      [1, 0, 1, 0, 0, 0, 3],
        # 乙村: p8 84 (80–89), p10 100 (100+, born 1924-08-01); 60+: p8, p9 (65 today), p10;
        #       p19 (83) moved out 2025-05-20; p11/p12 are not 户籍
        "乙村":      [2, 1, 0, 1, 0, 0, 3],
        "石门乡小计": [0, 0, 0, 0, 0, 0, 0],
        # 丙村: p14 (80) died 2025-03-01; p13 is 55, p15 40
        "丙村":      [0, 0, 0, 0, 0, 0, 0],
    }


def test_aged_allowance_as_of_2024_12_31(app, session, hand: HandCounty) -> None:
    assert summary(run(app, session, "mca_aged_allowance", on=date(2024, 12, 31))) == {
        #           80+ 80–89 90–99 100+ 领取 金额 60+
        "合计":      [4, 2, 1, 1, 0, 0, 8],
        "青石镇小计": [4, 2, 1, 1, 0, 0, 7],
        "甲村":      [1, 0, 1, 0, 0, 0, 3],  # p7 94; 60+: p1 74, p2 72, p7
        "乙村":      [3, 2, 0, 1, 0, 0, 4],  # p8 84 (birthday that day), p19 82, p10 100; 60+ adds nobody (p9 is 64)
        "石门乡小计": [0, 0, 0, 0, 0, 0, 1],
        "丙村":      [0, 0, 0, 0, 0, 0, 1],  # p14 is 79 (80 only on 2025-01-01): 60+ but not 高龄
    }


def test_aged_allowance_the_centenarian(app, session, hand: HandCounty) -> None:
    # p10 was born 1924-08-01: 99 on 2024-07-31, 100 on 2024-08-01
    assert summary(run(app, session, "mca_aged_allowance", on=date(2024, 7, 31)))["乙村"][1:4] == [2, 1, 0]  # p8 83, p19 82; p10 in 90–99
    assert summary(run(app, session, "mca_aged_allowance", on=date(2024, 8, 1)))["乙村"][1:4] == [2, 0, 1]   # p10 100+


def test_aged_roster(app, session, hand: HandCounty) -> None:
    report = run(app, session, "mca_aged_roster")
    assert report.title == "云溪县2025年6月高龄津贴发放对象花名册"
    assert report.footer[1] == ("审核人", "")
    # by village code, then by birth date (oldest first); ID and phone unmasked for payment
    assert table(report) == [
        (1, "青石镇", "甲村", "JC003", "甲七", "女", date(1930, 1, 1), 95, id_of("p7"), phone_of("p7")),
        (2, "青石镇", "乙村", "YC001", "乙三", "女", date(1924, 8, 1), 100, id_of("p10"), phone_of("p10")),
        (3, "青石镇", "乙村", "YC001", "乙一", "男", date(1940, 12, 31), 84, id_of("p8"), phone_of("p8")),
    ]
    assert phone_of("p7") == "19900000007"
    assert [r.group for r in report.sheets[0].rows] == [None, None, None]  # not grouped by household
    assert report.sheets[0].merge_columns == []


def test_aged_changes_p14_turns_80_then_dies(app, session, hand: HandCounty) -> None:
    # January 2025: p14 (born 1945-01-01) turns 80 on 2025-01-01 → 新增
    assert table(run(app, session, "mca_aged_changes", period="2025-01")) == [
        ("新增", "石门乡", "丙村", "丙二", "女", date(1945, 1, 1), masked_id("p14"), "新纳入", None),
    ]
    # March 2025: she died on 2025-03-01 → 减少, 死亡, with the date
    assert table(run(app, session, "mca_aged_changes", period="2025-03")) == [
        ("减少", "石门乡", "丙村", "丙二", "女", date(1945, 1, 1), masked_id("p14"), "死亡", date(2025, 3, 1)),
    ]
    # 2025Q1 as one period: 79 on 2024-12-31 and dead on 2025-03-31 — never on the list at either end
    q1 = run(app, session, "mca_aged_changes", period="2025Q1")
    assert table(q1) == []
    assert q1.sheets[0].notes[-1] == "本期新增 0 人，减少 0 人"


def test_aged_changes_p19_moves_out(app, session, hand: HandCounty) -> None:
    report = run(app, session, "mca_aged_changes", period="2025-05")
    assert table(report) == [
        ("减少", "青石镇", "乙村", "乙九", "男", date(1942, 5, 20), masked_id("p19"), "迁出", date(2025, 5, 20)),
    ]
    assert table(run(app, session, "mca_aged_changes", period="2025-06")) == []


def test_filler_names_the_signing_unit(app, session, hand: HandCounty) -> None:
    """A county report is signed by the county's department; a township's by the township."""
    assert run(app, session, "mca_needy_by_village").filler == "填报单位（盖章）：云溪县民政局"
    assert run(app, session, "mca_needy_by_village", area=TOWN_1).filler == "填报单位（盖章）：青石镇"

"""高龄津贴 as granted: version 2 of mca_aged_allowance counts the holders of the 高龄津贴 tag and sums
their monthly amounts next to the age-based eligibility; version 1 stays as it was. Numbers by hand."""

from __future__ import annotations

from datetime import date

from catalogue import summary
from hand_data import HandCounty

from app.db import get_db
from app.reporting.frames import CACHE
from app.services.reports import RunRequest, build_report, registry_for
from app.services.tags import grant_tag

START = date(2024, 1, 1)


def _grant(session, hand: HandCounty) -> None:  # noqa: ANN001
    p, mca = hand.persons, hand.mca
    grant_tag(session, mca, "aged_allowance", p["p7"], START, attrs={"band": "2", "monthly_amount": 200})   # 甲村, 95
    grant_tag(session, mca, "aged_allowance", p["p8"], START, attrs={"band": "1", "monthly_amount": 100})   # 乙村, 84
    # p10 turns 100 on 2024-08-01: band 2 until then, band 3 from that day
    grant_tag(session, mca, "aged_allowance", p["p10"], START, valid_to=date(2024, 8, 1),
              attrs={"band": "2", "monthly_amount": 200})
    grant_tag(session, mca, "aged_allowance", p["p10"], date(2024, 8, 1), attrs={"band": "3", "monthly_amount": 500})
    # p19 (83, 乙村) received it until he moved out on 2025-05-20
    grant_tag(session, mca, "aged_allowance", p["p19"], START, valid_to=date(2025, 5, 20),
              attrs={"band": "1", "monthly_amount": 100})
    session.commit()
    CACHE.clear()


def _run(app, session, on: date, version: int | None = None):  # noqa: ANN001, ANN202
    return build_report(get_db(app), session, registry_for(app, session), None,
                        RunRequest("mca_aged_allowance", version, on=on))


def test_holders_and_amounts_next_to_the_eligible(app, session, hand: HandCounty) -> None:
    _grant(session, hand)
    report = _run(app, session, date(2025, 6, 30))
    assert [c.label for c in report.sheets[0].columns][-3:] == ["人数", "月发放金额（元）", "参考：60周岁及以上老年人"]
    assert summary(report) == {
        #           80+ 80–89 90–99 100+ 领取 金额 60+
        "合计":      [3, 1, 1, 1, 3, 800, 6],
        "青石镇小计": [3, 1, 1, 1, 3, 800, 6],
        "甲村":      [1, 0, 1, 0, 1, 200, 3],  # p7 200
        "乙村":      [2, 1, 0, 1, 2, 600, 3],  # p8 100 + p10 500 (band 3); p19 moved out
        "石门乡小计": [0, 0, 0, 0, 0, 0, 0],
        "丙村":      [0, 0, 0, 0, 0, 0, 0],
    }
    # 2024-07-31: p10 still in band 2 (200), p19 still here (100)
    assert summary(_run(app, session, date(2024, 7, 31)))["乙村"][4:6] == [3, 400]
    assert summary(_run(app, session, date(2024, 8, 1)))["乙村"][4:6] == [3, 700]
    assert summary(_run(app, session, date(2023, 12, 31)))["合计"][4:6] == [0, 0]


def test_version_1_keeps_its_columns(app, session, hand: HandCounty) -> None:
    _grant(session, hand)
    report = _run(app, session, date(2025, 6, 30), version=1)
    assert summary(report)["乙村"] == [2, 1, 0, 1, 3]

"""The report-period picker offers the periods a person means, newest first, the report's own
frequency first; every choice is a period ``parse_period`` reads."""

from __future__ import annotations

from datetime import date

from app.services.reports import parse_period, period_choices


def test_monthly_report_on_5_january_offers_december_first() -> None:
    got = period_choices(date(2026, 1, 5), "monthly")
    assert got[:3] == [("2025-12", "2025年12月"), ("2025-11", "2025年11月"), ("2025-10", "2025年10月")]
    assert got[11] == ("2025-01", "2025年1月")
    assert got[12:16] == [("2025Q4", "2025年第四季度"), ("2025Q3", "2025年第三季度"), ("2025Q2", "2025年第二季度"),
                          ("2025Q1", "2025年第一季度")]
    assert got[16:] == [("2025H2", "2025年下半年"), ("2025H1", "2025年上半年"), ("2025", "2025年"), ("2024", "2024年")]


def test_quarterly_report_in_may_offers_the_first_quarter_first() -> None:
    got = period_choices(date(2025, 5, 20), "quarterly")
    assert got[:4] == [("2025Q1", "2025年第一季度"), ("2024Q4", "2024年第四季度"), ("2024Q3", "2024年第三季度"),
                       ("2024Q2", "2024年第二季度")]
    assert got[4] == ("2025-04", "2025年4月")
    assert ("2024H2", "2024年下半年") in got and ("2025H1", "2025年上半年") not in got  # not over yet


def test_every_choice_parses() -> None:
    for frequency in ("monthly", "quarterly", "half_yearly", "yearly", "ad_hoc"):
        for value, _label in period_choices(date(2025, 7, 1), frequency):
            start, end = parse_period(value)
            assert start <= end < date(2025, 7, 1)

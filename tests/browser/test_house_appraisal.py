"""End to end in a real browser: a village cadre records a house's new safety grade, and the 住建 report
of rural housing shows it for the next day (and not for the day before the appraisal)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from browser_steps import log_in
from hand_data import HandCounty

from app.clock import today

pytestmark = pytest.mark.browser


def housing_row(page: Any, base: str, on: str) -> list[str]:
    """The 甲村 row of mohurd_rural_housing previewed as of ``on`` through the report page's form: the name
    and the four figures (栋数, 面积, C/D, 其中D); the 区划代码 column is left out."""
    page.goto(f"{base}/reports/mohurd_rural_housing")
    page.fill("input[name=as_of]", on)
    page.get_by_role("button", name="预览").click()
    page.wait_for_url(f"**as_of={on}**preview=1*")
    cells = page.locator(".report-table tr", has_text="甲村").locator("td").all_inner_texts()
    return [cells[0], *cells[2:]]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_cadre_appraises_a_house_and_the_report_counts_it_the_next_day(
        live_server: str, browser: Any, hand: HandCounty, screenshot_dir: Path) -> None:
    from playwright.sync_api import expect

    base = live_server
    day, tomorrow, yesterday = today(), today() + timedelta(days=1), today() - timedelta(days=1)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    try:
        log_in(page, base, "cadre_1")
        # before: 甲村 has H1's house, grade C (120 m²): 1 house, 1 C/D, 0 D
        assert housing_row(page, base, tomorrow.isoformat()) == ["甲村", "1", "120.0", "1", "0"]

        page.goto(f"{base}/village/")
        page.locator("nav.tabs").get_by_role("link", name="房屋").click()
        rows = page.locator("table.list tbody tr")
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text("C级")
        rows.first.get_by_role("link", name="H1住房").click()
        page.get_by_role("link", name="安全鉴定").click()
        expect(page.locator("#f-safety_grade")).to_have_value("C")
        expect(page.locator("#f-on")).to_have_value(day.isoformat())
        page.select_option("#f-safety_grade", "D")
        page.get_by_role("button", name="保存鉴定结果").click()
        expect(page.locator(".alert-success")).to_have_text("已记录安全鉴定结果")
        expect(page.locator("dl.facts")).to_contain_text("D级")
        history = page.locator("#history li").first
        expect(history).to_contain_text("甲村干部")
        expect(history.locator("tr", has_text="安全等级")).to_contain_text("C级（C）")
        expect(history.locator("tr", has_text="安全等级")).to_contain_text("D级（D）")
        page.screenshot(path=str(screenshot_dir / "village-house.png"), full_page=True)

        # the next day the report counts a D house; the day before the appraisal it still does not
        assert housing_row(page, base, tomorrow.isoformat()) == ["甲村", "1", "120.0", "1", "1"]
        assert housing_row(page, base, yesterday.isoformat()) == ["甲村", "1", "120.0", "1", "0"]
    finally:
        context.close()

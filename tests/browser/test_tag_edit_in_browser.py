"""End to end in a real browser: a village cadre changes the 低保类别 of household JC001 from the household
page, from a chosen day; the page then shows the new category and the history the change, old → new."""

from __future__ import annotations

from typing import Any

import pytest
from browser_steps import log_in
from hand_data import HandCounty

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_cadre_changes_the_dibao_kind_from_the_household_page(live_server: str, browser: Any, hand: HandCounty) -> None:
    from playwright.sync_api import expect

    base = live_server
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    try:
        log_in(page, base, "cadre_1")
        page.goto(f"{base}/village/household/{hand.households['H1']}")
        tag = page.locator(".tag-item", has_text="低保")
        expect(tag).to_contain_text("低保类别：农村低保")
        tag.get_by_role("link", name="修改属性").click()
        expect(page.locator("#f-kind")).to_have_value("2")
        page.select_option("#f-kind", "1")
        page.fill("#f-monthly_amount", "650")
        page.fill("#f-valid_from", "2025-03-01")
        page.get_by_role("button", name="保存修改").click()
        page.wait_for_url(f"{base}/village/household/{hand.households['H1']}")
        expect(page.locator(".flash, .alert").first).to_contain_text("已修改标签：低保")
        expect(page.locator(".tag-item:not(.is-ended)", has_text="低保")).to_contain_text("低保类别：城市低保")
        expect(page.locator("#history")).to_contain_text("月保障金额：650 元")
    finally:
        context.close()

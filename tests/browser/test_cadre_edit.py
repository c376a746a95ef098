"""End to end in a real browser: a village cadre finds a person, fails one save with a message at the field,
saves a correction and sees it in the record's history; the household page on a phone.

Run with ``YBT_SCREENSHOT_DIR=docs/screenshots`` to refresh the screenshots in the docs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from browser_steps import log_in
from hand_data import HandCounty

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 812}


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_cadre_edits_a_person_and_sees_the_history(live_server: str, browser: Any, hand: HandCounty,
                                                    screenshot_dir: Path) -> None:
    from playwright.sync_api import expect

    base = live_server
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    try:
        log_in(page, base, "cadre_1")
        page.get_by_role("link", name="人员查询与标签").click()
        page.fill("input[name=q]", "甲五")
        page.get_by_role("button", name="查询").click()
        rows = page.locator("table.list tbody tr")
        expect(rows).to_have_count(1)
        rows.first.get_by_role("link", name="甲五").click()
        expect(page.locator("h1")).to_have_text("甲五")
        page.get_by_role("link", name="修改", exact=True).click()

        # one invalid save: a wrong check character; the message is at the field, nothing is saved
        id_input = page.locator("#f-id_number")
        good_id = id_input.input_value()
        id_input.fill(good_id[:17] + ("0" if good_id[17] != "0" else "1"))
        page.fill("#f-phone", "13966668888")
        page.get_by_role("button", name="保存修改").click()
        error = page.locator('[data-field="id_number"] .field-error')
        expect(error).to_contain_text("身份证号码校验位错误")
        expect(page.locator("#f-phone")).to_have_value("13966668888")  # the typed value is kept

        # typing a valid ID fills birth date and sex in the page (the server checks again on save)
        id_input.fill(good_id)
        page.locator("#f-birth_date").fill("")
        id_input.dispatch_event("input")
        expect(page.locator("#f-birth_date")).to_have_value("1982-02-02")
        page.select_option("#f-marital_status", "20")
        page.get_by_role("button", name="保存修改").click()
        expect(page.locator(".alert-success")).to_have_text("已保存")

        history = page.locator("#history li").first
        expect(history).to_contain_text("甲村干部")
        expect(history).to_contain_text("来源：网页录入")
        expect(history.locator("tr", has_text="联系电话")).to_contain_text("13966668888")
        expect(history.locator("tr", has_text="婚姻状况")).to_contain_text("已婚")
        page.screenshot(path=str(screenshot_dir / "village-person.png"), full_page=True)
    finally:
        context.close()

    phone = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="zh-CN")
    page = phone.new_page()
    try:
        log_in(page, base, "cadre_1")
        page.goto(f"{base}/village/household/{hand.households['H1']}")
        expect(page.locator(".member")).to_have_count(3)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # no sideways scrolling
        page.screenshot(path=str(screenshot_dir / "village-household-mobile.png"), full_page=True,
                        clip={"x": 0, "y": 0, "width": PHONE["width"], "height": 1300})
    finally:
        phone.close()

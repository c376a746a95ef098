"""End to end in two real browsers: a cadre logged in on a phone and on a desktop sees both sessions on
我的会话, ends the phone's from the desktop, and the phone is sent to the login page at its next click."""

from __future__ import annotations

from typing import Any

import pytest
from browser_steps import log_in
from hand_data import V1, HandCounty

pytestmark = pytest.mark.browser

PHONE_UA = ("Mozilla/5.0 (Linux; Android 13; V2148A) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/116.0 Mobile "
            "Safari/537.36 MicroMessenger/8.0.47")


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_session_ended_on_my_sessions_logs_the_other_browser_out(live_server: str, browser: Any,
                                                                   hand: HandCounty) -> None:
    from playwright.sync_api import expect

    base = live_server
    desk = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", user_agent=PHONE_UA)
    try:
        phone_page, desk_page = phone.new_page(), desk.new_page()
        log_in(phone_page, base, "cadre_1")
        log_in(desk_page, base, "cadre_1")

        desk_page.goto(f"{base}/sessions")
        rows = desk_page.locator("table tbody tr")
        expect(rows).to_have_count(2)
        expect(desk_page.locator("td[data-label='浏览器']", has_text="微信 · Android")).to_have_count(1)
        phone_row = rows.filter(has_text="微信 · Android")
        expect(phone_row.locator(".badge")).to_have_count(0)  # not the session in use here
        expect(rows.filter(has=desk_page.locator(".badge", has_text="当前会话"))).to_have_count(1)
        phone_row.get_by_role("button", name="结束会话").click()
        expect(desk_page.locator("table tbody tr")).to_have_count(1)

        phone_page.goto(f"{base}/village/{V1}/persons")  # the phone's next request
        expect(phone_page).to_have_url(f"{base}/login?next=/village/{V1}/persons")
        desk_page.goto(f"{base}/village/{V1}/persons")  # the desktop goes on
        expect(desk_page.locator("h1")).to_contain_text("甲村")
    finally:
        desk.close()
        phone.close()

"""End to end in a real browser: an admin creates an account, the new user logs in, must change the
initial password first, and then sees only their own village (another village's list is refused)."""

from __future__ import annotations

from typing import Any

import pytest
from browser_steps import log_in
from hand_data import V1, V2, HandCounty

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_admin_creates_account_user_changes_password_and_sees_only_their_scope(live_server: str, browser: Any,
                                                                               hand: HandCounty) -> None:
    from playwright.sync_api import expect

    base = live_server
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)  # e.g. CSP violations
    try:
        log_in(page, base, "admin")

        page.goto(f"{base}/admin/users")
        page.get_by_role("link", name="新建账号").click()
        page.fill("#username", "cadre_new")
        page.fill("#display_name", "甲村新干部")
        page.select_option("#role", "village_cadre")
        page.select_option("#area_code", V1)
        page.fill("#password", "Initial-pass-01")
        page.get_by_role("button", name="保存").click()
        expect(page.locator("#users")).to_contain_text("cadre_new")
        expect(page.locator("#users")).to_contain_text("待改初始密码")
        page.get_by_role("button", name="退出").click()
        page.wait_for_url(f"{base}/login")

        page.fill("#username", "cadre_new")
        page.fill("#password", "Initial-pass-01")
        page.get_by_role("button", name="登录").click()
        page.wait_for_url(f"{base}/password")
        expect(page.locator(".alert-info")).to_contain_text("初始密码")
        page.goto(f"{base}/village/{V1}/persons")  # nothing else before the change
        page.wait_for_url(f"{base}/password")

        page.fill("#current", "Initial-pass-01")
        page.fill("#new", "Spring-river-2027")
        page.fill("#repeat", "Spring-river-2027")
        page.get_by_role("button", name="修改密码").click()
        page.wait_for_url(f"{base}/")
        expect(page.locator(".who-name")).to_have_text("甲村新干部")

        page.goto(f"{base}/village/{V1}/persons")
        expect(page.locator("table.list")).to_contain_text("甲一")
        expect(page.locator("table.list")).not_to_contain_text("乙一")
        response = page.goto(f"{base}/village/{V2}/persons")
        assert response is not None and response.status == 403
        expect(page.locator("body")).to_contain_text("超出您的管辖范围")
        assert not [e for e in errors if "Content Security Policy" in e], errors
    finally:
        context.close()

"""End to end in a real browser: a collection task issued by 民政 to two villages, one correction,
two confirmations, one return by the township, approval, and the report downloaded by the issuer.

Run with ``YBT_SCREENSHOT_DIR=docs/screenshots`` to refresh the screenshot of the progress page.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from browser_steps import PASSWORD, log_in, log_out
from flask import Flask
from hand_data import TOWN_1, V1, V2, HandCounty
from openpyxl import load_workbook

from app.db import get_db
from app.services.users import create_user

pytestmark = pytest.mark.browser


@pytest.fixture
def task_users(app: Flask, hand: HandCounty) -> None:
    """乙村's cadre and 青石镇's staff, beside the hand-made county's users."""
    with get_db(app).transaction() as session:
        create_user(session, "cadre_2", PASSWORD, "乙村干部", "village_cadre", V2)
        create_user(session, "town_1", PASSWORD, "青石镇干部", "township_staff", TOWN_1)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_task_issued_confirmed_returned_approved_downloaded(live_server: str, browser: Any, task_users: None,
                                                            screenshot_dir: Path, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    base = live_server
    context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    try:
        # -- 民政 issues the 高龄津贴 roster to 甲村 and 乙村
        log_in(page, base, "mca")
        page.locator(".nav-bar").get_by_role("link", name="采集任务").click()
        page.get_by_role("link", name="发布采集任务").click()
        page.select_option("select[name=report]", "mca_aged_roster")
        page.check(f"input[name=areas][value='{V1}']")
        page.check(f"input[name=areas][value='{V2}']")
        page.fill("input[name=reference_date]", "2025-06-30")
        page.fill("input[name=deadline]", "2099-12-31")
        page.fill("textarea[name=note]", "请核对80岁以上老人的联系电话")
        page.get_by_role("button", name="发布").click()
        expect(page.locator(".alert-success")).to_contain_text("已向 2 个区划下发采集任务")
        task_url = page.url
        log_out(page, base)

        # -- 甲村 corrects 甲七's phone and confirms
        log_in(page, base, "cadre_1")
        expect(page.locator(".task-todo")).to_contain_text("高龄津贴发放对象花名册")
        page.locator(".task-todo a").first.click()
        expect(page.locator("h1")).to_contain_text("甲村")
        expect(page.get_by_label("甲七 联系电话")).to_have_value("19900000007")
        page.get_by_label("甲七 联系电话").fill("13900001111")
        page.locator("tr", has=page.get_by_label("甲七 联系电话")).get_by_role("button", name="保存").click()
        expect(page.locator(".alert-success")).to_have_text("已保存修改。")
        expect(page.locator(".task-events")).to_contain_text("甲七：联系电话：19900000007 → 13900001111")
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(screenshot_dir / "task-village.png"), full_page=True)
        page.get_by_role("button", name="确认无误并提交").click()
        expect(page.locator("h1 .task-status")).to_have_text("待审核")
        log_out(page, base)

        # -- 乙村 confirms without changes
        log_in(page, base, "cadre_2")
        page.locator(".task-todo a").first.click()
        expect(page.get_by_label("乙三 姓名")).to_have_value("乙三")
        page.get_by_role("button", name="确认无误并提交").click()
        expect(page.locator("h1 .task-status")).to_have_text("待审核")
        log_out(page, base)

        # -- 青石镇 returns 乙村 with a comment
        log_in(page, base, "town_1")
        expect(page.locator(".task-todo")).to_contain_text("待审核 2 个村")
        page.goto(task_url)
        row = page.locator(f"#v-{V2}")
        row.get_by_placeholder("退回原因").fill("乙一的联系电话请再核实")
        row.get_by_role("button", name="退回").click()
        expect(page.locator(f"#v-{V2} .task-status")).to_have_text("已退回")
        log_out(page, base)

        # -- 乙村 sees the comment and confirms again
        log_in(page, base, "cadre_2")
        page.locator(".task-todo a").first.click()
        expect(page.locator(".task-events")).to_contain_text("乙一的联系电话请再核实")
        page.get_by_role("button", name="确认无误并提交").click()
        expect(page.locator("h1 .task-status")).to_have_text("待审核")
        log_out(page, base)

        # -- 青石镇 approves both
        log_in(page, base, "town_1")
        page.goto(task_url)
        questions: list[str] = []
        page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.dismiss()))
        page.locator(f"#v-{V1}").get_by_role("button", name="审核通过").click()  # asked first; cancelled: nothing happens
        expect(page.locator(f"#v-{V1} .task-status")).to_have_text("待审核")
        assert questions and "甲村" in questions[0] and "不能再修改" in questions[0]
        page.on("dialog", lambda dialog: dialog.accept())
        page.locator(f"#v-{V1}").get_by_role("button", name="审核通过").click()
        expect(page.locator(f"#v-{V1} .task-status")).to_have_text("已确认")
        page.locator(f"#v-{V2}").get_by_role("button", name="审核通过").click()
        expect(page.locator(".task-villages .task-status")).to_have_text(["已确认", "已确认"])
        log_out(page, base)

        # -- 民政 sees the progress and downloads the report
        log_in(page, base, "mca")
        page.goto(task_url)
        expect(page.locator(".task-villages .task-status")).to_have_text(["已确认", "已确认"])
        expect(page.locator(".task-events")).to_contain_text("乙一的联系电话请再核实")
        page.screenshot(path=str(screenshot_dir / "task-progress.png"), full_page=True)
        page.get_by_role("link", name="生成汇总报表").click()
        expect(page.locator(".report-title")).to_have_text("青石镇2025年6月高龄津贴发放对象花名册")
        # the roster prints full ID numbers (民政's authorisation): the download asks for its purpose first
        page.get_by_role("button", name="下载 XLSX").click()
        expect(page.locator("input[name=purpose]:invalid")).to_have_count(1)  # required: nothing downloaded
        page.fill("input[name=purpose]", "核对本月高龄津贴名单")
        with page.expect_download() as info:
            page.get_by_role("button", name="下载 XLSX").click()
        target = tmp_path / "task.xlsx"
        info.value.save_as(target)
        workbook = load_workbook(target)
        rows = [list(r) for r in workbook.worksheets[0].iter_rows(values_only=True)]
        workbook.close()
        body = [(r[0], r[2], r[4], r[9]) for r in rows if r and isinstance(r[0], int)]
        assert body == [(1, "甲村", "甲七", "13900001111"), (2, "乙村", "乙三", "19900000010"), (3, "乙村", "乙一", "19900000008")]
    finally:
        context.close()

"""The two core cadre actions on a 390-px phone: correcting a value in a collection task and confirming
the row, and taking the file's side of a workbook conflict — with no sideways scrolling and both
sides' values on screen.

Run with ``YBT_SCREENSHOT_DIR=docs/screenshots`` to refresh the screenshots in the README.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from browser_steps import log_in
from flask import Flask
from hand_data import V1, HandCounty
from openpyxl import load_workbook

from app.db import get_db
from app.models import Person, User
from app.services import persons, tasks
from app.services.reports import registry_for

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def _phone(browser: Any) -> Any:
    return browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="zh-CN",
                               accept_downloads=True)


def _fits(page: Any, locator: Any) -> None:
    """Nothing scrolls sideways and the element lies within the screen's width."""
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    box = locator.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_phone_task_row_corrected_and_confirmed(app: Flask, live_server: str, hand: HandCounty, browser: Any,
                                                screenshot_dir: Path) -> None:
    from playwright.sync_api import expect

    with app.app_context(), get_db(app).transaction() as session:
        registry = registry_for(app, session)
        mca = session.get(User, hand.mca.id)
        task = tasks.issue_task(session, registry, mca, tasks.IssueRequest(
            "mca_aged_roster", [V1], date(2025, 6, 30), date(2099, 12, 31), "请核对联系电话"))
        task_id = task.id

    base = live_server
    context = _phone(browser)
    page = context.new_page()
    try:
        log_in(page, base, "cadre_1")
        page.locator(".nav-compact summary").click()  # the compact menu on a phone
        page.locator(".nav-compact").get_by_role("link", name="采集任务").click()
        page.goto(f"{base}/tasks/{task_id}/villages/{V1}")
        field = page.get_by_label("甲七 联系电话")
        expect(field).to_have_value("19900000007")
        card = page.locator("tr", has=field)
        _fits(page, card)
        _fits(page, field)
        expect(card.locator("td[data-field=name]")).to_be_visible()
        field.fill("13900001111")
        card.get_by_role("button", name="保存").click()
        expect(page.locator(".alert-success")).to_have_text("已保存修改。")
        expect(page.get_by_label("甲七 联系电话")).to_have_value("13900001111")
        _fits(page, page.locator("tr", has=page.get_by_label("甲七 联系电话")))
        page.locator("tr", has=page.get_by_label("甲七 联系电话")).scroll_into_view_if_needed()
        page.screenshot(path=str(screenshot_dir / "phone-task-row.png"))
        page.get_by_role("button", name="确认无误并提交").click()
        expect(page.locator("h1 .task-status")).to_have_text("待审核")
    finally:
        context.close()
    with get_db(app).session() as session:
        assert session.get(Person, hand.persons["p7"]).phone == "13900001111"


def _cell(ws: Any, name: str, header: str) -> Any:
    headers = {c.value: c.column for c in ws[1]}
    for r in range(3, ws.max_row + 1):
        if ws.cell(r, headers["姓名"]).value == name:
            return ws.cell(r, headers[header])
    raise KeyError(name)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_phone_workbook_conflict_takes_the_files_side(app: Flask, live_server: str, hand: HandCounty, browser: Any,
                                                      screenshot_dir: Path, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    base = live_server
    context = _phone(browser)
    page = context.new_page()
    try:
        log_in(page, base, "cadre_1")
        page.goto(f"{base}/village/{V1}/workbook")
        with page.expect_download() as info:
            page.get_by_role("link", name="下载本村一表（.xlsx）").click()
        path = tmp_path / "甲村一表.xlsx"
        info.value.save_as(path)
        wb = load_workbook(path)
        _cell(wb["人员"], "甲二", "联系电话").value = "13900001111"
        wb.save(path)
        with get_db(app).transaction() as session:  # meanwhile the admin saves the same phone
            persons.update_person(session, session.get(User, hand.admin.id), hand.persons["p2"], {"phone": "13700007777"})

        page.set_input_files("#file", str(path))
        page.get_by_role("button", name="上传并预览").click()
        page.wait_for_url(f"{base}/village/{V1}/workbook/uploads/*")
        conflict = page.locator(".conflict")
        expect(conflict).to_have_count(1)
        sides = conflict.locator(".conflict-sides tbody tr")
        expect(sides).to_have_count(2)
        for side, value in ((sides.nth(0), "13700007777"), (sides.nth(1), "13900001111")):  # system, file
            shown = side.get_by_text(value)
            expect(shown).to_be_visible()
            _fits(page, shown)
        take = conflict.get_by_label("采用表中的值")
        _fits(page, take)
        take.check()
        conflict.scroll_into_view_if_needed()
        page.screenshot(path=str(screenshot_dir / "phone-workbook-conflict.png"))
        page.get_by_role("button", name="确认写入").click()
        expect(page.locator(".alert-success")).to_contain_text("采用表中值的冲突 1 条")
    finally:
        context.close()
    with get_db(app).session() as session:
        assert session.get(Person, hand.persons["p2"]).phone == "13900001111"

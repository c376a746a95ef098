"""End to end in a real browser: a cadre downloads the village workbook, edits it offline, another user
saves the same person meanwhile, the cadre uploads, sees one conflict in the preview, takes the file's
value and applies.

Run with ``YBT_SCREENSHOT_DIR=docs/screenshots`` to refresh the screenshot in the docs.
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
from app.models import ChangeBatch, Person, User
from app.services import persons

pytestmark = pytest.mark.browser


def _cell(ws: Any, name: str, header: str) -> Any:
    headers = {c.value: c.column for c in ws[1]}
    for r in range(3, ws.max_row + 1):
        if ws.cell(r, headers["姓名"]).value == name:
            return ws.cell(r, headers[header])
    raise KeyError(name)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_round_trip_with_one_conflict(app: Flask, live_server: str, hand: HandCounty, browser: Any,
                                      screenshot_dir: Path, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    base = live_server
    context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    try:
        log_in(page, base, "cadre_1")
        page.locator(".nav-bar").get_by_role("link", name="Excel 一表").click()
        page.wait_for_url(f"{base}/village/{V1}/workbook")

        with page.expect_download() as info:
            page.get_by_role("link", name="下载本村一表（.xlsx）").click()
        download = info.value
        assert download.suggested_filename.startswith("甲村一表_") and download.suggested_filename.endswith(".xlsx")
        path = tmp_path / "甲村一表.xlsx"
        download.save_as(path)

        # offline, in "Excel": 甲二's and 甲四's phones change, 甲七 died
        wb = load_workbook(path)
        people = wb["人员"]
        _cell(people, "甲二", "联系电话").value = "13900001111"
        _cell(people, "甲四", "联系电话").value = "13900002222"
        _cell(people, "甲七", "人员状态").value = "死亡"
        _cell(people, "甲七", "死亡或迁出日期").value = date(2026, 11, 1)
        wb.save(path)

        # meanwhile the county admin corrects 甲二's phone in the system
        with get_db(app).transaction() as session:
            persons.update_person(session, session.get(User, hand.admin.id), hand.persons["p2"], {"phone": "13700007777"})

        page.set_input_files("#file", str(path))
        page.get_by_role("button", name="上传并预览").click()
        page.wait_for_url(f"{base}/village/{V1}/workbook/uploads/*")
        expect(page.locator("#conflicts h2")).to_have_text("冲突（1）")
        conflict = page.locator(".conflict")
        expect(conflict).to_contain_text("甲二")
        expect(conflict).to_contain_text("13700007777")  # the admin's value
        expect(conflict).to_contain_text("13900001111")  # the cadre's
        expect(page.locator("#changed")).to_contain_text("甲四")
        expect(page.locator("#ended")).to_contain_text("甲七")
        expect(page.locator('[data-unchanged="person"]')).to_have_text("4")  # 甲一 甲三 甲五 甲六
        conflict.get_by_label("采用表中的值").check()
        page.screenshot(path=str(screenshot_dir / "workbook-preview.png"), full_page=True)

        page.get_by_role("button", name="确认写入").click()
        expect(page.locator(".alert-success")).to_contain_text("新增 0 条、修改 1 条、注销或结束 1 条，采用表中值的冲突 1 条")
        expect(page.locator("#decided h2")).to_have_text("已写入")
    finally:
        context.close()

    with get_db(app).session() as session:
        p2, p4, p7 = (session.get(Person, hand.persons[k]) for k in ("p2", "p4", "p7"))
        assert (p2.phone, p4.phone) == ("13900001111", "13900002222")
        assert (p7.living_status, p7.status_date) == ("2", date(2026, 11, 1))
        last = session.get(ChangeBatch, p7.batch_id)
        assert (last.source, last.actor_id) == ("excel", hand.cadre_1.id)

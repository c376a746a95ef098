"""In a real browser, with imports in the background thread (YBT_IMPORT_JOBS=thread): the upload lands
on the job's progress page, whose script (static/js/import-job.js, no inline script) follows the job and
moves on to the preview; applying goes the same way; 我的导入 lists both jobs afterwards."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from browser_steps import log_in
from flask import Flask
from hand_data import V1
from test_import_flow import ledger

from app.services import import_jobs

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_upload_and_apply_follow_the_background_job(app: Flask, live_server: str, browser: Any, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    app.config["YBT_IMPORT_JOBS"] = "thread"
    base = live_server
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        log_in(page, base, "cadre_1")
        page.goto(f"{base}/imports/")
        page.set_input_files("input[name=file]", str(ledger(tmp_path / "甲村花名册.xlsx")))
        page.select_option("select[name=area]", V1)
        page.get_by_role("button", name="上传并预览").click()
        page.wait_for_url(re.compile(r".*/imports/jobs/\d+\?follow=1$"))
        page.wait_for_url(re.compile(r".*/imports/\d+$"), timeout=90_000)  # the script moved on when the job was done
        expect(page.locator(".alert-info")).to_contain_text("这是预览")
        expect(page.locator("#samples-new")).to_contain_text("新一")

        page.get_by_role("button", name="确认导入").click()
        page.wait_for_url(re.compile(r".*/imports/jobs/\d+\?follow=1$"))
        page.wait_for_url(re.compile(r".*/imports/\d+$"), timeout=90_000)
        expect(page.locator("#changes")).to_contain_text("新一")
        assert import_jobs.wait_idle(30)

        page.goto(f"{base}/imports/")
        jobs = page.locator("#my-jobs")
        expect(jobs).to_contain_text("上传并预览")
        expect(jobs).to_contain_text("执行导入")
        expect(jobs.locator("td", has_text="已完成")).to_have_count(2)
        # a finished job opened again from the list stays on its page, with its result linked
        jobs.get_by_role("link", name="甲村花名册.xlsx").first.click()
        expect(page.locator("[data-job-state]")).to_have_text("已完成")
        expect(page.get_by_role("link", name=re.compile("查看导入结果"))).to_be_visible()
        assert not [e for e in errors if "Content Security Policy" in e], errors
    finally:
        context.close()

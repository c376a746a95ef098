"""End to end in a real browser: an admin publishes a new projection, a department user downloads it.

Run with ``YBT_SCREENSHOT_DIR=docs/screenshots`` to refresh the screenshots in the docs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from browser_steps import log_in, log_out
from hand_data import COUNTY
from openpyxl import load_workbook

pytestmark = pytest.mark.browser

REF = "2025-06-30"
NEW_REPORT = """\
id: mca_dibao_brief
version: 1
title: "{area}低保简表"
description: 各村低保户数和人数，乡镇小计，合计在上。
department: mca
frequency: monthly
kind: area_summary
statutory:
  表号: 民救9表
  制定机关: 云溪县民政局
  批准机关: 云溪县统计局
  有效期至: 2027-12-31
unit_line: 单位：户、人
rows: {level: village, subtotals: true, total: top}
column_numbers: true
columns:
  - label: 低保
    children:
      - {label: 户数, indicator: HH_DIBAO}
      - {label: 人数, indicator: P_DIBAO}
"""


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_admin_publishes_and_department_downloads(live_server: str, browser: Any, screenshot_dir: Path,
                                                  tmp_path: Path) -> None:
    from playwright.sync_api import expect

    base = live_server
    context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    try:
        # -- the admin: a typo first (shown with its path and a hint), then the real thing
        log_in(page, base, "admin")
        page.locator(".nav-bar summary", has_text="报表管理").click()  # the drop-down of the report pages
        page.locator(".nav-bar").get_by_role("link", name="报表定义", exact=True).click()
        page.wait_for_url(f"{base}/reports/manage")
        page.fill("textarea[name=source]", NEW_REPORT.replace("indicator: P_DIBAO}", "indicator: P_DIBA}"))
        page.select_option("select[name=area]", COUNTY)
        page.fill("input[name=as_of]", REF)
        page.get_by_role("button", name="校验并预览").click()
        issues = page.locator(".alert-error .issues li")
        expect(issues).to_have_count(1)
        expect(issues.first).to_contain_text("columns[0].children[1].indicator")
        expect(issues.first).to_contain_text("是否想写“P_DIBAO”？")
        expect(page.get_by_role("button", name="发布为新版本")).to_be_disabled()
        page.screenshot(path=str(screenshot_dir / "report-manage.png"), full_page=True)

        page.fill("textarea[name=source]", NEW_REPORT)
        page.fill("input[name=as_of]", REF)
        page.get_by_role("button", name="校验并预览").click()
        expect(page.locator(".alert-success")).to_contain_text("校验通过")
        expect(page.locator(".report-title")).to_have_text("云溪县低保简表")
        expect(page.locator(".report-table tr.row-total td")).to_have_text(["合计", "3", "5"])
        page.fill("input[name=note]", "浏览器测试发布")
        page.get_by_role("button", name="发布为新版本").click()
        page.wait_for_url(f"{base}/reports/mca_dibao_brief?version=1")
        expect(page.locator(".alert-success")).to_contain_text("已发布 mca_dibao_brief@1")
        log_out(page, base)

        # -- the 民政 user: the new report is on the list; preview, then download the xlsx
        log_in(page, base, "mca")
        page.get_by_role("link", name="部门报表", exact=True).click()
        page.get_by_role("link", name="低保简表").click()
        page.wait_for_url(f"{base}/reports/mca_dibao_brief")
        page.select_option("select[name=area]", COUNTY)
        page.fill("input[name=as_of]", REF)
        page.get_by_role("button", name="预览").click()
        expect(page.locator(".report-title")).to_have_text("云溪县低保简表")
        expect(page.locator(".statutory")).to_contain_text("民救9表")
        expect(page.locator(".report-table tr.column-numbers th")).to_have_text(["甲", "1", "2"])
        expect(page.locator(".report-table tr.row-total td")).to_have_text(["合计", "3", "5"])
        expect(page.locator(".report-table tr.row-subtotal")).to_have_count(2)
        page.screenshot(path=str(screenshot_dir / "report-preview.png"), full_page=True)

        with page.expect_download() as info:
            page.get_by_role("button", name="下载 XLSX").click()
        download = info.value
        assert download.suggested_filename == "云溪县低保简表_2025-06-30.xlsx"
        target = tmp_path / download.suggested_filename
        download.save_as(target)
        workbook = load_workbook(target)
        rows = [list(r) for r in workbook.worksheets[0].iter_rows(values_only=True)]
        workbook.close()
        assert any(v == "云溪县低保简表" for row in rows for v in row)
        total = next(row for row in rows if row and row[0] == "合计")
        assert total[1:3] == [3, 5]

        page.goto(f"{base}/reports/downloads")
        expect(page.locator("table.download-log tbody tr")).to_have_count(1)
        expect(page.locator("table.download-log tbody tr").first).to_contain_text("低保简表")
    finally:
        context.close()

"""End to end in a real browser: an admin uploads a department's own Excel form, the reverse mapping shows
it as a draft, the draft is opened in the report designer where the unmatched column (困境儿童) is fixed
by creating an indicator, the definition goes back to 报表定义 whose admission sheet warns about an
overlap, the report is published and downloaded; the 减负监测 and 报表目录 pages count it.

Run with ``YBT_SCREENSHOT_DIR=docs/screenshots`` to refresh the screenshots in the docs.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from browser_steps import log_in
from hand_data import COUNTY
from openpyxl import Workbook, load_workbook

from app import clock

pytestmark = pytest.mark.browser
REF = "2025-06-30"


def department_form(path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    for ref, value in {"A1": "低保特困及困境儿童情况表", "E2": "表号：民救7表", "E3": "有效期至：2028年12月31日",
                       "A3": "单位：户、人", "A4": "村（社区）", "B4": "低保", "D4": "特困人员", "E4": "困境儿童（人）",
                       "B5": "户数", "C5": "人数", "A6": "合计", "A7": "青石镇小计", "A8": "甲村"}.items():
        ws[ref] = value
    for m in ("A4:A5", "B4:C4", "D4:D5", "E4:E5"):
        ws.merge_cells(m)
    wb.save(path)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_form_to_draft_to_admission_to_download(live_server: str, browser: Any, screenshot_dir: Path,
                                                tmp_path: Path) -> None:
    from playwright.sync_api import expect

    base = live_server
    form = tmp_path / "民政表.xlsx"
    department_form(form)
    context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    try:
        log_in(page, base, "admin")
        page.locator(".nav-bar summary", has_text="报表管理").click()  # the drop-down of the report pages
        page.locator(".nav-bar").get_by_role("link", name="报表定义", exact=True).click()
        page.wait_for_url(f"{base}/reports/manage")
        page.set_input_files("input[name=form]", str(form))
        page.get_by_role("button", name="反向映射为草稿").click()
        rows = page.locator("table.draft-columns tbody tr")
        expect(rows).to_have_count(4)
        expect(page.locator("table.draft-columns tr.is-unmatched")).to_have_count(1)
        expect(page.locator("table.draft-columns tr.is-unmatched")).to_contain_text("困境儿童")
        expect(rows.nth(0)).to_contain_text("HH_DIBAO")
        expect(rows.nth(2)).to_contain_text("P_TEKUN")
        page.screenshot(path=str(screenshot_dir / "report-draft.png"), full_page=True)

        source = page.input_value("textarea[name=source]")
        assert "new_indicator" in source and "民救7表" in source

        # in the designer: create 困境儿童 (留守儿童 or 孤儿), drop the unmatched leaf, rename the new one
        page.get_by_role("button", name="在报表设计器中打开").click()
        page.wait_for_url(f"{base}/designer/open")
        expect(page.locator("#d-tree li[data-path='2'] .tree-what")).to_have_text("需新建指标：困境儿童")
        page.click("#d-target-root")
        page.locator("#d-new-indicator summary").click()
        page.fill("#n-code", "P_HARDSHIP_CHILD")
        page.fill("#n-name", "困境儿童")
        page.fill("#n-definition", "参考日持有有效“留守儿童”或“孤儿”标签的在世人员")
        page.fill("#n-unit", "人")
        page.select_option("#n-department", "mca")
        page.select_option("#n-subject", "persons")
        page.select_option("#n-tags", ["left_behind_child", "orphan"])
        page.check("#n-any")
        page.click("#n-check")
        expect(page.locator("#n-result")).to_contain_text("校验通过")
        page.click("#n-publish")
        expect(page.locator("#n-result")).to_contain_text("已发布指标 P_HARDSHIP_CHILD", timeout=20_000)
        page.locator("#d-tree > li[data-path='2']").get_by_role("button", name="删除").click()
        expect(page.locator("#d-tree li[data-path='2'] .tree-what")).to_have_text("P_HARDSHIP_CHILD")
        page.locator("#d-tree li[data-path='2'] input.tree-label").fill("困境儿童（人）")
        page.locator("#d-tree li[data-path='2'] input.tree-label").dispatch_event("change")
        page.screenshot(path=str(screenshot_dir / "report-draft-designer.png"), full_page=True)
        page.fill("#d-id", "mca_needy_brief")
        page.locator("#d-id").dispatch_event("change")
        # the text box follows the designer after each (debounced) preview: allow a loaded machine time
        expect(page.locator("#d-yaml")).to_have_value(re.compile(r"indicator: P_HARDSHIP_CHILD"), timeout=20_000)
        expect(page.locator("#d-yaml")).to_have_value(re.compile(r"id: mca_needy_brief"), timeout=20_000)
        fixed = page.input_value("#d-yaml")
        assert "new_indicator" not in fixed

        # back to 报表定义: the admission sheet before publishing
        page.goto(f"{base}/reports/manage")
        page.fill("textarea[name=source]", fixed)
        page.select_option("select[name=area]", COUNTY)
        page.fill("input[name=as_of]", REF)
        page.get_by_role("button", name="校验并预览").click()
        expect(page.locator(".alert-success")).to_contain_text("校验通过")
        warning = page.locator(".admission-sheet .overlap-warning")
        expect(warning).to_have_count(1)
        expect(warning).to_contain_text("疑似重复报表")
        expect(warning).to_contain_text("困难群众分村汇总表")
        expect(warning).to_contain_text("75%")  # 3 of its 4 indicators are 民救1表's
        expect(page.locator(".admission-village")).to_contain_text("0")
        # hand county on 2025-06-30: 低保 3 户 5 人, 特困 p7 and p13, 困境儿童 p3 (留守儿童)
        expect(page.locator(".report-table tr.row-total td")).to_have_text(["合计", "3", "5", "2", "1"])
        page.locator(".admission-sheet").screenshot(path=str(screenshot_dir / "report-admission.png"))
        page.get_by_role("button", name="发布为新版本").click()
        page.wait_for_url(f"{base}/reports/mca_needy_brief?version=1")

        page.select_option("select[name=area]", COUNTY)
        page.fill("input[name=as_of]", REF)
        with page.expect_download() as info:
            page.get_by_role("button", name="下载 XLSX").click()
        target = tmp_path / "out.xlsx"
        info.value.save_as(target)
        wb = load_workbook(target)
        sheet_rows = [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]
        total = next(r for r in sheet_rows if r and r[0] == "合计")
        assert total[1:5] == [3, 5, 2, 1]

        # the download is counted: 6 rows (合计, 2 乡镇小计, 3 村) × 4 columns = 24 cells
        page.goto(f"{base}/burden?period={clock.today().year}")
        expect(page.locator("table.burden-reports tbody tr")).to_have_count(1)
        expect(page.locator("table.burden-reports tbody tr").first.locator("td")).to_have_text(
            ["低保特困及困境儿童情况表 mca_needy_brief", "1", "6", "24", "24", "是"])
        page.screenshot(path=str(screenshot_dir / "burden.png"), full_page=True)
        page.goto(f"{base}/catalogue")
        expect(page.locator("table.catalogue tbody tr")).to_have_count(21)
        expect(page.locator("table.catalogue")).to_contain_text("民救7表")
        page.screenshot(path=str(screenshot_dir / "catalogue.png"), full_page=False)
    finally:
        context.close()

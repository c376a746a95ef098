"""Done-when of issue 10, in a real browser and without typing YAML: an admin builds a township-level
summary with a three-level header, creates one new indicator (本月新增低保户, a flow) inside the
designer, adds a share (%) column, previews and publishes it; the 民政 user downloads it; the numbers
are checked against a hand computation (tests/reports/hand_data.py, 2025-06-30).

Run with ``YBT_SCREENSHOT_DIR=docs/screenshots`` to refresh the designer screenshot in the README.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from browser_steps import log_in, log_out
from hand_data import COUNTY
from openpyxl import load_workbook

pytestmark = pytest.mark.browser

REF = "2025-06-30"
# Hand computation on 2025-06-30 (flows: June 2025):
#   低保户 期末: 青石镇 H1; 石门乡 H6, H7 (H3's 低保 ended 2025-06-20)           → 1, 2, 合计 3
#   本月新增 (低保 started in June): H7 from 2025-06-15 (石门乡)                   → 0, 1, 合计 1
#   低保人数: H1 p1 p2 p3; H6 p13 (p14 died) + H7 p15                             → 3, 2, 合计 5
#   特困: p7 (分散供养, 青石镇), p13 (集中供养, 石门乡)                           → 1, 1, 合计 2
#   分散供养占比 % = 分散 / 特困: 1/1, 0/1, 合计 1/2 (recomputed, not 100 + 0)    → 100.0, 0.0, 50.0
EXPECTED = {"合计": [3, 1, 5, 2, 50.0], "青石镇": [1, 0, 3, 1, 100.0], "石门乡": [2, 1, 2, 1, 0.0]}


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_designer_builds_publishes_and_department_downloads(live_server: str, browser: Any, screenshot_dir: Path,
                                                           tmp_path: Path) -> None:
    from playwright.sync_api import expect

    base = live_server
    context = browser.new_context(accept_downloads=True, viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    page = context.new_page()
    try:
        log_in(page, base, "admin")
        page.get_by_role("link", name="报表设计器").first.click()
        page.wait_for_url(f"{base}/designer/")
        expect(page.locator("#designer[data-ready='1']")).to_have_count(1)

        # basic facts: kind and row level
        page.fill("#d-id", "mca_dibao_flow")
        page.fill("#d-title", "{area}低保及特困人员月报（{period}）")
        page.select_option("#d-department", "mca")
        page.select_option("#d-kind", "area_summary")
        page.select_option("#d-level", "township")
        page.uncheck("#d-subtotals")
        page.select_option("#d-total", "top")
        page.fill("#d-form-no", "民救10表")
        page.fill("input[data-field='statutory.有效期至']", "2027年12月")
        page.fill("#d-unit-line", "单位：户、人、%")
        page.fill("input[data-field='statutory.有效期至']", "2099-12-31")  # 报表准入 requires 有效期至 (issue 11)

        # a three-level header: 低保 › 户数 › (期末 | 本月新增), 低保 › 人数
        page.fill("#d-group-label", "低保")
        page.click("#d-add-group")
        page.fill("#d-group-label", "户数")
        page.click("#d-add-group")
        page.fill("#d-dict-q", "低保户数")
        dictionary = page.locator("#d-dict li[data-code='HH_DIBAO']")
        dictionary.get_by_role("button", name="加入表头").click()
        page.locator("#d-tree li[data-path='0.0.0'] input.tree-label").fill("期末")
        page.locator("#d-tree li[data-path='0.0.0'] input.tree-label").dispatch_event("change")

        # the new indicator, created without leaving the designer: 本月新增低保户 (a flow)
        page.locator("#d-new-indicator summary").click()
        page.fill("#n-code", "HH_DIBAO_NEW_M")
        page.fill("#n-name", "本月新增低保户数")
        page.fill("#n-definition", "报告期（未指定时为参考日所在月份）内开始享受低保的户")
        page.fill("#n-unit", "户")
        page.select_option("#n-department", "mca")
        page.select_option("#n-subject", "households")
        page.select_option("#n-flow", "tag_started")
        page.select_option("#n-flow-tag", "dibao")
        page.click("#n-check")
        expect(page.locator("#n-result")).to_contain_text("校验通过")
        page.click("#n-publish")
        expect(page.locator("#n-result")).to_contain_text("已发布指标 HH_DIBAO_NEW_M")
        expect(page.locator("#d-tree li[data-path='0.0.1'] .tree-what")).to_have_text("HH_DIBAO_NEW_M")
        page.locator("#d-tree li[data-path='0.0.1'] input.tree-label").fill("本月新增")
        page.locator("#d-tree li[data-path='0.0.1'] input.tree-label").dispatch_event("change")

        # back to 低保 for 人数, then the top level for 特困 and the share column
        page.locator("#d-tree li[data-path='0']").get_by_role("button", name="设为添加位置").first.click()
        page.fill("#d-dict-q", "低保人数")
        page.locator("#d-dict li[data-code='P_DIBAO']").get_by_role("button", name="加入表头").click()
        page.click("#d-target-root")
        page.fill("#d-dict-q", "特困人员")
        page.locator("#d-dict li[data-code='P_TEKUN']").get_by_role("button", name="加入表头").click()
        page.locator("#d-dict li[data-code='P_TEKUN_DISPERSED']").get_by_role("button", name="加入表头").click()
        page.locator("#d-derived-panel summary").click()
        page.fill("#d-derived-label", "分散供养占比（%）")
        page.select_option("#d-derived-op", "share")
        page.select_option("#d-derived-a", "P_TEKUN_DISPERSED")
        page.select_option("#d-derived-b", "P_TEKUN")
        page.fill("#d-derived-decimals", "1")
        page.click("#d-add-derived")
        # the 分散供养 count itself is not wanted as a column: remove it (the share keeps reading it)
        page.locator("#d-tree > li[data-path='2']").get_by_role("button", name="删除").click()

        # live preview on real data
        page.select_option("#d-area", COUNTY)
        page.fill("#d-as-of", REF)
        page.click("#d-preview")
        expect(page.locator("#d-preview-box .report-title")).to_have_text("云溪县低保及特困人员月报（2025年6月）")
        expect(page.locator("#d-preview-box tr.row-total td")).to_have_text(["合计", "3", "1", "5", "2", "50.0"])
        expect(page.locator("#d-preview-box table.report-table thead tr")).to_have_count(4)  # three header levels + 栏次
        expect(page.locator("#d-preview-box .admission-sheet h2")).to_have_text("报表准入审查")
        expect(page.locator("#d-yaml")).to_have_value(re.compile(r"indicator: HH_DIBAO_NEW_M"))
        expect(page.locator("#d-yaml")).to_have_value(re.compile(r"derived: \{share: \[P_TEKUN_DISPERSED, P_TEKUN\]\}"))
        page.mouse.wheel(0, -10_000)  # back to the top: the sticky bar would otherwise cover the middle
        page.wait_for_timeout(200)
        page.screenshot(path=str(screenshot_dir / "designer.png"), full_page=True)

        page.fill("#d-note", "设计器浏览器测试")
        expect(page.locator("#d-publish")).to_be_enabled()
        page.click("#d-publish")
        expect(page.locator("#d-publish-result")).to_contain_text("已发布 mca_dibao_flow@1")
        log_out(page, base)

        # the 民政 user downloads it
        log_in(page, base, "mca")
        page.goto(f"{base}/reports/mca_dibao_flow")
        page.select_option("select[name=area]", COUNTY)
        page.fill("input[name=as_of]", REF)
        with page.expect_download() as info:
            page.get_by_role("button", name="下载 XLSX").click()
        target = tmp_path / info.value.suggested_filename
        info.value.save_as(target)
        workbook = load_workbook(target)
        rows = [list(r) for r in workbook.worksheets[0].iter_rows(values_only=True)]
        workbook.close()
        got = {row[0]: row[1:6] for row in rows if row and row[0] in EXPECTED}
        assert got == EXPECTED
        header = [v for row in rows[:8] for v in row if v]
        assert {"低保", "户数", "期末", "本月新增", "低保人数", "特困人员", "分散供养占比（%）"} <= set(header)
    finally:
        context.close()

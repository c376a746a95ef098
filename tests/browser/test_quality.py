"""In a real browser: a click on a report cell shows the records it counts; the department landing
page draws its charts (canvas present, no console error), also on a phone.

Run with ``YBT_SCREENSHOT_DIR=docs/screenshots`` to refresh the README's screenshots.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from browser_steps import log_in
from hand_data import COUNTY, V3

pytestmark = pytest.mark.browser

REF = "2025-06-30"


def _errors(page: Any) -> list[str]:
    errors: list[str] = []
    # the browser's own request for /favicon.ico (the app has none) is not an error of these pages
    page.on("console", lambda m: errors.append(m.text)
            if m.type == "error" and "favicon" not in (m.location or {}).get("url", "") else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_click_a_report_cell_shows_its_records(live_server: str, browser: Any, screenshot_dir: Path) -> None:
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors = _errors(page)
    log_in(page, live_server, "mca")
    page.goto(f"{live_server}/reports/mca_needy_by_village?area={COUNTY}&as_of={REF}&preview=1")
    cell = page.locator(f'tr[data-area="{V3}"] td[data-col="2"]')
    expect(cell).to_have_text("2")
    cell.click()
    panel = page.locator("#lineage-panel")
    expect(panel).to_contain_text("丙村 · 第2栏 人数 = 2")
    expect(panel).to_contain_text("计入的记录（2）")
    expect(panel.locator("tbody tr").first).to_be_visible()
    expect(panel).to_contain_text("丙一")
    expect(panel).to_contain_text("丙三")
    expect(panel).to_contain_text("2025-06-10")  # 丙三 entered in June: the change that moved the cell
    expect(panel).not_to_contain_text("丙二")    # died 2025-03-01
    panel.screenshot(path=str(screenshot_dir / "cell-lineage.png"))
    # the record link opens the person's page
    panel.get_by_role("link", name="丙三", exact=True).first.click()
    page.wait_for_url("**/village/person/*")
    assert errors == []
    page.close()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_department_landing_page_draws_its_charts(live_server: str, browser: Any, screenshot_dir: Path) -> None:
    from playwright.sync_api import expect

    for name, viewport in (("desktop", {"width": 1280, "height": 900}), ("phone", {"width": 390, "height": 844})):
        page = browser.new_page(viewport=viewport)
        errors = _errors(page)
        log_in(page, live_server, "mca")
        chart = page.locator("#chart-tag-trend")
        expect(chart.locator("canvas")).to_have_count(1, timeout=15_000)
        box = chart.locator("canvas").bounding_box()
        assert box is not None and 0 < box["width"] <= viewport["width"] and box["height"] > 100
        expect(page.locator("#chart-task-progress")).to_contain_text("尚未发布采集任务")
        page.wait_for_timeout(1500)  # let the line animation finish before the screenshot
        if name == "desktop":
            page.locator(".department-charts").screenshot(path=str(screenshot_dir / "department-charts.png"))
        assert errors == [], errors
        page.close()


RULES = """
- {code: R_DIBAO_MAX, name: 低保人数不超过2, left: P_DIBAO, op: "<=", right: 2, importance: high, blocking: true,
   message: "{area}低保人数 {left} 超过 {right}"}
- {code: O_DIBAO_MONTH, name: 低保人数月度变动, kind: outlier, indicator: P_DIBAO, compare: previous_period,
   max_change_pct: 50, message: "{area}低保人数由上月 {right} 变为 {left}（{pct}），请核实"}
"""


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_quality_pages_render_charts(app: Any, live_server: str, browser: Any, screenshot_dir: Path,
                                     tmp_path: Path) -> None:
    import io

    import yaml
    from openpyxl import load_workbook
    from playwright.sync_api import expect

    from app.db import get_db
    from app.registry.rules import parse_rules
    from app.services import reports

    with app.app_context(), get_db(app).session() as session:
        registry = reports.registry_for(app, session)
    rules, _ = parse_rules(yaml.safe_load(RULES), "t.yaml", registry.indicators)
    app.extensions["ybt.rules"] = (registry, rules)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors = _errors(page)
    log_in(page, live_server, "admin")
    page.goto(f"{live_server}/quality/completeness?area={COUNTY}&as_of={REF}")
    expect(page.locator("#chart-completeness canvas")).to_have_count(1, timeout=15_000)
    page.wait_for_timeout(1500)
    page.locator("main").screenshot(path=str(screenshot_dir / "completeness.png"))
    page.goto(f"{live_server}/quality/rules?area={COUNTY}&as_of={REF}")
    expect(page.locator(".rule-violation-count")).to_have_text("2")
    expect(page.locator("#chart-rules canvas")).to_have_count(1, timeout=15_000)
    page.wait_for_timeout(1500)
    page.locator("main").screenshot(path=str(screenshot_dir / "rules.png"))
    # reconcile: the county's form with 丙村 户数 changed to 5 and 乙村 removed
    generated = page.request.get(f"{live_server}/reports/mca_needy_by_village/download?area={COUNTY}&as_of={REF}&format=xlsx")
    wb = load_workbook(io.BytesIO(generated.body()))
    ws = wb.active
    rows = {ws.cell(r, 1).value: r for r in range(1, ws.max_row + 1)}
    ws.cell(rows["丙村"], 2).value = 5
    ws.delete_rows(rows["乙村"])
    hand = tmp_path / "民政手工表.xlsx"
    wb.save(hand)
    page.goto(f"{live_server}/quality/reconcile/mca_needy_by_village")
    page.select_option("select[name=area]", COUNTY)
    page.fill("input[name=as_of]", REF)
    page.set_input_files("input[name=file]", str(hand))
    page.get_by_role("button", name="核对", exact=True).click()
    expect(page.locator(".diff-count")).to_have_text("12")
    page.locator("main").screenshot(path=str(screenshot_dir / "reconcile.png"))
    changed = page.locator("table.reconcile-diffs tr", has_text="数值不同")
    expect(changed).to_contain_text("丙村")
    changed.get_by_role("link", name="查看此数的记录").click()
    expect(page.locator("#lineage-panel")).to_contain_text("丙村 · 第1栏 户数 = 2")
    assert errors == [], errors
    page.close()

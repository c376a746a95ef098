"""End to end in a real browser: a village cadre uploads a messy ledger, reads the preview, applies
it, resolves one conflict and downloads the rejected rows.

Run with ``YBT_SCREENSHOT_DIR=docs/screenshots`` to refresh the screenshots in the docs.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from browser_steps import log_in
from flask import Flask
from hand_data import V1
from openpyxl import Workbook, load_workbook
from sqlalchemy import select

from app.db import get_db
from app.models import Person
from app.validators.idcard import make_id_number

pytestmark = pytest.mark.browser

JIA_YI = make_id_number("339901", date(1950, 3, 1), 1)  # 甲一 of hand_data, household JC001
NEW_1, NEW_2 = make_id_number("339901", date(1975, 4, 4), 701), make_id_number("339901", date(1978, 8, 8), 802)


def ledger(path: Path) -> Path:
    """Title, a two-row merged header, a merged household block, a bad ID and a total row."""
    wb = Workbook()
    ws = wb.active
    ws.title = "花名册"
    ws.append(["甲村户籍人口花名册（2025年）"])
    ws.merge_cells("A1:F1")
    ws.append(["户号", "家庭成员", None, None, None, "联系电话"])
    ws.append([None, "姓名", "公民身份号码", "性别", "与户主关系", None])
    for rng in ("A2:A3", "B2:E2", "F2:F3"):
        ws.merge_cells(rng)
    ws.append(["JC001", "甲壹", JIA_YI, "男", "户主", None])          # the name disagrees with the database
    ws.append(["JC009", "新一", NEW_1, "男", "户主", "13700000001"])
    ws.append([None, "新二", NEW_2.lower(), "女", "妻", None])
    ws.append([None, "坏号", "3399011975", "男", "子", None])         # too short: rejected
    ws.merge_cells("A5:A7")
    ws.append(["合计", "4人"])
    wb.save(path)
    return path


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_cadre_imports_a_ledger(app: Flask, live_server: str, browser: Any, screenshot_dir: Path, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    base = live_server
    context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    try:
        log_in(page, base, "cadre_1")
        page.get_by_role("link", name="台账导入与数据回流").click()
        page.wait_for_url(f"{base}/imports/")
        page.set_input_files("input[name=file]", str(ledger(tmp_path / "甲村花名册.xlsx")))
        page.select_option("select[name=area]", V1)
        page.get_by_role("button", name="上传并预览").click()
        page.wait_for_url(f"{base}/imports/*")
        expect(page.locator(".alert-info")).to_contain_text("这是预览")
        expect(page.locator("#samples-new")).to_contain_text("新一")
        expect(page.locator("#samples-conflict")).to_contain_text("甲壹")
        expect(page.locator("#samples-rejected")).to_contain_text("第7行")
        page.screenshot(path=str(screenshot_dir / "import-preview.png"), full_page=True)
        with get_db(app).session() as session:
            assert session.execute(select(Person).where(Person.id_number == NEW_1)).first() is None

        page.get_by_role("button", name="确认导入").click()
        expect(page.locator(".alert-success")).to_contain_text("已导入：写入 2 行，未变 0 行，冲突 1 行，拒绝 1 行")
        expect(page.locator("#changes")).to_contain_text("新一")

        # the rejected row comes back as a workbook with its reason
        with page.expect_download() as info:
            page.get_by_role("link", name="下载被拒绝的行（Excel）").click()
        saved = tmp_path / "rejects.xlsx"
        info.value.save_as(saved)
        rows = list(load_workbook(saved).worksheets[0].iter_rows(values_only=True))
        assert len(rows) == 2 and "3399011975" in [str(c) for c in rows[1]] and rows[1][-1] == "工作表 花名册 第7行"

        # one conflict: take the file's name
        page.get_by_role("link", name="处理冲突（1）").click()
        row = page.locator("#conflicts tr[data-field=name]")
        expect(row).to_contain_text("甲一")
        expect(row).to_contain_text("甲壹")
        page.screenshot(path=str(screenshot_dir / "import-conflicts.png"), full_page=True)
        row.get_by_role("button", name="采用文件值").click()
        expect(page.locator(".alert-success")).to_contain_text("已处理 1 项：采用文件值")
        expect(page.locator("#conflicts")).to_contain_text("没有待处理的冲突")
        with get_db(app).session() as session:
            assert session.execute(select(Person.name).where(Person.id_number == JIA_YI)).scalar_one() == "甲壹"
            assert session.execute(select(Person.area_code).where(Person.id_number == NEW_2)).scalar_one() == V1
    finally:
        context.close()

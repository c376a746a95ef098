"""Long pickers get a search box (static/js/select-search.js): typing narrows the list and selects."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_typing_a_name_or_code_selects_the_area(live_server: str, browser: Any) -> None:
    from playwright.sync_api import expect

    options = "".join(f'<option value="3399011{n:05d}">第{n}村</option>' for n in range(1, 216))
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    page = context.new_page()
    try:
        page.goto(f"{live_server}/login")  # same origin, so the script file loads as on every page
        page.set_content(f'<form><select name="area">{options}</select><select name="few"><option>甲</option></select></form>'
                         f'<script src="{live_server}/static/js/select-search.js"></script>')
        box = page.locator("input.select-search")
        expect(box).to_have_count(1)  # only the long list gets one
        box.fill("第137村")
        assert page.eval_on_selector("select[name=area]", "s => s.value") == "339901100137"
        assert page.eval_on_selector("select[name=area]", "s => [...s.options].filter(o => !o.hidden).length") == 1
        box.fill("33990110020")  # a code prefix: 第200村 … 第209村
        assert page.eval_on_selector("select[name=area]", "s => s.value") == "339901100200"
        assert page.eval_on_selector("select[name=area]", "s => [...s.options].filter(o => !o.hidden).length") == 10
        box.fill("")
        assert page.eval_on_selector("select[name=area]", "s => [...s.options].filter(o => !o.hidden).length") == 215
    finally:
        context.close()

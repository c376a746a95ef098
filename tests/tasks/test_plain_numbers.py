"""Task rows show whole numbers as people write them (5, 680), not as stored floats (5.0, 680.0)."""

from __future__ import annotations

from datetime import date

from app.services.task_coverage import FieldInfo, _plain, _text
from app.views.forms import display


def test_whole_floats_lose_their_point() -> None:
    number = FieldInfo("members", "保障人数", True, "number")
    assert _text(None, number, 5.0) == "5"
    assert _text(None, number, 680.0) == "680"
    assert _text(None, number, 12.5) == "12.5"
    assert _text(None, number, 0.0) == "0"
    assert _plain(680.0) == "680" and _plain("680.0") == "680.0"  # text stays as typed
    assert _text(None, FieldInfo("d", "日期", True, "date"), date(2025, 6, 30)) == "2025-06-30"


def test_the_template_filter_agrees() -> None:
    assert (display(5.0), display(12.5), display(None), display(date(2025, 1, 2))) == ("5", "12.5", "", "2025-01-02")

"""Constants and helpers of the village-entry tests (imported by conftest.py and the test modules)."""

from __future__ import annotations

import re

PASSWORD = "password-123"
GRID = "339901100201001"  # a grid below 甲村 (hand_data.V1)


def field_value(html: str, name: str) -> str:
    """The value of the input named ``name`` in a page (hidden or visible)."""
    match = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*value="([^"]*)"', html) or \
        re.search(rf'<input[^>]*value="([^"]*)"[^>]*name="{re.escape(name)}"', html)
    assert match, f"no input {name}"
    return match.group(1)


def form_values(html: str) -> dict[str, str]:
    """Every input and selected option of the page's entry form, as a browser would post them."""
    values: dict[str, str] = {}
    for match in re.finditer(r'<input([^>]*)>', html):
        attrs = dict(re.findall(r'(\w[\w-]*)="([^"]*)"', match.group(1)))
        if "name" in attrs and attrs.get("type") not in ("checkbox", "search"):
            values[attrs["name"]] = attrs.get("value", "")
    for match in re.finditer(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', html, re.S):
        selected = re.search(r'<option value="([^"]*)" selected', match.group(2))
        values[match.group(1)] = selected.group(1) if selected else ""
    return values

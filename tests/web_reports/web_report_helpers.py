"""Reading the report pages back in tests: table rows, select options, issues (plain regexes)."""

from __future__ import annotations

import html as html_lib
import re

from werkzeug.test import TestResponse

PASSWORD = "password-123"
REF = "2025-06-30"

# A new 民政 projection with two indicator columns (not in forms_registry/).
NEW_REPORT = """\
id: mca_dibao_brief
version: 1
title: "{area}低保简表"
description: 各村低保户数和人数。
department: mca
frequency: monthly
kind: area_summary
statutory:
  表号: 民救9表
  制定机关: 云溪县民政局
  有效期至: 2099-12-31
unit_line: 单位：户、人
rows: {level: village, subtotals: true, total: top}
column_numbers: true
columns:
  - label: 低保
    children:
      - {label: 户数, indicator: HH_DIBAO}
      - {label: 人数, indicator: P_DIBAO}
"""

_ROW = re.compile(r"<tr([^>]*)>(.*?)</tr>", re.S)
_CELL = re.compile(r"<t[dh][^>]*>(.*?)</t[dh]>", re.S)
_OPTION = re.compile(r'<option value="([^"]*)"[^>]*>(.*?)</option>', re.S)


def text(response: TestResponse) -> str:
    return response.get_data(as_text=True)


def _clean(cell: str) -> str:
    return html_lib.unescape(re.sub(r"<[^>]+>", "", cell)).strip()


def table_rows(page: str, table_class: str = "report-table") -> list[tuple[str, list[str]]]:
    """(the <tr>'s class, its cell texts) for every row of the first table with that class."""
    m = re.search(rf'<table class="{table_class}">(.*?)</table>', page, re.S)
    assert m, f"no table.{table_class} on the page"
    rows = []
    for attrs, inner in _ROW.findall(m.group(1)):
        cls = re.search(r'class="([^"]*)"', attrs)
        rows.append((cls.group(1) if cls else "", [_clean(c) for c in _CELL.findall(inner)]))
    return rows


def body_row(page: str, first_cell: str) -> tuple[str, list[str]]:
    matches = [r for r in table_rows(page) if r[1] and r[1][0] == first_cell]
    assert len(matches) == 1, f"expected one row starting with {first_cell!r}, got {matches}"
    return matches[0]


def options(page: str, name: str) -> list[tuple[str, str]]:
    """(value, label) of every option of the <select name=...>."""
    m = re.search(rf'<select name="{name}">(.*?)</select>', page, re.S)
    assert m, f"no select {name}"
    return [(v, _clean(label)) for v, label in _OPTION.findall(m.group(1))]


def textarea(page: str) -> str:
    m = re.search(r"<textarea[^>]*>(.*?)</textarea>", page, re.S)
    assert m
    return html_lib.unescape(m.group(1))


def issues(page: str) -> list[str]:
    """The issue list's entries as plain text (location, message, hint)."""
    m = re.search(r'<ul class="issues[^"]*">(.*?)</ul>', page, re.S)
    if not m:
        return []
    return [" ".join(_clean(li).split()) for li in re.findall(r"<li>(.*?)</li>", m.group(1), re.S)]

"""Both xlsx backends give the same workbook; engine choice, targets, validation, big rosters."""

from __future__ import annotations

import io
import re
import time
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from app.issues import ValidationFailed
from app.reporting.table import Column, Report, Row, Sheet
from app.reporting.xlsx import STREAM_THRESHOLD, choose_engine, write_xlsx


def _side(side: Any) -> str | None:
    return side.style if side is not None else None


def snapshot(data: bytes) -> dict[str, Any]:
    """Everything a person sees in the workbook, as plain data."""
    wb = openpyxl.load_workbook(io.BytesIO(data))
    out: dict[str, Any] = {
        "sheets": wb.sheetnames,
        "title": wb.properties.title,
        "keywords": wb.properties.keywords,
    }
    for ws in wb.worksheets:
        cells = {}
        for row in ws.iter_rows():
            for c in row:
                if type(c).__name__ == "MergedCell" or (c.value is None and not c.has_style):
                    continue
                cells[c.coordinate] = (
                    c.value,
                    c.data_type,
                    c.number_format,
                    c.font.name,
                    c.font.sz,
                    c.font.b,
                    c.fill.fgColor.rgb if c.fill.fill_type else None,
                    _side(c.border.left),
                    _side(c.border.bottom),
                    c.alignment.horizontal,
                    c.alignment.vertical,
                    c.alignment.wrap_text,
                )
        out[ws.title] = {
            "state": ws.sheet_state,
            "cells": cells,
            "merges": sorted(str(r) for r in ws.merged_cells.ranges),
            "widths": {k: d.width for k, d in ws.column_dimensions.items()},
            "heights": {k: d.height for k, d in ws.row_dimensions.items() if d.height},
            "freeze": ws.freeze_panes,
            "print": (
                ws.print_title_rows,
                ws.page_setup.orientation,
                ws.page_setup.paperSize,
                ws.page_setup.fitToWidth,
                ws.page_setup.fitToHeight,
                ws.print_options.horizontalCentered,
                ws.page_margins.left,
                ws.page_margins.top,
                ws.oddFooter.center.text,
            ),
        }
    return out


def _bytes(report: Report, engine: str) -> bytes:
    buf = io.BytesIO()
    write_xlsx(report, buf, engine=engine)  # type: ignore[arg-type]
    return buf.getvalue()


@pytest.mark.parametrize("which", ["summary", "roster", "both"])
def test_backends_render_the_same_workbook(summary, roster, which):
    report = {"summary": summary, "roster": roster}.get(which)
    if report is None:
        summary.sheets.append(roster.sheets[0])
        report = summary
    left, right = snapshot(_bytes(report, "openpyxl")), snapshot(_bytes(report, "stream"))
    assert left == right


def test_auto_engine_by_size(summary):
    assert choose_engine(summary) == "openpyxl"
    sheet = summary.sheets[0]
    sheet.rows = [sheet.rows[-1]] * (STREAM_THRESHOLD // len(sheet.columns) + 1)
    assert choose_engine(summary) == "stream"


def test_targets_path_str_and_file_object(summary, tmp_path):
    write_xlsx(summary, tmp_path / "a.xlsx")
    write_xlsx(summary, str(tmp_path / "b.xlsx"), engine="stream")
    buf = io.BytesIO()
    write_xlsx(summary, buf)
    for data in ((tmp_path / "a.xlsx").read_bytes(), (tmp_path / "b.xlsx").read_bytes(), buf.getvalue()):
        assert openpyxl.load_workbook(io.BytesIO(data)).sheetnames == ["低保汇总", "_meta"]
    with pytest.raises(ValueError, match="engine"):
        write_xlsx(summary, buf, engine="nope")  # type: ignore[arg-type]


def test_invalid_report_raises_and_writes_nothing(summary, tmp_path):
    summary.sheets[0].column_numbers = ["甲"]
    target = tmp_path / "x.xlsx"
    with pytest.raises(ValidationFailed) as exc:
        write_xlsx(summary, target)
    assert [i.code for i in exc.value.issues] == ["column-numbers-length"]
    assert not target.exists()


def test_stream_part_is_well_formed_and_escaped(roster):
    roster.sheets[0].rows[0].values["name"] = "<a&b> _x0041_  "
    data = _bytes(roster, "stream")
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert zf.testzip() is None
        names = set(zf.namelist())
        strings = zf.read("xl/sharedStrings.xml").decode()
    assert {"[Content_Types].xml", "xl/workbook.xml", "xl/styles.xml", "docProps/core.xml"} <= names
    assert "&lt;a&amp;b&gt; _x005F_x0041_  </t>" in strings and 'xml:space="preserve"' in strings
    ws = openpyxl.load_workbook(io.BytesIO(data))["花名册"]
    assert ws["D5"].value == "<a&b> _x0041_  "


def _big_roster(n: int) -> Report:
    keys = ["hh", "head", "addr", "name", "rel", "id", "sex", "age", "phone", "cat", "amount", "rate"]
    kinds = [
        "id",
        "text",
        "text",
        "text",
        "text",
        "id",
        "text",
        "integer",
        "id",
        "text",
        "decimal",
        "percent",
    ]
    columns = [
        Column(k, f"栏目{k}", kind, 2 if kind == "decimal" else 0)
        for k, kind in zip(keys, kinds, strict=True)
    ]
    rows = []
    for i in range(n):
        hh = f"H{i // 3:07d}"
        rows.append(
            Row(
                {
                    "hh": hh,
                    "head": f"测试人员{i // 3 * 3:06d}",
                    "addr": f"测试村{i % 50}组",
                    "name": f"测试人员{i:06d}",
                    "rel": "户主",
                    "id": f"51010419900101{i % 10000:04d}",
                    "sex": "男",
                    "age": i % 90,
                    "phone": f"138{i:08d}",
                    "cat": "农村低保",
                    "amount": 300.5 + i % 7,
                    "rate": 0.5,
                },
                group=hh,
            )
        )
    return Report(
        [Sheet("花名册", "测试花名册", [], columns, rows, merge_columns=["hh", "head", "addr"])],
        filler="填报单位（盖章）：测试",
        period_line="报告期：2025年6月",
        meta={"report": "big@1"},
    )


@pytest.mark.slow
def test_big_roster_is_fast_with_the_stream_backend(tmp_path: Path):
    report = _big_roster(100_000)
    assert choose_engine(report) == "stream"
    target = tmp_path / "big.xlsx"
    start = time.perf_counter()
    write_xlsx(report, target)
    elapsed = time.perf_counter() - start
    assert elapsed < 12, f"100,000 x 12 took {elapsed:.1f} s (budget 6 s on the reference machine)"
    with zipfile.ZipFile(target) as zf:
        sheet = zf.read("xl/worksheets/sheet1.xml").decode()
    assert sheet.count("<row ") == 4 + 100_000  # title, filler, period line, header; body
    merges = int(re.search(r'<mergeCells count="(\d+)"', sheet).group(1))
    assert merges == 3 + 3 * (100_000 // 3)  # title, two info lines; 3 columns per 3-person household

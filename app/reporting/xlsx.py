"""``write_xlsx``: a report laid out like the department's official Excel form.

Two backends render the same layout plan (``layout.plan_sheet``): openpyxl for small reports and a
streaming SpreadsheetML writer for big ones (openpyxl manages ~3,600 rows/s, far too slow for a
100,000-row roster). ``engine`` forces one; the layout tests run against both.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO, Literal

from app.reporting import xlsx_openpyxl, xlsx_stream
from app.reporting.layout import SheetLayout, plan_sheet
from app.reporting.table import Report, validate_report

Engine = Literal["auto", "openpyxl", "stream"]
ENGINES: tuple[str, ...] = ("openpyxl", "stream")
#: Above this many body cells (rows x columns, all sheets) "auto" picks the streaming backend.
STREAM_THRESHOLD = 10_000


def choose_engine(report: Report) -> str:
    """The backend "auto" uses for this report."""
    cells = sum(len(s.rows) * len(s.columns) for s in report.sheets)
    # openpyxl's fixed cost per sheet (styles, print setup) adds up in one-sheet-per-village workbooks
    return "stream" if cells > STREAM_THRESHOLD or len(report.sheets) > 10 else "openpyxl"


def plan(report: Report) -> list[SheetLayout]:
    """Validate the report and lay out every sheet."""
    validate_report(report)
    return [plan_sheet(report, sheet) for sheet in report.sheets]


def write_xlsx(report: Report, target: str | Path | IO[bytes], *, engine: Engine = "auto") -> None:
    """Write ``report`` as an xlsx workbook to a path or a binary file object.

    Raises ``app.issues.ValidationFailed`` when the report's layout is inconsistent (header tree,
    columns, sheet names); nothing is written then.
    """
    if engine not in ("auto", *ENGINES):
        raise ValueError(f"unknown xlsx engine {engine!r}")
    layouts = plan(report)
    chosen = choose_engine(report) if engine == "auto" else engine
    out = str(target) if isinstance(target, Path) else target
    if chosen == "stream":
        xlsx_stream.write(report, layouts, out)
    else:
        xlsx_openpyxl.write(report, layouts, out)

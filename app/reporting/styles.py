"""The small, fixed catalogue of cell styles every xlsx writer backend renders.

A style is a frozen ``StyleSpec``; backends turn each distinct spec into one shared style object
(an openpyxl ``NamedStyle`` or one ``cellXfs`` entry), never one per cell.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.reporting.table import Column

FONT_NAME = "宋体"
HEADER_FILL = "D9D9D9"
TOTAL_FILL = "F2F2F2"
TEXT_FORMAT = "@"
DATE_FORMAT = "yyyy-mm-dd"


@dataclass(frozen=True)
class StyleSpec:
    """Everything a cell style may set; ``name`` doubles as the NamedStyle name."""

    name: str
    size: float = 10
    bold: bool = False
    horizontal: str | None = None
    vertical: str = "center"
    wrap: bool = False
    border: bool = False
    fill: str | None = None
    num_format: str = "General"


TITLE = StyleSpec("ybt-title", size=16, bold=True, horizontal="center")
INFO_LEFT = StyleSpec("ybt-info-left", size=11, horizontal="left")
INFO_RIGHT = StyleSpec("ybt-info-right", size=11, horizontal="right")
HEADER = StyleSpec("ybt-header", bold=True, horizontal="center", wrap=True, border=True, fill=HEADER_FILL)
COLUMN_NUMBER = StyleSpec("ybt-colno", horizontal="center", border=True, num_format=TEXT_FORMAT)
NOTE = StyleSpec("ybt-note", horizontal="left", wrap=True)
FOOTER = StyleSpec("ybt-footer", size=11, horizontal="left")
META = StyleSpec("ybt-meta", num_format=TEXT_FORMAT)
FIXED_STYLES: tuple[StyleSpec, ...] = (
    TITLE,
    INFO_LEFT,
    INFO_RIGHT,
    HEADER,
    COLUMN_NUMBER,
    NOTE,
    FOOTER,
    META,
)


def number_format(column: Column) -> str:
    """Excel number format of a body column, from its kind and ``decimals``."""
    kind, dec = column.kind, column.decimals
    if kind in ("text", "id"):
        return TEXT_FORMAT
    if kind == "integer":
        return "#,##0"
    if kind == "decimal":
        return "#,##0." + "0" * dec if dec else "#,##0"
    if kind == "percent":
        return "0." + "0" * max(dec, 1) + "%"
    return DATE_FORMAT


def body_style(column: Column, row_kind: str) -> StyleSpec:
    """The style of a body cell: one per (column format, summary or not)."""
    summary = row_kind in ("subtotal", "total")
    fmt = number_format(column)
    if column.kind in ("text", "id"):
        horizontal = "left"
    elif column.kind == "date":
        horizontal = "center"
    else:
        horizontal = "right"
    wrap = column.kind == "text"
    name = f"ybt-body-{'sum' if summary else 'data'}-{column.kind}-{fmt}"
    return StyleSpec(
        name,
        bold=summary,
        horizontal=horizontal,
        wrap=wrap,
        border=True,
        fill=TOTAL_FILL if summary else None,
        num_format=fmt,
    )

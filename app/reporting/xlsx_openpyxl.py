"""xlsx backend on openpyxl (normal mode): the reference renderer, used for small reports."""

from __future__ import annotations

from typing import IO

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.cell_range import CellRange
from openpyxl.worksheet.merge import MergedCellRange
from openpyxl.worksheet.worksheet import Worksheet

from app.reporting import page, styles
from app.reporting.layout import SheetLayout, body_cells, meta_rows
from app.reporting.table import META_SHEET, Report

_THIN = Side(style="thin", color="FF000000")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)


def _named(spec: styles.StyleSpec) -> NamedStyle:
    return NamedStyle(
        name=spec.name,
        font=Font(name=styles.FONT_NAME, size=spec.size, bold=spec.bold, charset=134),
        fill=PatternFill("solid", fgColor="FF" + spec.fill) if spec.fill else PatternFill(),
        border=_BORDER if spec.border else Border(),
        alignment=Alignment(horizontal=spec.horizontal, vertical=spec.vertical, wrap_text=spec.wrap or None),
        number_format=spec.num_format,
    )


class _Styles:
    """Registers each distinct StyleSpec once as a NamedStyle of the workbook."""

    def __init__(self, wb: Workbook) -> None:
        self.wb = wb
        self.names: set[str] = set()

    def __call__(self, spec: styles.StyleSpec) -> str:
        if spec.name not in self.names:
            self.wb.add_named_style(_named(spec))
            self.names.add(spec.name)
        return spec.name


def _put(ws: Worksheet, row: int, col: int, ctype: str | None, value: object, style: str) -> None:
    cell = ws.cell(row=row, column=col)
    if ctype is not None:
        cell.value = value
        if ctype == "s":
            cell.data_type = "s"  # literal text, never a formula
    cell.style = style


def _merge(ws: Worksheet, r1: int, c1: int, r2: int, c2: int) -> None:
    """Register a merged range; the covered cells stay ordinary styled blanks, as in the stream backend.

    ``ws.merge_cells`` is avoided: its overlap check is linear per merge (quadratic for a roster of tens
    of thousands of households) and it re-creates border objects for every covered cell. The layout
    never produces overlapping merges and has already styled the covered cells.
    """
    ws.merged_cells.ranges.add(
        MergedCellRange(ws, CellRange(min_row=r1, min_col=c1, max_row=r2, max_col=c2).coord)
    )


def _write_sheet(ws: Worksheet, layout: SheetLayout, style: _Styles, paper_size: int) -> None:
    for p in layout.cells:  # title, info lines, header, 栏次, notes, footer
        _put(ws, p.row, p.col, None if p.value is None else "s", p.value, style(p.style))
    names = {kind: [style(s) for s in specs] for kind, specs in layout.body_styles.items()}
    first = layout.body_start
    for index, row in enumerate(layout.sheet.rows):
        row_names = names.get(row.kind, names["data"])
        for col, cell, _spec in body_cells(layout, index, row):
            _put(ws, first + index, col, *(cell or (None, None)), row_names[col - 1])
    for r1, c1, r2, c2 in [*layout.merges, *layout.body_merges]:
        _merge(ws, r1, c1, r2, c2)
    for i, width in enumerate(layout.widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    for r, height in layout.row_heights.items():
        ws.row_dimensions[r].height = height
    _page_setup(ws, layout, paper_size)


def _page_setup(ws: Worksheet, layout: SheetLayout, paper_size: int) -> None:
    ws.freeze_panes = layout.freeze
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = paper_size
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    m = page.MARGINS
    ws.page_margins.left, ws.page_margins.right = m["left"], m["right"]
    ws.page_margins.top, ws.page_margins.bottom = m["top"], m["bottom"]
    ws.page_margins.header, ws.page_margins.footer = m["header"], m["footer"]
    first, last = layout.print_titles
    if last >= first:
        ws.print_title_rows = f"{first}:{last}"
    ws.oddFooter.center.text = page.FOOTER_TEXT


def _meta_sheet(wb: Workbook, report: Report, style: _Styles) -> None:
    ws = wb.create_sheet(META_SHEET)
    ws.sheet_state = "hidden"
    name = style(styles.META)
    for r, (key, value) in enumerate(meta_rows(report), start=1):
        _put(ws, r, 1, "s", key, name)
        _put(ws, r, 2, "s", value, name)
    ws.column_dimensions["A"].width = 20
    ws.column_dimensions["B"].width = 60


def write(report: Report, layouts: list[SheetLayout], target: str | IO[bytes]) -> None:
    """Render the planned sheets with openpyxl and save to ``target``."""
    wb = Workbook()
    wb.remove(wb.active)
    style = _Styles(wb)
    for layout in layouts:
        _write_sheet(wb.create_sheet(layout.sheet.name), layout, style, page.PAPER_SIZES[report.paper])
    _meta_sheet(wb, report, style)
    props = page.properties(report)
    wb.properties.title = props["title"]
    wb.properties.subject = props["subject"]
    wb.properties.creator = props["creator"]
    wb.properties.lastModifiedBy = props["creator"]
    wb.properties.description = props["description"]
    wb.properties.keywords = props["keywords"]
    wb.active = 0
    wb.save(target)

"""A small streaming SpreadsheetML writer for the village workbook.

The workbook needs what the report writers do not: unlocked editable columns under sheet protection,
list validations (dropdowns) pointing at a hidden code sheet, hidden key columns, hidden sheets and a
locked workbook structure. openpyxl and xlsxwriter do all of this, but at 10–50 µs a cell a
5,000-person village (≈ 150,000 cells) takes several seconds; writing the XML directly costs about
1–2 µs a cell. The package's fixed parts come from ``app.reporting.ooxml``.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import IO
from xml.sax.saxutils import escape, quoteattr

from openpyxl.utils import get_column_letter

from app.reporting import ooxml

EXCEL_EPOCH = dt.date(1899, 12, 30).toordinal()
COMPRESS_LEVEL = 3

# cell styles (index into cellXfs); "locked" is Excel's default for every cell
DEFAULT, HEADER, NOTE, TEXT, DATE, KEY, INFO, NUMBER, WRAP, LOCKED_TEXT = range(10)
_FONTS = (
    '<font><sz val="11"/><name val="宋体"/><family val="3"/><charset val="134"/></font>',
    '<font><b/><sz val="11"/><name val="宋体"/><family val="3"/><charset val="134"/></font>',
    '<font><sz val="9"/><color rgb="FF666666"/><name val="宋体"/><family val="3"/><charset val="134"/></font>',
)
_FILLS = (
    '<fill><patternFill patternType="none"/></fill>',
    '<fill><patternFill patternType="gray125"/></fill>',
    '<fill><patternFill patternType="solid"><fgColor rgb="FFDDEBF7"/><bgColor indexed="64"/></patternFill></fill>',
    '<fill><patternFill patternType="solid"><fgColor rgb="FFF2F2F2"/><bgColor indexed="64"/></patternFill></fill>',
)
# (numFmtId, fontId, fillId, borderId, locked, wrap)
_XFS = (
    (0, 0, 0, 0, True, False),  # DEFAULT
    (49, 1, 2, 1, True, True),  # HEADER
    (49, 2, 3, 1, True, True),  # NOTE
    (49, 0, 0, 0, False, False),  # TEXT: editable, text format (ID numbers stay text)
    (164, 0, 0, 0, False, False),  # DATE: editable, yyyy-mm-dd
    (0, 2, 3, 0, True, False),  # KEY: locked, grey
    (49, 0, 3, 0, True, False),  # INFO: locked, grey, text
    (0, 0, 0, 0, False, False),  # NUMBER: editable
    (49, 0, 0, 0, True, True),  # WRAP (说明)
    (49, 0, 0, 0, True, False),  # LOCKED_TEXT
)


def styles_xml() -> str:
    xfs = []
    for num, font, fill, border, locked, wrap in _XFS:
        align = '<alignment vertical="top" wrapText="1"/>' if wrap else ""
        protection = "" if locked else '<protection locked="0"/>'
        xfs.append(f'<xf numFmtId="{num}" fontId="{font}" fillId="{fill}" borderId="{border}" xfId="0" '
                   f'applyNumberFormat="1" applyFont="1" applyFill="1" applyBorder="1" applyAlignment="1" '
                   f'applyProtection="1">{align}{protection}</xf>')
    return (
        f'{ooxml.XML_HEAD}<styleSheet xmlns="{ooxml.NS_MAIN}">'
        '<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy\\-mm\\-dd"/></numFmts>'
        f'<fonts count="{len(_FONTS)}">{"".join(_FONTS)}</fonts>'
        f'<fills count="{len(_FILLS)}">{"".join(_FILLS)}</fills>'
        f'<borders count="{len(ooxml.BORDERS)}">{"".join(ooxml.BORDERS)}</borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        f'<cellXfs count="{len(xfs)}">{"".join(xfs)}</cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        "</styleSheet>"
    )


@dataclass
class Sheet:
    """One worksheet: leading rows (header, explanations) and body rows of plain Python values."""

    name: str
    head: list[tuple[list[str | None], int]]  # (row values, style)
    rows: Iterable[list[object]]
    col_styles: list[int]
    widths: list[float]
    hidden_cols: set[int] = field(default_factory=set)  # 0-based
    state: str = "visible"  # visible | hidden | veryHidden
    protect: bool = False
    freeze_rows: int = 0
    validations: list[tuple[int, str, str]] = field(default_factory=list)  # (0-based column, formula, title)
    validation_rows: int = 0  # how far down the dropdowns reach (new rows included)



def _sheet_xml(sheet: Sheet, sst: ooxml.SharedStrings, active: bool) -> Iterable[str]:
    letters = [get_column_letter(i + 1) for i in range(len(sheet.widths))]
    selected = ' tabSelected="1"' if active else ""
    views = f'<sheetView workbookViewId="0"{selected}>'
    if sheet.freeze_rows:
        top = f"A{sheet.freeze_rows + 1}"
        views += f'<pane ySplit="{sheet.freeze_rows}" topLeftCell="{top}" activePane="bottomLeft" state="frozen"/>' \
                 f'<selection pane="bottomLeft" activeCell="{top}" sqref="{top}"/>'
    views += "</sheetView>"
    hidden = ' hidden="1"'
    cols = "".join(
        f'<col min="{i + 1}" max="{i + 1}" width="{w:g}" style="{sheet.col_styles[i]}" customWidth="1"'
        f'{hidden if i in sheet.hidden_cols else ""}/>'
        for i, w in enumerate(sheet.widths)
    )
    yield (f'{ooxml.XML_HEAD}<worksheet xmlns="{ooxml.NS_MAIN}" xmlns:r="{ooxml.NS_REL}">'
           f"<sheetViews>{views}</sheetViews><sheetFormatPr defaultRowHeight=\"15\"/><cols>{cols}</cols><sheetData>")
    r = 0
    for values, style in sheet.head:
        r += 1
        cells = "".join(f'<c r="{letters[i]}{r}" s="{style}" t="s"><v>{sst(v)}</v></c>'
                        for i, v in enumerate(values) if v not in (None, ""))
        yield f'<row r="{r}">{cells}</row>'
    # per column, the fixed parts of a cell's XML around the row number and the value
    opens = [f'<c r="{letter}' for letter in letters]
    as_string = [f'" s="{style}" t="s"><v>' for style in sheet.col_styles]
    as_number = [f'" s="{style}"><v>' for style in sheet.col_styles]
    as_date = f'" s="{DATE}"><v>'
    index = sst.index
    chunk: list[str] = []
    for values in sheet.rows:
        r += 1
        rs = str(r)
        parts = [f'<row r="{rs}">']
        for i, v in enumerate(values):
            if v is None or v == "":
                continue
            if isinstance(v, str):
                idx = index.get(v)
                if idx is None:
                    idx = index[v] = len(index)
                parts.append(f"{opens[i]}{rs}{as_string[i]}{idx}</v></c>")
            elif isinstance(v, dt.date):
                parts.append(f"{opens[i]}{rs}{as_date}{v.toordinal() - EXCEL_EPOCH}</v></c>")
            elif isinstance(v, bool):
                parts.append(f'{opens[i]}{rs}" s="{sheet.col_styles[i]}" t="b"><v>{int(v)}</v></c>')
            else:
                parts.append(f"{opens[i]}{rs}{as_number[i]}{v!r}</v></c>")
        parts.append("</row>")
        chunk.append("".join(parts))
        if len(chunk) >= 2000:
            yield "".join(chunk)
            chunk = []
    yield "".join(chunk)
    yield "</sheetData>"
    if sheet.protect:
        # structure stays editable (rows may be added, columns widened, filters used); no password
        yield ('<sheetProtection sheet="1" objects="1" scenarios="1" formatCells="0" formatColumns="0" '
               'formatRows="0" insertRows="0" sort="0" autoFilter="0"/>')
    if sheet.validations:
        last = max(r, sheet.validation_rows)
        first = len(sheet.head) + 1
        items = "".join(
            f'<dataValidation type="list" allowBlank="1" showErrorMessage="1" errorStyle="stop" '
            f'errorTitle="请从列表选择" error={quoteattr(title + "：请从下拉列表中选择")} '
            f'sqref="{letters[i]}{first}:{letters[i]}{last}"><formula1>{escape(formula)}</formula1></dataValidation>'
            for i, formula, title in sheet.validations
        )
        yield f'<dataValidations count="{len(sheet.validations)}">{items}</dataValidations>'
    yield '<pageMargins left="0.5" right="0.5" top="0.75" bottom="0.75" header="0.3" footer="0.3"/></worksheet>'


def _state(sheet: Sheet) -> str:
    return "" if sheet.state == "visible" else f' state="{sheet.state}"'


def _workbook_xml(sheets: list[Sheet]) -> str:
    entries = "".join(
        f'<sheet name={quoteattr(s.name)} sheetId="{i}"{_state(s)} r:id="rId{i}"/>' for i, s in enumerate(sheets, start=1)
    )
    return (
        f'{ooxml.XML_HEAD}<workbook xmlns="{ooxml.NS_MAIN}" xmlns:r="{ooxml.NS_REL}"><workbookPr/>'
        '<workbookProtection lockStructure="1"/>'
        f'<bookViews><workbookView activeTab="0"/></bookViews><sheets>{entries}</sheets>'
        '<calcPr calcId="124519"/></workbook>'
    )


def write(sheets: list[Sheet], target: str | IO[bytes], props: dict[str, str], when: dt.datetime) -> None:
    """Write the workbook; the first sheet is the active one."""
    sst = ooxml.SharedStrings()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL) as zf:
        for i, sheet in enumerate(sheets, start=1):
            with zf.open(f"xl/worksheets/sheet{i}.xml", "w", force_zip64=True) as out:
                for part in _sheet_xml(sheet, sst, i == 1):
                    out.write(part.encode("utf-8"))
        zf.writestr("[Content_Types].xml", ooxml.content_types(len(sheets)))
        zf.writestr("_rels/.rels", ooxml.root_rels())
        zf.writestr("docProps/core.xml", ooxml.core_properties(props, when))
        zf.writestr("docProps/app.xml", ooxml.app_properties())
        zf.writestr("xl/workbook.xml", _workbook_xml(sheets))
        zf.writestr("xl/_rels/workbook.xml.rels", ooxml.workbook_rels(len(sheets)))
        zf.writestr("xl/styles.xml", styles_xml())
        zf.writestr("xl/sharedStrings.xml", ooxml.shared_strings(sst.index))

"""Crafted and odd .xlsx packages, written straight as XML (no binary fixtures committed).

The shapes of issue 15: a far cell or a declared dimension that makes a native reader allocate the whole
grid, a zip with backslash paths (as an attendance system writes it), a minimal package without
[Content_Types].xml, and the pathological shapes for the safety scans (thousands of empty bordered cells
after a formula column, long shared strings). Used by the tests and by bench/bench_read_safety.py.
"""

from __future__ import annotations

import io
import zipfile
from xml.sax.saxutils import escape

NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_CT = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
       '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
       '<Default Extension="xml" ContentType="application/xml"/>'
       '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
       '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
       '{shared}</Types>')
_SST_CT = ('<Override PartName="/xl/sharedStrings.xml" '
           'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>')
_RELS = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
         '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
         'Target="xl/workbook.xml"/></Relationships>')
_WB = ('<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
       'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
       '<sheet name="{name}" sheetId="1" r:id="rId1"/></sheets></workbook>')
_WB_RELS = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
            'Target="worksheets/sheet1.xml"/>{shared}</Relationships>')
_SST_REL = ('<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" '
            'Target="sharedStrings.xml"/>')


def package(sheet_xml: str | bytes, *, name: str = "人员", backslash: bool = False, minimal: bool = False,
            shared_strings: list[str] | None = None) -> bytes:
    """One-sheet .xlsx. ``backslash``: entries named xl\\worksheets\\sheet1.xml; ``minimal``: no
    [Content_Types].xml and no _rels/.rels."""
    sep = "\\" if backslash else "/"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        if not minimal:
            z.writestr("[Content_Types].xml", _CT.format(shared=_SST_CT if shared_strings is not None else ""))
            z.writestr(f"_rels{sep}.rels", _RELS)
        z.writestr(f"xl{sep}workbook.xml", _WB.format(name=name))
        z.writestr(f"xl{sep}_rels{sep}workbook.xml.rels", _WB_RELS.format(shared=_SST_REL if shared_strings is not None else ""))
        z.writestr(f"xl{sep}worksheets{sep}sheet1.xml", sheet_xml)
        if shared_strings is not None:
            items = "".join(f"<si><t>{escape(s)}</t></si>" for s in shared_strings)
            z.writestr(f"xl{sep}sharedStrings.xml",
                       f'<?xml version="1.0" encoding="UTF-8"?><sst {NS} count="{len(shared_strings)}" '
                       f'uniqueCount="{len(shared_strings)}">{items}</sst>')
    return buf.getvalue()


def cell(ref: str, value: object) -> str:
    if isinstance(value, (int, float)):
        return f'<c r="{ref}"><v>{value}</v></c>'
    return f'<c r="{ref}" t="inlineStr"><is><t>{escape(str(value))}</t></is></c>'


def sheet_xml(rows: list[list[object]], *, dimension: str | None = None, far: list[tuple[str, object]] = ()) -> str:
    """Rows from A1 (inline strings), then ``far`` cells in rows of their own."""
    out = []
    for r, values in enumerate(rows, start=1):
        cells = "".join(cell(f"{chr(65 + c)}{r}", v) for c, v in enumerate(values) if v is not None)
        out.append(f'<row r="{r}">{cells}</row>')
    for ref, value in far:
        row = "".join(ch for ch in ref if ch.isdigit())
        out.append(f'<row r="{row}">{cell(ref, value)}</row>')
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return f'<?xml version="1.0" encoding="UTF-8"?><worksheet {NS}>{dim}<sheetData>{"".join(out)}</sheetData></worksheet>'


def far_cell_workbook(rows: list[list[object]]) -> bytes:
    """1.6 KB: the ledger's rows plus one cell at XFD1048576 (the native reader would allocate 512 GiB)."""
    return package(sheet_xml(rows, dimension="A1:XFD1048576", far=[("XFD1048576", "x")]))


def declared_dimension_workbook(rows: list[list[object]]) -> bytes:
    """An honest grid whose <dimension> claims A1:XFD1000 (16 million cells)."""
    return package(sheet_xml(rows, dimension="A1:XFD1000"))


def out_of_excel_workbook(rows: list[list[object]]) -> bytes:
    """A cell beyond Excel's last row (no Excel writes this)."""
    return package(sheet_xml(rows, far=[("A2000000", "x")]))


def formula_column_with_bordered_tail(rows: list[list[object]], *, empty_rows: int, width: int = 12) -> bytes:
    """An ordinary ledger: the rows, a formula column (年龄) after them without cached values, then
    ``empty_rows`` pre-bordered empty rows (``<c r=".." s="1"/>`` in every column) — the shape that made the
    old regex re-scan past every empty cell for each formula."""
    out = []
    ncols = max(len(r) for r in rows)
    age_col = chr(65 + ncols)
    for r, values in enumerate(rows, start=1):
        cells = "".join(cell(f"{chr(65 + c)}{r}", v) for c, v in enumerate(values) if v is not None)
        if r == 1:
            cells += cell(f"{age_col}1", "年龄")
        else:
            cells += f'<c r="{age_col}{r}" s="1"><f>DATEDIF(C{r},TODAY(),"y")</f></c>'
        out.append(f'<row r="{r}">{cells}</row>')
    for r in range(len(rows) + 1, len(rows) + 1 + empty_rows):
        out.append(f'<row r="{r}">' + "".join(f'<c r="{chr(65 + c)}{r}" s="1"/>' for c in range(width)) + "</row>")
    return package(f'<?xml version="1.0" encoding="UTF-8"?><worksheet {NS}><sheetData>{"".join(out)}</sheetData></worksheet>')


def long_shared_strings_workbook(rows: int, length: int) -> bytes:
    """``rows`` rows whose one cell is a shared string of ``length`` characters, plus a formula cell each."""
    strings = [("长" * length) + str(i) for i in range(rows)]
    out = "".join(f'<row r="{r + 1}"><c r="A{r + 1}" t="s"><v>{r}</v></c><c r="B{r + 1}"><f>LEN(A{r + 1})</f></c></row>'
                  for r in range(rows))
    return package(f'<?xml version="1.0" encoding="UTF-8"?><worksheet {NS}><sheetData>{out}</sheetData></worksheet>',
                   shared_strings=strings)

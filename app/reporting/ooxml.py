"""The fixed parts of an xlsx package (SpreadsheetML), written as text for the streaming backend."""

from __future__ import annotations

import datetime as dt
import re
from xml.sax.saxutils import escape, quoteattr

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles.numbers import BUILTIN_FORMATS_REVERSE

from app.reporting import styles
from app.reporting.safe import clean_text

XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
CT = "application/vnd.openxmlformats-officedocument."
HIDDEN = ' state="hidden"'
DEFAULT_FONT = '<font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
THIN = '<color rgb="FF000000"/>'
BORDERS = (
    "<border><left/><right/><top/><bottom/><diagonal/></border>",
    "<border>"
    + "".join(f'<{side} style="thin">{THIN}</{side}>' for side in ("left", "right", "top", "bottom"))
    + "<diagonal/></border>",
)


_SPECIAL = re.compile(ILLEGAL_CHARACTERS_RE.pattern + r"|[&<>\r]|_x")  # what text() would change


def text(value: str) -> str:
    """Element text: illegal characters removed, markup escaped, Excel's ``_xHHHH_`` escape kept literal."""
    value = escape(clean_text(value), {"\r": "&#13;"})
    return value.replace("_x", "_x005F_x") if "_x" in value else value


def t_element(value: str) -> str:
    """A ``<t>`` element, preserving leading/trailing white space."""
    if value and not value[0].isspace() and not value[-1].isspace() and not _SPECIAL.search(value):
        return f"<t>{value}</t>"  # the common case: nothing to escape
    body = text(value)
    if value[:1].isspace() or value[-1:].isspace():
        return f'<t xml:space="preserve">{body}</t>'
    return f"<t>{body}</t>"


def content_types(n_sheets: int) -> str:
    sheets = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{CT}spreadsheetml.worksheet+xml"/>'
        for i in range(1, n_sheets + 1)
    )
    return (
        f'{XML_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{CT}spreadsheetml.sheet.main+xml"/>{sheets}'
        f'<Override PartName="/xl/styles.xml" ContentType="{CT}spreadsheetml.styles+xml"/>'
        f'<Override PartName="/xl/sharedStrings.xml" ContentType="{CT}spreadsheetml.sharedStrings+xml"/>'
        '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
        f'<Override PartName="/docProps/app.xml" ContentType="{CT}extended-properties+xml"/></Types>'
    )


def root_rels() -> str:
    return (
        f'{XML_HEAD}<Relationships xmlns="{NS_PKG_REL}">'
        f'<Relationship Id="rId1" Type="{NS_REL}/officeDocument" Target="xl/workbook.xml"/>'
        f'<Relationship Id="rId2" Type="{NS_PKG_REL}/metadata/core-properties" Target="docProps/core.xml"/>'
        f'<Relationship Id="rId3" Type="{NS_REL}/extended-properties" Target="docProps/app.xml"/>'
        "</Relationships>"
    )


def workbook_rels(n_sheets: int) -> str:
    sheets = "".join(
        f'<Relationship Id="rId{i}" Type="{NS_REL}/worksheet" Target="worksheets/sheet{i}.xml"/>'
        for i in range(1, n_sheets + 1)
    )
    return (
        f'{XML_HEAD}<Relationships xmlns="{NS_PKG_REL}">{sheets}'
        f'<Relationship Id="rId{n_sheets + 1}" Type="{NS_REL}/styles" Target="styles.xml"/>'
        f'<Relationship Id="rId{n_sheets + 2}" Type="{NS_REL}/sharedStrings" Target="sharedStrings.xml"/>'
        "</Relationships>"
    )


def quote_sheet(name: str) -> str:
    """A sheet name as used in a formula reference: ``'低保 花名册'``."""
    return "'" + name.replace("'", "''") + "'"


def workbook(sheets: list[tuple[str, bool]], print_titles: dict[int, tuple[int, int]]) -> str:
    """``sheets``: (name, hidden); ``print_titles``: 0-based sheet index -> first and last row."""
    entries = "".join(
        f'<sheet name={quoteattr(name)} sheetId="{i}"{HIDDEN if hidden else ""} r:id="rId{i}"/>'
        for i, (name, hidden) in enumerate(sheets, start=1)
    )
    names = "".join(
        f'<definedName name="_xlnm.Print_Titles" localSheetId="{i}">'
        f"{escape(quote_sheet(sheets[i][0]))}!${first}:${last}</definedName>"
        for i, (first, last) in sorted(print_titles.items())
    )
    defined = f"<definedNames>{names}</definedNames>" if names else ""
    return (
        f'{XML_HEAD}<workbook xmlns="{NS_MAIN}" xmlns:r="{NS_REL}"><workbookPr/>'
        f'<bookViews><workbookView activeTab="0"/></bookViews><sheets>{entries}</sheets>{defined}'
        '<calcPr calcId="124519" fullCalcOnLoad="1"/></workbook>'
    )


class StyleTable:
    """Collects StyleSpecs and renders styles.xml; ``xf(spec)`` is the cell's ``s`` attribute."""

    def __init__(self) -> None:
        self.fonts: list[str] = [DEFAULT_FONT]
        self.fills: list[str] = [
            '<fill><patternFill patternType="none"/></fill>',
            '<fill><patternFill patternType="gray125"/></fill>',
        ]
        self.num_formats: dict[str, int] = {}
        self.ids: dict[str, int] = {}
        self.xfs: list[tuple[str, str, str]] = []  # (name, attributes, alignment)

    def _index(self, table: list[str], item: str) -> int:
        if item not in table:
            table.append(item)
        return table.index(item)

    def _num_format(self, code: str) -> int:
        if code in BUILTIN_FORMATS_REVERSE:
            return BUILTIN_FORMATS_REVERSE[code]
        return self.num_formats.setdefault(code, 164 + len(self.num_formats))

    def xf(self, spec: styles.StyleSpec) -> int:
        if spec.name in self.ids:
            return self.ids[spec.name]
        bold = "<b/>" if spec.bold else ""
        font = f'<font>{bold}<sz val="{spec.size:g}"/><name val="{styles.FONT_NAME}"/><family val="3"/><charset val="134"/></font>'
        fill = '<fill><patternFill patternType="none"/></fill>'
        if spec.fill:
            fill = f'<fill><patternFill patternType="solid"><fgColor rgb="FF{spec.fill}"/><bgColor indexed="64"/></patternFill></fill>'
        align = f'vertical="{spec.vertical}"'
        if spec.horizontal:
            align = f'horizontal="{spec.horizontal}" ' + align
        if spec.wrap:
            align += ' wrapText="1"'
        attrs = (
            f'numFmtId="{self._num_format(spec.num_format)}" fontId="{self._index(self.fonts, font)}" '
            f'fillId="{self._index(self.fills, fill)}" borderId="{1 if spec.border else 0}"'
        )
        self.xfs.append((spec.name, attrs, align))
        self.ids[spec.name] = len(self.xfs)
        return len(self.xfs)

    def xml(self) -> str:
        applied = 'applyNumberFormat="1" applyFont="1" applyFill="1" applyBorder="1" applyAlignment="1"'
        num_fmts = "".join(
            f'<numFmt numFmtId="{i}" formatCode={quoteattr(code)}/>' for code, i in self.num_formats.items()
        )
        if num_fmts:
            num_fmts = f'<numFmts count="{len(self.num_formats)}">{num_fmts}</numFmts>'
        style_xfs = "".join(f"<xf {attrs} {applied}><alignment {al}/></xf>" for _n, attrs, al in self.xfs)
        cell_xfs = "".join(
            f'<xf {attrs} xfId="{i}" {applied}><alignment {al}/></xf>'
            for i, (_n, attrs, al) in enumerate(self.xfs, start=1)
        )
        names = "".join(
            f'<cellStyle name={quoteattr(name)} xfId="{i}"/>'
            for i, (name, _a, _l) in enumerate(self.xfs, start=1)
        )
        n = len(self.xfs) + 1
        return (
            f'{XML_HEAD}<styleSheet xmlns="{NS_MAIN}">{num_fmts}'
            f'<fonts count="{len(self.fonts)}">{"".join(self.fonts)}</fonts>'
            f'<fills count="{len(self.fills)}">{"".join(self.fills)}</fills>'
            f'<borders count="{len(BORDERS)}">{"".join(BORDERS)}</borders>'
            f'<cellStyleXfs count="{n}"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>{style_xfs}</cellStyleXfs>'
            f'<cellXfs count="{n}"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>{cell_xfs}</cellXfs>'
            f'<cellStyles count="{n}"><cellStyle name="Normal" xfId="0" builtinId="0"/>{names}</cellStyles>'
            "</styleSheet>"
        )


def core_properties(props: dict[str, str], when: dt.datetime) -> str:
    stamp = when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        f"{XML_HEAD}<cp:coreProperties "
        'xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
        'xmlns:dcmitype="http://purl.org/dc/dcmitype/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f"<dc:title>{text(props['title'])}</dc:title><dc:subject>{text(props['subject'])}</dc:subject>"
        f"<dc:creator>{text(props['creator'])}</dc:creator><cp:keywords>{text(props['keywords'])}</cp:keywords>"
        f"<dc:description>{text(props['description'])}</dc:description>"
        f"<cp:lastModifiedBy>{text(props['creator'])}</cp:lastModifiedBy>"
        f'<dcterms:created xsi:type="dcterms:W3CDTF">{stamp}</dcterms:created>'
        f'<dcterms:modified xsi:type="dcterms:W3CDTF">{stamp}</dcterms:modified></cp:coreProperties>'
    )


def app_properties() -> str:
    return (
        f'{XML_HEAD}<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
        "<Application>Microsoft Excel</Application><DocSecurity>0</DocSecurity></Properties>"
    )


class SharedStrings:
    """The shared-string table: raw string -> index (cleaned and escaped only when written)."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}

    def __call__(self, value: str) -> int:
        idx = self.index.get(value)
        if idx is None:
            idx = self.index[value] = len(self.index)
        return idx


def shared_strings(strings: dict[str, int]) -> str:
    body = "".join(f"<si>{t_element(s)}</si>" for s in strings)
    return f'{XML_HEAD}<sst xmlns="{NS_MAIN}" uniqueCount="{len(strings)}">{body}</sst>'

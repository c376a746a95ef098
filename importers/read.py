"""Reading a file's cells: sniff the format from the bytes, refuse what is unsafe, read with calamine.

``open_workbook(data, file_name)`` returns a :class:`Book` (sheets whose rows are iterated lazily,
merged ranges, cells holding a formula without a cached value) or file-level Issues; it never raises
for bad input. Checks made before any parser sees the bytes: the declared and the real uncompressed
size of an .xlsx (zip bomb), DTDs/entities in its XML (entity expansion), OLE2 encryption
(password-protected workbooks), magic numbers of files that are not spreadsheets, and, in each worksheet,
the declared dimension, the row/column indices and the number of cells (a single far cell makes the
native reader allocate a grid of the whole bounding box: A1 plus XFD1048576 is 512 GiB and an abort).
Every scan is one streaming pass over the decompressed bytes (expat, no backtracking regexes), so its
cost is linear in the file's size (bench/bench_read_safety.py). Zip containers with backslash paths or
without [Content_Types].xml are normalised first, as Excel reads them.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any
from xml.parsers import expat

from app.issues import Issue

#: Limits: the uncompressed XML of a workbook, one part, and the compression ratio of a big part.
MAX_UNZIPPED_TOTAL = 1_000_000_000
MAX_UNZIPPED_PART = 700_000_000
MAX_RATIO = 150
RATIO_FROM = 20_000_000  # a ratio only matters for parts bigger than this
MAX_CSV_FIELD = 1_000_000
#: Limits per worksheet: the grid the reader allocates (rows x columns of the cells holding a value,
#: about 32 bytes a cell), the declared <dimension>, and the number of <c> elements (empty styled
#: cells included). Excel's own grid is 1,048,576 rows x 16,384 columns (XFD).
MAX_GRID_CELLS = 10_000_000
MAX_CELL_ELEMENTS = 20_000_000
EXCEL_ROWS = 1_048_576
EXCEL_COLS = 16_384

OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_NOT_SHEETS: tuple[tuple[bytes, str], ...] = (
    (b"%PDF", "PDF文档"),
    (b"\x89PNG", "PNG图片"),
    (b"\xff\xd8\xff", "JPEG图片"),
    (b"GIF8", "GIF图片"),
    (b"BM", "BMP图片"),
    (b"Rar!", "RAR压缩包"),
    (b"7z\xbc\xaf", "7z压缩包"),
    (b"\x1f\x8b", "gzip压缩包"),
    (b"{\\rtf", "RTF文档"),
    (b"MZ", "可执行程序"),
)


@dataclass
class Sheet:
    name: str
    rows: Iterator[list[Any]]  # 0-based rows from row 0 (leading empty rows included), lazily
    height: int  # rows, for progress
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)  # (r0, c0, r1, c1) inclusive, 0-based
    formula_no_value: set[tuple[int, int]] = field(default_factory=set)  # (row, col) 0-based
    hidden: bool = False
    read_errors: list[str] = field(default_factory=list)  # e.g. a broken CSV quote, found while iterating


@dataclass
class Book:
    kind: str  # xlsx | xls | ods | csv
    sheets: list[Sheet] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    encoding: str | None = None  # CSV only


def _file_issue(code: str, message: str, file_name: str, hint: str | None = None) -> Issue:
    return Issue(code, message, {"file": file_name}, "error", hint)


def sniff(data: bytes) -> str:
    """xlsx | ods | zip | ole2 | csv | the name of a non-spreadsheet format | binary | empty."""
    if not data:
        return "empty"
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        return "zip"
    if data.startswith(OLE2):
        return "ole2"
    for magic, name in _NOT_SHEETS:
        if data.startswith(magic):
            return name
    head = data[:4096]
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "csv"
    if b"\x00" in head:
        return "binary"
    return "csv"


def open_workbook(data: bytes, file_name: str) -> Book:
    kind = sniff(data)
    if kind == "empty":
        return Book("none", issues=[_file_issue("file-empty", "文件是空的（0字节）", file_name)])
    if kind == "zip":
        return _open_zip(data, file_name)
    if kind == "ole2":
        return _open_ole2(data, file_name)
    if kind == "csv":
        return _open_csv(data, file_name)
    what = "无法识别的二进制文件" if kind == "binary" else kind
    return Book("none", issues=[_file_issue(
        "not-a-spreadsheet", f"这不是电子表格文件，而是{what}（与扩展名无关，按文件内容判断）", file_name,
        "请上传 Excel（.xlsx/.xls）或 CSV 文件")])


# -- xlsx / ods ----------------------------------------------------------------------------------


def _open_zip(data: bytes, file_name: str) -> Book:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        return Book("none", issues=[_file_issue("corrupt-zip", f"文件已损坏，无法打开（压缩结构错误：{exc}）", file_name,
                                                "请在Excel中打开后另存为新文件再上传")])
    names = {_part_name(i.filename) for i in infos}
    if "xl/workbook.xml" in names or "xl/workbook.bin" in names:
        kind = "xlsx"
    elif "content.xml" in names and "mimetype" in names:
        kind = "ods"
    else:
        what = "Word文档" if "word/document.xml" in names else "PowerPoint文档" if "ppt/presentation.xml" in names else "普通压缩包"
        return Book("none", issues=[_file_issue("not-a-spreadsheet", f"这不是电子表格文件，而是{what}", file_name,
                                                "请上传 Excel（.xlsx/.xls）或 CSV 文件")])
    if "xl/workbook.bin" in names:
        return Book("none", issues=[_file_issue("xlsb-unsupported", "不支持二进制工作簿（.xlsb）", file_name, "请在Excel中另存为 .xlsx 后再上传")])

    total = sum(i.file_size for i in infos)
    for info in infos:
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > MAX_UNZIPPED_PART or (info.file_size > RATIO_FROM and ratio > MAX_RATIO):
            return Book("none", issues=[_bomb(file_name, info.filename, info.file_size, ratio)])
    if total > MAX_UNZIPPED_TOTAL:
        return Book("none", issues=[_bomb(file_name, "全部", total, total / max(len(data), 1))])

    # Decompress every XML part once with a hard cap (declared sizes can lie), refusing DTDs; stream
    # each worksheet through expat for its grid (dimension, indices, cells) and its formula cells.
    scans: dict[str, _SheetScan] = {}
    real_total = 0
    try:
        for info in infos:
            if not info.filename.endswith((".xml", ".rels", ".vml")):
                continue
            part = _part_name(info.filename)
            scan: _SheetScan | None = _FastSheetScan() if kind == "xlsx" and part.startswith("xl/worksheets/") else None
            n, has_doctype = _scan_part(zf, info, MAX_UNZIPPED_TOTAL - real_total, scan)
            if isinstance(scan, _FastSheetScan) and scan.needs_expat and not has_doctype:
                scan = _SheetScan()
                _scan_part(zf, info, MAX_UNZIPPED_PART, scan)
            real_total += n
            if real_total > MAX_UNZIPPED_TOTAL or n > MAX_UNZIPPED_PART:
                return Book("none", issues=[_bomb(file_name, info.filename, n, n / max(info.compress_size, 1))])
            if has_doctype:
                return Book("none", issues=[_file_issue(
                    "xml-entities", f"文件内部的XML（{info.filename}）含有DTD实体定义，可能是恶意构造的“XML炸弹”，已拒绝读取",
                    file_name, "正常的Excel文件不含DTD；请在Excel中另存为新文件再上传")])
            if scan is not None:
                scans[part] = scan
    except _GridRefused as exc:
        return Book("none", issues=[_file_issue(exc.code, exc.message, file_name, exc.hint)])
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, RuntimeError) as exc:
        if "password" in str(exc).lower() or "encrypted" in str(exc).lower():
            return Book("none", issues=[_encrypted(file_name)])
        return Book("none", issues=[_file_issue("corrupt-zip", f"文件已损坏，无法解压（{exc}）", file_name,
                                                "请在Excel中打开后另存为新文件再上传")])

    parts = _sheet_parts(zf) if kind == "xlsx" else {}
    for sheet_name, part in parts.items():
        scan = scans.get(part)
        refused = scan.refusal(sheet_name) if scan is not None else None
        if refused is not None:
            return Book("none", issues=[_file_issue(refused.code, refused.message, file_name, refused.hint)])
    if kind == "xlsx" and _needs_repack(infos):
        data = _repack(zf, infos)
    zf.close()
    book = _calamine(data, file_name, kind)
    if book.issues or kind != "xlsx":
        return book
    for sheet in book.sheets:
        scan = scans.get(parts.get(sheet.name, ""))
        if scan is not None:
            sheet.formula_no_value = scan.formula_no_value
    return book


def _part_name(name: str) -> str:
    """A zip entry's package part name as Excel resolves it: backslashes are separators, no leading slash."""
    return name.replace("\\", "/").lstrip("/")


def _needs_repack(infos: list[zipfile.ZipInfo]) -> bool:
    names = {i.filename for i in infos}
    return any("\\" in n or n.startswith("/") for n in names) or "[Content_Types].xml" not in names


_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '{overrides}</Types>')
_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.{}+xml"


def _repack(zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo]) -> bytes:
    """The package rewritten with '/' paths and a [Content_Types].xml when it has none (the sizes were
    checked above, so this reads within the same limits)."""
    out = io.BytesIO()
    seen: set[str] = set()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as dst:
        for info in infos:
            name = _part_name(info.filename)
            if not name or name.endswith("/") or name in seen:
                continue
            seen.add(name)
            dst.writestr(name, zf.read(info))
        if "[Content_Types].xml" not in seen:
            overrides = []
            for name in sorted(seen):
                kind = ("worksheet" if name.startswith("xl/worksheets/") else "sharedStrings" if name == "xl/sharedStrings.xml"
                        else "styles" if name == "xl/styles.xml" else None)
                if kind and name.endswith(".xml"):
                    overrides.append(f'<Override PartName="/{name}" ContentType="{_CT.format(kind)}"/>')
            dst.writestr("[Content_Types].xml", _CONTENT_TYPES.format(overrides="".join(overrides)))
        if "_rels/.rels" not in seen:
            dst.writestr("_rels/.rels", '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                         '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                         '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                         'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
    return out.getvalue()


def _bomb(file_name: str, part: str, size: int, ratio: float) -> Issue:
    return _file_issue(
        "zip-bomb",
        f"文件解压后过大（{part}：约{size / 1e6:.0f}MB，压缩比约{ratio:.0f}倍），疑似“压缩炸弹”，已拒绝读取",
        file_name, "正常台账解压后不会这么大；如确为超大台账，请拆分成多个文件")


def _scan_part(zf: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int, scan: _SheetScan | None) -> tuple[int, bool]:
    """(bytes decompressed, has a DTD); a worksheet's bytes are also fed to its scanner."""
    n = 0
    tail = b""
    with zf.open(info) as fh:
        while True:
            chunk = fh.read(1 << 20)
            if not chunk:
                break
            n += len(chunk)
            if n > budget or n > MAX_UNZIPPED_PART:
                return n, False
            window = tail + chunk  # a marker may straddle two chunks
            if b"<!DOCTYPE" in window or b"<!ENTITY" in window:
                return n, True
            if scan is not None:
                scan.feed(chunk)
            tail = chunk[-12:]
    if scan is not None:
        scan.close()
    return n, False


class _GridRefused(Exception):
    def __init__(self, code: str, message: str, hint: str) -> None:
        super().__init__(message)
        self.code, self.message, self.hint = code, message, hint


_GRID_HINT = "正常台账用不到这么大的表格范围；请在Excel中删除多余的行和列（或把数据复制到新工作簿）后另存再上传"


def _ref(ref: str) -> tuple[int, int] | None:
    """'XFD1048576' -> (row, col), both 1-based; None if it is not a cell reference."""
    i = 0
    while i < len(ref) and ref[i].isalpha():
        i += 1
    letters, digits = ref[:i].upper(), ref[i:]
    if not letters or not digits.isdigit() or len(letters) > 4 or len(digits) > 9:
        return None
    return int(digits), _col_index(letters) + 1


class _SheetScan:
    """One streaming pass over a worksheet's XML: the declared dimension, the largest row and column
    index, the bounding box of the cells holding a value or formula, and the formula cells without a
    cached value. Linear in the bytes: expat calls back once per element."""

    def __init__(self) -> None:
        self.parser = expat.ParserCreate()
        self.parser.buffer_text = True
        self.parser.StartElementHandler = self._start
        self.parser.EndElementHandler = self._end
        self.parser.CharacterDataHandler = self._text
        self.parser.StartDoctypeDeclHandler = self._doctype
        self.declared: tuple[int, int] | None = None  # (rows, cols) of <dimension ref>
        self.cells = 0
        self.row = 0
        self.col = 0
        self.box: list[int] | None = None  # [min_row, min_col, max_row, max_col] of cells with content
        self.in_cell = self.in_v = self.has_f = self.has_v = False
        self.formula_no_value: set[tuple[int, int]] = set()  # (row, col) 0-based

    def feed(self, chunk: bytes) -> None:
        try:
            self.parser.Parse(chunk, False)
        except expat.ExpatError as exc:
            raise _GridRefused("corrupt-workbook", f"工作表的XML格式错误，无法读取（{exc}）",
                               "请在Excel中打开后另存为新文件再上传") from None

    def close(self) -> None:
        try:
            self.parser.Parse(b"", True)
        except expat.ExpatError as exc:
            raise _GridRefused("corrupt-workbook", f"工作表的XML格式错误，无法读取（{exc}）",
                               "请在Excel中打开后另存为新文件再上传") from None

    def _doctype(self, *_a: Any) -> None:
        raise _GridRefused("xml-entities", "工作表的XML含有DTD实体定义，可能是恶意构造的“XML炸弹”，已拒绝读取",
                           "正常的Excel文件不含DTD；请在Excel中另存为新文件再上传")

    def _start(self, tag: str, attrs: dict[str, str]) -> None:
        name = tag.rpartition(":")[2]
        if name == "c":
            self.cells += 1
            if self.cells > MAX_CELL_ELEMENTS:
                raise _GridRefused("too-many-cells", f"工作表的单元格数超过{MAX_CELL_ELEMENTS:,}个，已拒绝读取", _GRID_HINT)
            ref = attrs.get("r")
            pos = _ref(ref) if ref else None
            if ref and pos is None:
                raise _GridRefused("corrupt-workbook", f"工作表中有无效的单元格地址“{ref[:20]}”，已拒绝读取",
                                   "请在Excel中打开后另存为新文件再上传")
            if pos is not None:
                self.row, self.col = pos[0] if pos[0] else self.row, pos[1]
            else:
                self.col += 1
            self._check_index(self.row, self.col)
            self.in_cell, self.has_f, self.has_v = True, False, False
        elif not self.in_cell:
            if name == "row":
                r = attrs.get("r")
                self.row = int(r) if r and r.isdigit() else self.row + 1
                self.col = 0
                self._check_index(self.row, 1)
            elif name == "dimension":
                self._dimension(attrs.get("ref", ""))
        elif name == "f":
            self.has_f = True
        elif name == "v":
            self.in_v = True
        elif name == "is":
            self.has_v = True

    def _text(self, text: str) -> None:
        if self.in_v and text:
            self.has_v = True

    def _end(self, tag: str) -> None:
        name = tag.rpartition(":")[2]
        if name == "v":
            self.in_v = False
        elif name == "c":
            self.in_cell = False
            if self.has_f or self.has_v:
                r, c = self.row, self.col
                box = self.box
                if box is None:
                    self.box = [r, c, r, c]
                else:
                    if r < box[0]:
                        box[0] = r
                    if c < box[1]:
                        box[1] = c
                    if r > box[2]:
                        box[2] = r
                    if c > box[3]:
                        box[3] = c
                if self.has_f and not self.has_v:
                    self.formula_no_value.add((r - 1, c - 1))

    def _check_index(self, row: int, col: int) -> None:
        if row > EXCEL_ROWS or col > EXCEL_COLS or row < 0:
            raise _GridRefused("grid-too-large", f"工作表中有超出Excel范围的单元格（第{row}行、第{col}列），疑似恶意构造的文件，已拒绝读取",
                               _GRID_HINT)

    def _dimension(self, ref: str) -> None:
        ends = [_ref(p) for p in ref.split(":")] if ref else []
        if not ends or any(e is None for e in ends):
            return  # a missing or odd dimension is ignored, as Excel does
        first, last = ends[0], ends[-1]
        assert first is not None and last is not None
        self.declared = (abs(last[0] - first[0]) + 1, abs(last[1] - first[1]) + 1)

    def refusal(self, sheet_name: str) -> _GridRefused | None:
        if self.declared is not None:
            rows, cols = self.declared
            if rows > EXCEL_ROWS or cols > EXCEL_COLS or rows * cols > MAX_GRID_CELLS:
                return _GridRefused("grid-too-large",
                                    f"工作表“{sheet_name}”声明的范围有{rows:,}行×{cols:,}列（{rows * cols:,}个单元格），"
                                    f"超过上限{MAX_GRID_CELLS:,}个，已拒绝读取", _GRID_HINT)
        if self.box is not None:
            rows, cols = self.box[2] - self.box[0] + 1, self.box[3] - self.box[1] + 1
            if rows * cols > MAX_GRID_CELLS:
                far = f"{col_letter(self.box[3] - 1)}{self.box[2]}"
                return _GridRefused("grid-too-large",
                                    f"工作表“{sheet_name}”的数据范围有{rows:,}行×{cols:,}列（{rows * cols:,}个单元格，最远到{far}），"
                                    f"超过上限{MAX_GRID_CELLS:,}个，已拒绝读取", _GRID_HINT)
        return None


_MARKER = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(v|is|f)[\s>/]")
_DIMENSION = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?dimension\s[^>]*?ref=\"([^\"]*)\"")
_CELL_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?c\s[^>]*>")
_R_ATTR = re.compile(rb"\sr=\"([^\"]*)\"")
_CELL_END = re.compile(rb"</(?:[A-Za-z_][\w.-]*:)?c>")
_HAS_VALUE = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?v>[^<]|<(?:[A-Za-z_][\w.-]*:)?is[\s>]")
_WS = b" \t\r\n"


_PREFIX = re.compile(rb"[A-Za-z_][\w.-]*")


def _last_row_end(buf: bytes) -> int:
    """The offset just after the last ``</row>`` (or ``</x:row>``) end tag, -1 if none: text may hold a
    bare "row>", an end tag cannot appear in text, so a cell is never cut in two."""
    cut = buf.rfind(b"</row>")
    cut = cut + 6 if cut >= 0 else -1
    j = buf.rfind(b":row>")
    while j > cut:
        k = buf.rfind(b"</", 0, j)
        if k >= 0 and _PREFIX.fullmatch(buf, k + 2, j):
            return j + 5
        j = buf.rfind(b":row>", 0, j)
    return cut


class _FastSheetScan(_SheetScan):
    """The same findings as :class:`_SheetScan`, found at the speed of C: only the cells holding a value,
    an inline string or a formula are looked at (a sheet of a million formatted empty cells costs a few
    byte searches). Each marker is looked at once and each search moves forward, so it stays linear. A
    cell without an ``r`` address (its position is implicit) sends the part to the expat scan."""

    def __init__(self) -> None:
        super().__init__()
        self.carry = b""
        self.needs_expat = False
        self.seen_data = False

    def feed(self, chunk: bytes) -> None:
        if self.needs_expat:
            return
        buf = self.carry + chunk
        cut = _last_row_end(buf)
        if cut < 0:
            self.carry = buf
            return
        self._scan(buf[:cut])
        self.carry = buf[cut:]

    def close(self) -> None:
        if not self.needs_expat:
            self._scan(self.carry)
            self.carry = b""

    def _scan(self, buf: bytes) -> None:
        if self.declared is None and not self.seen_data:
            m = _DIMENSION.search(buf)
            if m:
                self._dimension(m.group(1).decode("ascii", "replace"))
            self.seen_data = b"sheetData" in buf
        self.cells += buf.count(b"<c ")
        if self.cells > MAX_CELL_ELEMENTS:
            raise _GridRefused("too-many-cells", f"工作表的单元格数超过{MAX_CELL_ELEMENTS:,}个，已拒绝读取", _GRID_HINT)
        for m in _MARKER.finditer(buf):
            pos = m.start()
            i = pos - 1
            while i >= 0 and buf[i] in _WS:
                i -= 1
            if i < 0 or buf[i] != 0x3E:  # '>': not the first thing in a cell
                continue
            lt = buf.rfind(b"<", 0, i)
            tag = _CELL_TAG.match(buf, lt)
            if tag is None or tag.end() != i + 1 or buf[i - 1] == 0x2F:  # not a <c ...> start tag
                continue
            r = _R_ATTR.search(tag.group(0))
            pos_rc = _ref(r.group(1).decode("ascii", "replace")) if r else None
            if pos_rc is None:
                self.needs_expat = True
                return
            row, col = pos_rc
            self._check_index(row, col)
            self.row, self.col = row, col
            self.has_f = m.group(1) == b"f"
            self.has_v = not self.has_f
            if self.has_f:
                end = _CELL_END.search(buf, pos)
                inner = buf[pos:end.start() if end else len(buf)]
                self.has_v = _HAS_VALUE.search(inner) is not None
            self.in_cell = True
            self._end("c")


def _sheet_parts(zf: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> part name of its XML inside the package."""
    import xml.etree.ElementTree as ET  # the parts were checked for DTDs above

    ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
          "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships"}
    entries = {_part_name(i.filename): i for i in zf.infolist()}
    try:
        wb = ET.fromstring(zf.read(entries["xl/workbook.xml"]))
        rels = ET.fromstring(zf.read(entries["xl/_rels/workbook.xml.rels"]))
    except (KeyError, ET.ParseError):
        return {}
    targets = {}
    for rel in rels:
        target = rel.get("Target", "").replace("\\", "/")
        path = target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl") / target)
        targets[rel.get("Id")] = path
    out = {}
    for sheet in wb.iterfind("m:sheets/m:sheet", ns):
        rid = sheet.get(f"{{{ns['r']}}}id")
        if rid in targets:
            out[sheet.get("name", "")] = targets[rid]
    return out


def _col_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


def col_letter(index: int) -> str:
    s = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        s = chr(65 + rem) + s
    return s


def _encrypted(file_name: str) -> Issue:
    return _file_issue("password-protected", "工作簿设置了打开密码（已加密），无法读取", file_name,
                       "请在Excel中取消密码（文件→信息→保护工作簿→用密码进行加密，清空密码）后另存再上传")


def _open_ole2(data: bytes, file_name: str) -> Book:
    # An encrypted .xlsx is an OLE2 container with the streams EncryptionInfo and EncryptedPackage.
    if "EncryptedPackage".encode("utf-16-le") in data or "EncryptionInfo".encode("utf-16-le") in data:
        return Book("none", issues=[_encrypted(file_name)])
    if "Workbook".encode("utf-16-le") not in data and "Book".encode("utf-16-le") not in data:
        what = "Word文档（.doc）" if "WordDocument".encode("utf-16-le") in data else "不是Excel的OLE文件"
        return Book("none", issues=[_file_issue("not-a-spreadsheet", f"这不是电子表格文件，而是{what}", file_name,
                                                "请上传 Excel（.xlsx/.xls）或 CSV 文件")])
    return _calamine(data, file_name, "xls")


def _calamine(data: bytes, file_name: str, kind: str) -> Book:
    import python_calamine as pc

    try:
        wb = pc.CalamineWorkbook.from_filelike(io.BytesIO(data))
        metas = wb.sheets_metadata
        book = Book(kind)
        for meta in metas:
            if meta.typ != pc.SheetTypeEnum.WorkSheet:
                continue
            sheet = wb.get_sheet_by_name(meta.name)
            merged = [(r0, c0, r1, c1) for (r0, c0), (r1, c1) in (sheet.merged_cell_ranges or [])]
            book.sheets.append(Sheet(meta.name, _calamine_rows(sheet), sheet.height + (sheet.start or (0, 0))[0], merged,
                                     hidden=meta.visible != pc.SheetVisibleEnum.Visible))
        return book
    except pc.PasswordError:
        return Book("none", issues=[_encrypted(file_name)])
    except (pc.CalamineError, OSError, ValueError) as exc:
        text = str(exc)
        if "password" in text.lower() or "encrypt" in text.lower():
            return Book("none", issues=[_encrypted(file_name)])
        return Book("none", issues=[_file_issue("corrupt-workbook", f"工作簿已损坏，无法读取（{text[:200]}）", file_name,
                                                "请在Excel中打开后另存为新文件再上传")])


def _calamine_rows(sheet: Any) -> Iterator[list[Any]]:
    start = sheet.start
    if start is None:
        return
    r0, c0 = start
    for _ in range(r0):
        yield []
    pad = [""] * c0
    for row in sheet.iter_rows():
        yield pad + row if c0 else row


# -- CSV ------------------------------------------------------------------------------------------


def decode_text(data: bytes) -> tuple[str | None, str | None]:
    """(text, encoding) for UTF-8 (with or without BOM), UTF-16 with BOM, GB18030/GBK; (None, None) if unknown."""
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError:
            return None, None
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            return None, None
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        return None, None
    # GB18030 decodes most byte soups; real Chinese ledgers are ASCII, CJK and CJK punctuation.
    sample = text[:20000]
    odd = sum(1 for ch in sample if not (ch.isascii() or "\u4e00" <= ch <= "\u9fff" or "\u3000" <= ch <= "\u303f"
                                         or "\uff00" <= ch <= "\uffef" or ch in "·—‘’“”…、《》【】"))
    if odd > max(3, len(sample) // 50):
        return None, None
    return text, "gb18030"


def _open_csv(data: bytes, file_name: str) -> Book:
    text, encoding = decode_text(data)
    if text is None:
        return Book("none", issues=[_file_issue(
            "unknown-encoding", "无法识别CSV文件的文字编码（不是UTF-8，也不是GBK/GB18030）", file_name,
            "请在Excel中打开后“另存为”→“CSV UTF-8（逗号分隔）”，或直接上传 .xlsx")])
    first = text[:4096].split("\n", 5)
    sample = "\n".join(first[:5])
    delimiter = max((",", "\t", ";", "|"), key=sample.count) if sample else ","
    name = PurePosixPath(file_name).stem or "CSV"
    line_count = text.count("\n") + 1
    book = Book("csv", encoding=encoding)
    errors: list[str] = []
    book.sheets.append(Sheet(name, _csv_rows(text, delimiter, errors), line_count, read_errors=errors))
    return book


def _csv_rows(text: str, delimiter: str, errors: list[str]) -> Iterator[list[Any]]:
    csv.field_size_limit(MAX_CSV_FIELD)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        yield from reader
    except csv.Error as exc:
        errors.append(f"第{reader.line_num}行附近：{exc}")

"""The worksheet scans an .xlsx is put through before calamine sees it: one streaming pass over a sheet's
XML for its declared dimension, its row/column indices, the bounding box of the cells holding a value
(a single far cell makes the native reader allocate the whole grid) and the formula cells without a
cached value. Linear in the bytes (bench/bench_read_safety.py)."""

from __future__ import annotations

import re
from typing import Any
from xml.parsers import expat

from importers.book import col_index, col_letter

#: Limits per worksheet: the grid the reader allocates (rows x columns of the cells holding a value,
#: about 32 bytes a cell), the declared <dimension>, and the number of <c> elements (empty styled
#: cells included). Excel's own grid is 1,048,576 rows x 16,384 columns (XFD).
MAX_GRID_CELLS = 10_000_000
MAX_CELL_ELEMENTS = 20_000_000
EXCEL_ROWS = 1_048_576
EXCEL_COLS = 16_384


class GridRefused(Exception):
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
    if not letters or not (digits.isascii() and digits.isdigit()) or len(letters) > 4 or len(digits) > 9:
        return None
    return int(digits), col_index(letters) + 1


class SheetScan:
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
            raise GridRefused("corrupt-workbook", f"工作表的XML格式错误，无法读取（{exc}）",
                                "请在Excel中打开后另存为新文件再上传") from None

    def close(self) -> None:
        try:
            self.parser.Parse(b"", True)
        except expat.ExpatError as exc:
            raise GridRefused("corrupt-workbook", f"工作表的XML格式错误，无法读取（{exc}）",
                                "请在Excel中打开后另存为新文件再上传") from None

    def _doctype(self, *_a: Any) -> None:
        raise GridRefused("xml-entities", "工作表的XML含有DTD实体定义，可能是恶意构造的“XML炸弹”，已拒绝读取",
                            "正常的Excel文件不含DTD；请在Excel中另存为新文件再上传")

    def _start(self, tag: str, attrs: dict[str, str]) -> None:
        name = tag.rpartition(":")[2]
        if name == "c":
            self.cells += 1
            if self.cells > MAX_CELL_ELEMENTS:
                raise GridRefused("too-many-cells", f"工作表的单元格数超过{MAX_CELL_ELEMENTS:,}个，已拒绝读取", _GRID_HINT)
            ref = attrs.get("r")
            pos = _ref(ref) if ref else None
            if ref and pos is None:
                raise GridRefused("corrupt-workbook", f"工作表中有无效的单元格地址“{ref[:20]}”，已拒绝读取",
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
                self.row = int(r) if r and r.isascii() and r.isdigit() else self.row + 1
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
            raise GridRefused("grid-too-large", f"工作表中有超出Excel范围的单元格（第{row}行、第{col}列），疑似恶意构造的文件，已拒绝读取",
                                _GRID_HINT)

    def _dimension(self, ref: str) -> None:
        ends = [_ref(p) for p in ref.split(":")] if ref else []
        if not ends or any(e is None for e in ends):
            return  # a missing or odd dimension is ignored, as Excel does
        first, last = ends[0], ends[-1]
        assert first is not None and last is not None
        self.declared = (abs(last[0] - first[0]) + 1, abs(last[1] - first[1]) + 1)

    def refusal(self, sheet_name: str) -> GridRefused | None:
        if self.declared is not None:
            rows, cols = self.declared
            if rows > EXCEL_ROWS or cols > EXCEL_COLS or rows * cols > MAX_GRID_CELLS:
                return GridRefused("grid-too-large",
                                     f"工作表“{sheet_name}”声明的范围有{rows:,}行×{cols:,}列（{rows * cols:,}个单元格），"
                                     f"超过上限{MAX_GRID_CELLS:,}个，已拒绝读取", _GRID_HINT)
        if self.box is not None:
            rows, cols = self.box[2] - self.box[0] + 1, self.box[3] - self.box[1] + 1
            if rows * cols > MAX_GRID_CELLS:
                far = f"{col_letter(self.box[3] - 1)}{self.box[2]}"
                return GridRefused("grid-too-large",
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


class FastSheetScan(SheetScan):
    """The same findings as :class:`SheetScan`, found at the speed of C: only the cells holding a value,
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
            raise GridRefused("too-many-cells", f"工作表的单元格数超过{MAX_CELL_ELEMENTS:,}个，已拒绝读取", _GRID_HINT)
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


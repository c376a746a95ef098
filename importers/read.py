"""Reading a file's cells: sniff the format from the bytes, refuse what is unsafe, read with calamine.

``open_workbook(data, file_name)`` returns a :class:`Book` (sheets whose rows are iterated lazily,
merged ranges, cells holding a formula without a cached value) or file-level Issues; it never raises
for bad input. Checks made before any parser sees the bytes: the declared and the real uncompressed
size of an .xlsx (zip bomb), DTDs/entities in its XML (entity expansion), OLE2 encryption
(password-protected workbooks), magic numbers of files that are not spreadsheets.
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

from app.issues import Issue

#: Limits: the uncompressed XML of a workbook, one part, and the compression ratio of a big part.
MAX_UNZIPPED_TOTAL = 1_000_000_000
MAX_UNZIPPED_PART = 700_000_000
MAX_RATIO = 150
RATIO_FROM = 20_000_000  # a ratio only matters for parts bigger than this
MAX_CSV_FIELD = 1_000_000

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
_FORMULA_CELL = re.compile(rb"<c\s[^>]*?r=\"([A-Z]{1,3})(\d+)\"[^>]*>(.*?)</c>", re.S)
_CACHED_VALUE = re.compile(rb"<v>[^<]+</v>|<is>", re.S)


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
    names = {i.filename for i in infos}
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

    # Decompress every XML part once with a hard cap (declared sizes can lie), refusing DTDs, and find
    # the worksheets that contain formulas.
    formula_parts: set[str] = set()
    real_total = 0
    try:
        for info in infos:
            if not info.filename.endswith((".xml", ".rels", ".vml")):
                continue
            n, has_doctype, has_formula = _scan_part(zf, info, MAX_UNZIPPED_TOTAL - real_total)
            real_total += n
            if real_total > MAX_UNZIPPED_TOTAL or n > MAX_UNZIPPED_PART:
                return Book("none", issues=[_bomb(file_name, info.filename, n, n / max(info.compress_size, 1))])
            if has_doctype:
                return Book("none", issues=[_file_issue(
                    "xml-entities", f"文件内部的XML（{info.filename}）含有DTD实体定义，可能是恶意构造的“XML炸弹”，已拒绝读取",
                    file_name, "正常的Excel文件不含DTD；请在Excel中另存为新文件再上传")])
            if has_formula:
                formula_parts.add(info.filename)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, RuntimeError) as exc:
        if "password" in str(exc).lower() or "encrypted" in str(exc).lower():
            return Book("none", issues=[_encrypted(file_name)])
        return Book("none", issues=[_file_issue("corrupt-zip", f"文件已损坏，无法解压（{exc}）", file_name,
                                                "请在Excel中打开后另存为新文件再上传")])

    book = _calamine(data, file_name, kind)
    if book.issues or kind != "xlsx" or not formula_parts:
        return book
    parts = _sheet_parts(zf)
    for sheet in book.sheets:
        part = parts.get(sheet.name)
        if part in formula_parts:
            sheet.formula_no_value = _formula_cells_without_value(zf.read(part))
    return book


def _bomb(file_name: str, part: str, size: int, ratio: float) -> Issue:
    return _file_issue(
        "zip-bomb",
        f"文件解压后过大（{part}：约{size / 1e6:.0f}MB，压缩比约{ratio:.0f}倍），疑似“压缩炸弹”，已拒绝读取",
        file_name, "正常台账解压后不会这么大；如确为超大台账，请拆分成多个文件")


def _scan_part(zf: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int) -> tuple[int, bool, bool]:
    n = 0
    has_doctype = has_formula = False
    tail = b""
    sheet = info.filename.startswith("xl/worksheets/")
    with zf.open(info) as fh:
        while True:
            chunk = fh.read(1 << 20)
            if not chunk:
                break
            n += len(chunk)
            if n > budget or n > MAX_UNZIPPED_PART:
                return n, False, False
            window = tail + chunk  # a marker may straddle two chunks
            if b"<!DOCTYPE" in window or b"<!ENTITY" in window:
                return n, True, has_formula
            if sheet and not has_formula:
                has_formula = b"<f>" in window or b"<f " in window
            tail = chunk[-12:]
    return n, has_doctype, has_formula


def _sheet_parts(zf: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> path of its XML part inside the zip."""
    import xml.etree.ElementTree as ET  # the parts were checked for DTDs above

    ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
          "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships"}
    try:
        wb = ET.fromstring(zf.read("xl/workbook.xml"))
        rels = ET.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, ET.ParseError):
        return {}
    targets = {}
    for rel in rels:
        target = rel.get("Target", "")
        path = target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl") / target)
        targets[rel.get("Id")] = path
    out = {}
    for sheet in wb.iterfind("m:sheets/m:sheet", ns):
        rid = sheet.get(f"{{{ns['r']}}}id")
        if rid in targets:
            out[sheet.get("name", "")] = targets[rid]
    return out


def _formula_cells_without_value(xml: bytes) -> set[tuple[int, int]]:
    out: set[tuple[int, int]] = set()
    for m in _FORMULA_CELL.finditer(xml):
        inner = m.group(3)
        if (b"<f>" in inner or b"<f " in inner) and not _CACHED_VALUE.search(inner):
            out.add((int(m.group(2)) - 1, _col_index(m.group(1).decode())))
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

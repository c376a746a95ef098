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

Here: the sniffing and the CSV reader. The zip package checks live in importers.xlsx_package, the
worksheet scans in importers.sheet_scan, the Book/Sheet types and the calamine reading in importers.book.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from pathlib import PurePosixPath
from typing import Any

from importers.book import Book, Sheet, encrypted_issue, file_issue, read_calamine
from importers.xlsx_package import open_zip

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
        return Book("none", issues=[file_issue("file-empty", "文件是空的（0字节）", file_name)])
    if kind == "zip":
        return open_zip(data, file_name)
    if kind == "ole2":
        return _open_ole2(data, file_name)
    if kind == "csv":
        return _open_csv(data, file_name)
    what = "无法识别的二进制文件" if kind == "binary" else kind
    return Book("none", issues=[file_issue(
        "not-a-spreadsheet", f"这不是电子表格文件，而是{what}（与扩展名无关，按文件内容判断）", file_name,
        "请上传 Excel（.xlsx/.xls）或 CSV 文件")])


def _open_ole2(data: bytes, file_name: str) -> Book:
    # An encrypted .xlsx is an OLE2 container with the streams EncryptionInfo and EncryptedPackage.
    if "EncryptedPackage".encode("utf-16-le") in data or "EncryptionInfo".encode("utf-16-le") in data:
        return Book("none", issues=[encrypted_issue(file_name)])
    if "Workbook".encode("utf-16-le") not in data and "Book".encode("utf-16-le") not in data:
        what = "Word文档（.doc）" if "WordDocument".encode("utf-16-le") in data else "不是Excel的OLE文件"
        return Book("none", issues=[file_issue("not-a-spreadsheet", f"这不是电子表格文件，而是{what}", file_name,
                                                 "请上传 Excel（.xlsx/.xls）或 CSV 文件")])
    return read_calamine(data, file_name, "xls")


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


def csv_encoding(data: bytes) -> str | None:
    """The encoding ``decode_text`` would find, checked chunk by chunk without building the whole text
    (a 50 MB CSV as one str, then copied into a StringIO, cost ≈ 4 × its size at once)."""
    if data.startswith(codecs.BOM_UTF8):
        candidates = ["utf-8-sig"]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ["utf-16"]
    else:
        candidates = ["utf-8", "gb18030"]
    for encoding in candidates:
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            for start in range(0, len(data), CHUNK):
                decoder.decode(data[start:start + CHUNK])
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        if encoding == "gb18030":
            # GB18030 decodes most byte soups; real Chinese ledgers are ASCII, CJK and CJK punctuation.
            sample = data[:60000].decode("gb18030", "ignore")[:20000]
            odd = sum(1 for ch in sample if not (ch.isascii() or "\u4e00" <= ch <= "\u9fff" or "\u3000" <= ch <= "\u303f"
                                                 or "\uff00" <= ch <= "\uffef" or ch in "·—‘’“”…、《》【】"))
            if odd > max(3, len(sample) // 50):
                return None
        return encoding
    return None


CHUNK = 1 << 20


def _open_csv(data: bytes, file_name: str) -> Book:
    encoding = csv_encoding(data)
    if encoding is None:
        return Book("none", issues=[file_issue(
            "unknown-encoding", "无法识别CSV文件的文字编码（不是UTF-8，也不是GBK/GB18030）", file_name,
            "请在Excel中打开后“另存为”→“CSV UTF-8（逗号分隔）”，或直接上传 .xlsx")])
    head = data[:16384].decode(encoding, "ignore")
    first = head[:4096].split("\n", 5)
    sample = "\n".join(first[:5])
    delimiter = max((",", "\t", ";", "|"), key=sample.count) if sample else ","
    name = PurePosixPath(file_name).stem or "CSV"
    line_count = data.count(b"\n") + 1
    book = Book("csv", encoding=encoding)
    errors: list[str] = []
    # decoded as it is read, a chunk at a time: memory follows the rows kept, not the file
    stream = io.TextIOWrapper(io.BytesIO(data), encoding=encoding, newline="")
    book.sheets.append(Sheet(name, _csv_rows(stream, delimiter, errors), line_count, read_errors=errors))
    return book


SHARED_MAX_LEN = 12
SHARED_MAX = 200_000


def shared_cells(rows: Iterator[list[Any]]) -> Iterator[list[Any]]:
    """The rows with their short text cells shared: a ledger repeats 男, 汉族, 已婚, 群众, the village's
    name … on every row, and the reader keeps each row's cells (for the rejects workbook), so one str
    per distinct short value instead of one per cell (≈ a quarter of a large CSV's records)."""
    seen: dict[str, str] = {}
    for row in rows:
        if len(seen) > SHARED_MAX:
            seen.clear()
        yield [seen.setdefault(v, v) if v.__class__ is str and len(v) <= SHARED_MAX_LEN else v for v in row]


def _csv_rows(stream: io.TextIOBase, delimiter: str, errors: list[str]) -> Iterator[list[Any]]:
    csv.field_size_limit(MAX_CSV_FIELD)
    reader = csv.reader(stream, delimiter=delimiter)
    try:
        yield from shared_cells(reader)
    except csv.Error as exc:
        errors.append(f"第{reader.line_num}行附近：{exc}")

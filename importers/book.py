"""What a reader returns (a Book of lazily read Sheets, or its file-level Issues) and reading a workbook's
bytes with calamine (.xlsx, .xls, .ods), plus the column letter <-> index helpers."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from app.issues import Issue


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


def file_issue(code: str, message: str, file_name: str, hint: str | None = None) -> Issue:
    return Issue(code, message, {"file": file_name}, "error", hint)


def col_index(letters: str) -> int:
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


def encrypted_issue(file_name: str) -> Issue:
    return file_issue("password-protected", "工作簿设置了打开密码（已加密），无法读取", file_name,
                        "请在Excel中取消密码（文件→信息→保护工作簿→用密码进行加密，清空密码）后另存再上传")


def read_calamine(data: bytes, file_name: str, kind: str) -> Book:
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
        return Book("none", issues=[encrypted_issue(file_name)])
    except (pc.CalamineError, OSError, ValueError) as exc:
        text = str(exc)
        if "password" in text.lower() or "encrypt" in text.lower():
            return Book("none", issues=[encrypted_issue(file_name)])
        return Book("none", issues=[file_issue("corrupt-workbook", f"工作簿已损坏，无法读取（{text[:200]}）", file_name,
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


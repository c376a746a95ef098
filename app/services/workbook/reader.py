"""Reading an uploaded workbook back: file checks, the _meta sheet, and each row's cells as typed values.

Cells are read with python-calamine (Rust; ~17x faster than openpyxl). Every problem is an Issue with
the sheet, the 1-based row and the column letter the cadre sees in Excel.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from openpyxl.utils import get_column_letter

from app.issues import Issue, ValidationFailed
from app.services.workbook.columns import (
    CODE,
    DATE,
    FIRST_DATA_ROW,
    FORMAT_NAME,
    HOUSE_SHEET,
    HOUSEHOLD_SHEET,
    ID_NUMBER,
    KEY,
    META_SHEET,
    NUMBER,
    PERSON_SHEET,
    TAG_SHEET,
    TEXT,
    VERSION,
    WbColumn,
)

XLSX_MAGIC = b"PK\x03\x04"
MAX_UNPACKED_BYTES = 500 * 1024 * 1024  # a 5,000-person workbook unpacks to about 10 MB
_DATE_TEXT = re.compile(r"^\s*(\d{4})\s*[-./年]\s*(\d{1,2})\s*[-./月]\s*(\d{1,2})\s*日?\s*$")
_DATE_DIGITS = re.compile(r"^\s*(\d{4})(\d{2})(\d{2})\s*$")


@dataclass
class Row:
    """One data row as read: its Excel row number, values by column key, and cell problems."""

    sheet: str
    number: int
    values: dict[str, Any]
    issues: list[Issue] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)  # key -> column letter

    @property
    def record_id(self) -> int | None:
        return self.values.get("id")


@dataclass
class Parsed:
    meta: dict[str, str]
    rows: dict[str, list[Row]]  # sheet name -> rows
    issues: list[Issue]  # file-level problems (missing columns, duplicate record ids)


def _refuse(code: str, message: str, hint: str | None = None, **location: Any) -> ValidationFailed:
    return ValidationFailed(Issue(code, message, location, hint=hint))


def open_workbook(content: bytes, file_name: str) -> Any:
    """The calamine workbook, or a clear refusal for anything that is not an xlsx file."""
    from python_calamine import CalamineWorkbook

    if not content:
        raise _refuse("empty-file", "上传的文件是空的", file=file_name)
    if not content.startswith(XLSX_MAGIC):
        kind = "图片" if content[:8] in (b"\x89PNG\r\n\x1a\n",) or content[:3] == b"\xff\xd8\xff" else "其他格式的文件"
        if content.startswith(b"\xd0\xcf\x11\xe0"):
            kind = "旧版 .xls 文件"
        raise _refuse("not-xlsx", f"上传的文件不是 Excel 工作簿（.xlsx），而是{kind}", "请上传从本系统下载、用 Excel 或 WPS 保存的 .xlsx 文件",
                      file=file_name)
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as zf:
            if "xl/workbook.xml" not in zf.namelist():
                raise _refuse("not-xlsx", "上传的文件是压缩包，但不是 Excel 工作簿", file=file_name)
            if sum(info.file_size for info in zf.infolist()) > MAX_UNPACKED_BYTES:  # a zip bomb, not a village
                raise _refuse("too-large-unpacked", "文件解压后过大，不像是一个村的一表", file=file_name)
        return CalamineWorkbook.from_filelike(io.BytesIO(content))
    except ValidationFailed:
        raise
    except Exception as exc:  # zipfile.BadZipFile, calamine's errors: a damaged file
        raise _refuse("corrupt-file", "文件已损坏，无法读取", "请重新保存后上传；如仍不行，请重新下载一表", file=file_name) from exc


def read_meta(workbook: Any, file_name: str) -> dict[str, str]:
    if META_SHEET not in workbook.sheet_names:
        raise _refuse("not-our-workbook", "这不是从本系统下载的一表（缺少隐藏的 _meta 工作表）",
                      "请先在“一表”页面下载本村的一表，在其中修改后上传", file=file_name)
    meta = {}
    for row in workbook.get_sheet_by_name(META_SHEET).to_python():
        if len(row) >= 2 and row[0]:
            meta[str(row[0])] = str(row[1])
    if meta.get("format") != FORMAT_NAME or not str(meta.get("download_id", "")).isdigit():
        raise _refuse("not-our-workbook", "这不是从本系统下载的一表（_meta 工作表内容不对）", file=file_name)
    return meta


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip()
    return text or None


def parse_date(value: Any) -> date | None:
    """A date cell, or text such as 2025-03-01, 2025.3.1, 2025年3月1日, 20250301; ValueError otherwise."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    match = _DATE_TEXT.match(text) or _DATE_DIGITS.match(text)
    if not match:
        raise ValueError(text)
    return date(int(match[1]), int(match[2]), int(match[3]))


def _reverse(column: WbColumn, labels: dict[str, dict[str, str]]) -> dict[str, str]:
    """label -> code, and code -> code, for a code-list column."""
    items = labels.get(column.code_list or "", {})
    return {**{code: code for code in items}, **{label: code for code, label in items.items()}}


def _cell(column: WbColumn, value: Any, codes: dict[str, str] | None) -> tuple[Any, Issue | None]:
    """One non-empty cell as a typed value: codes from their labels, dates, ID numbers as text."""
    if isinstance(value, str) and not value.strip():
        return None, None
    header = column.header
    if column.kind in (KEY, VERSION):
        if isinstance(value, float) and value.is_integer():
            return int(value), None
        if isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit()):
            return int(value), None
        return None, Issue("bad-key", f"{header}被改动，无法识别：“{value}”", hint="记录号、版本列请勿修改；新增的行请留空")
    if column.kind == ID_NUMBER and isinstance(value, float):
        return None, Issue("id-number-as-number", f"{header}被存成了数字（{value:.0f}），末几位可能已丢失",
                           hint="请将该列设为文本格式后重新输入完整的身份证号")
    if column.kind == DATE:
        try:
            return parse_date(value), None
        except ValueError:
            return None, Issue("bad-date", f"{header}不是有效日期：“{value}”", hint="请按 2025-03-01 的格式填写")
    if column.kind == NUMBER:
        if isinstance(value, int | float):
            return value, None
        try:
            return float(str(value).strip()), None
        except ValueError:
            return None, Issue("not-a-number", f"{header}须为数字，现为“{value}”")
    text = _as_text(value)
    if codes is not None:
        if text in codes:
            return codes[text], None
        return None, Issue("unknown-code", f"{header}的值“{text}”不在代码表中", hint="请从下拉列表中选择")
    return text, None


def read_sheet(workbook: Any, sheet: str, columns: list[WbColumn], labels: dict[str, dict[str, str]],
               file_issues: list[Issue]) -> list[Row]:
    """The data rows of one sheet (from row 3), matched to the columns by their header text."""
    if sheet not in workbook.sheet_names:
        file_issues.append(Issue("missing-sheet", f"缺少工作表“{sheet}”", {"sheet": sheet}, hint="请勿删除或重命名工作表"))
        return []
    cells = workbook.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
    header = [_as_text(v) for v in (cells[0] if cells else [])]
    position: dict[str, int] = {}
    for column in columns:
        if column.header in header:
            position[column.key] = header.index(column.header)
        elif column.kind not in ("info",):
            file_issues.append(Issue("missing-column", f"缺少列“{column.header}”", {"sheet": sheet, "row": 1},
                                     hint="请勿删除、重命名表头中的列"))
    plan = [(c, position[c.key], get_column_letter(position[c.key] + 1),
             _reverse(c, labels) if c.kind == CODE and c.code_list else None)
            for c in columns if c.key in position]
    letters = {c.key: letter for c, _i, letter, _codes in plan}  # shared by every row of the sheet
    rows: list[Row] = []
    for offset, raw in enumerate(cells[FIRST_DATA_ROW - 1:]):
        if not any(v not in (None, "") for v in raw):
            continue
        row = Row(sheet, FIRST_DATA_ROW + offset, {}, columns=letters)
        values = row.values
        width = len(raw)
        for column, i, letter, codes in plan:
            value = raw[i] if i < width else None
            if value is None or value == "":
                values[column.key] = None
                continue
            if type(value) is str:  # the common cases first, without the general parser
                if codes is not None and value in codes:
                    values[column.key] = codes[value]
                    continue
                if column.kind == TEXT:
                    values[column.key] = value.strip() or None
                    continue
            elif type(value) is date and column.kind == DATE:
                values[column.key] = value
                continue
            parsed, issue = _cell(column, value, codes)
            values[column.key] = parsed
            if issue is not None:
                row.issues.append(issue.at(sheet=sheet, row=row.number, column=letter, field=column.header))
        rows.append(row)
    seen: dict[int, int] = {}
    for row in rows:
        rid = row.record_id
        if rid is None:
            continue
        if rid in seen:
            row.issues.append(Issue("duplicate-record", f"记录号 {rid} 与第{seen[rid]}行重复（复制了已有的行？）",
                                    {"sheet": sheet, "row": row.number, "column": row.columns.get("id")},
                                    hint="新增的行请把记录号、版本留空"))
        else:
            seen[rid] = row.number
    return rows


def read_workbook(content: bytes, file_name: str, columns: dict[str, list[WbColumn]],
                  labels: dict[str, dict[str, str]]) -> Parsed:
    workbook = open_workbook(content, file_name)
    meta = read_meta(workbook, file_name)
    issues: list[Issue] = []
    rows = {sheet: read_sheet(workbook, sheet, columns[sheet], labels, issues)
            for sheet in (HOUSEHOLD_SHEET, PERSON_SHEET, TAG_SHEET)}
    # 房屋 came later: a workbook downloaded before it has no such sheet and means no change to houses
    rows[HOUSE_SHEET] = (read_sheet(workbook, HOUSE_SHEET, columns[HOUSE_SHEET], labels, issues)
                         if HOUSE_SHEET in workbook.sheet_names else [])
    return Parsed(meta, rows, issues)

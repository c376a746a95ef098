"""Higher levels' lists (死亡名单, 户籍迁出, 残疾证, 养老金领取) read into rows, with per-cell issues.

A small table reader of its own (one header row, found by its ID column): these lists are plain exports
from the provincial systems, not hand-kept ledgers. No database: ``services.ledger_import.flowback``
reconciles the rows with the base data. Web uploads read the cells in the isolated child
(``importers.isolated``).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from app.issues import Issue, ValidationFailed
from app.validators.idcard import check_id_number
from importers.book import col_letter

# Column headings as the lists name them -> field of a list row.
SYNONYMS = {
    "id_number": ("身份证号", "身份证号码", "公民身份号码", "证件号码", "身份证件号码"),
    "name": ("姓名", "名字"),
    "birth_date": ("出生日期",),
    "date": ("死亡日期", "迁出日期", "注销日期", "有效期至", "有效期截止日期", "证件有效期至", "有效期止", "开始领取日期",
             "领取开始日期", "待遇开始日期"),
    "moved_to": ("迁往地", "迁往地址", "迁入地", "迁往地区"),
    "certificate_no": ("残疾证号", "证号"),
}
DATE_REQUIRED = {"deaths": "死亡日期", "moves": "迁出日期", "disability": "有效期至"}
MAX_ROWS = 200_000


@dataclass
class ListRow:
    row: int
    values: dict[str, Any]
    issues: list[Issue] = field(default_factory=list)


def _cells(content: bytes, file_name: str) -> list[list[Any]]:
    """The first sheet's cells (xlsx / xls via calamine) or the CSV's fields (UTF-8 or GBK)."""
    name = file_name.lower()
    if name.endswith(".csv"):
        from importers.read import decode_text

        text, _encoding = decode_text(content)  # the ledger reader's detection: also UTF-16 with a BOM
        if text is None:
            raise ValidationFailed(Issue("unknown-encoding", "无法识别CSV文件的编码，请另存为 UTF-8 或 GBK 编码", {"file": file_name}))
        try:
            return [row for row in csv.reader(io.StringIO(text.replace("\x00", "")))]
        except csv.Error as exc:  # e.g. UTF-16 without a BOM read as another encoding
            raise ValidationFailed(Issue("unreadable-csv", "CSV 文件无法读取，请另存为 UTF-8 或 GBK 编码的 CSV",
                                         {"file": file_name})) from exc
    if not name.endswith((".xlsx", ".xlsm", ".xls")):
        raise ValidationFailed(Issue("not-a-spreadsheet", "文件不是 Excel（.xlsx / .xls）或 CSV 表格", {"file": file_name}))
    from importers.read import open_workbook

    # the reader's safety checks first (zip bombs, entity declarations, crafted grids, encryption)
    book = open_workbook(content, file_name)
    if book.issues:
        raise ValidationFailed(book.issues)
    if not book.sheets:
        raise ValidationFailed(Issue("no-sheets", "工作簿中没有工作表", {"file": file_name}))
    try:
        rows = []
        for n, row in enumerate(book.sheets[0].rows):
            if n > MAX_ROWS + 50:
                raise ValidationFailed(Issue("too-many-rows", f"名单超过 {MAX_ROWS} 行，请分批导入", {"file": file_name}))
            rows.append(list(row))
        return rows
    except ValidationFailed:
        raise
    except Exception:  # calamine raises its own error types for corrupt, encrypted or foreign files
        raise ValidationFailed(Issue("unreadable-workbook", "无法读取该 Excel 文件：文件已损坏、加密或并非 Excel 格式",
                                     {"file": file_name}, hint="请用 Excel 打开确认后另存为 .xlsx 再上传")) from None


def parse_date(value: Any) -> date | None:
    """Dates as these lists carry them: date cells, Excel serials, 2025-03-01, 2025/3/1, 2025.3.1,
    20250301, 2025年3月1日. ``None`` when blank; ``ValueError`` when unreadable."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)) and 1 <= value < 100_000:
        return date(1899, 12, 30) + timedelta(days=int(value))
    text = str(value).strip()
    m = re.fullmatch(r"(\d{4})(\d{2})(\d{2})", text) or re.fullmatch(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?", text)
    if m:
        return date(int(m[1]), int(m[2]), int(m[3]))
    raise ValueError(text)


def read_list(content: bytes, file_name: str, kind: str, *, isolated: bool = False) -> tuple[list[ListRow], list[Issue]]:
    """The rows of a list with normalised values and per-cell issues; file-level issues separately.
    ``isolated``: read the cells in a child process (web uploads; see importers.isolated)."""
    if isolated:
        from importers.isolated import cells_isolated

        rows = cells_isolated(content, file_name)
    else:
        rows = _cells(content, file_name)
    header_at, columns = None, {}
    for n, row in enumerate(rows[:20]):
        texts = [re.sub(r"\s+", "", str(c or "")) for c in row]
        found = {f: i for f, names in SYNONYMS.items() for i, t in enumerate(texts) if t in names}
        if "id_number" in found:
            header_at, columns = n, found
            break
    if header_at is None:
        return [], [Issue("no-id-column", "找不到身份证号列：名单须有“身份证号”或“公民身份号码”列", {"file": file_name})]
    letters = {f: col_letter(i) for f, i in columns.items()}
    out: list[ListRow] = []
    for n, row in enumerate(rows[header_at + 1:], start=header_at + 2):
        cells = {f: (row[i] if i < len(row) else None) for f, i in columns.items()}
        if all(v in (None, "") for v in cells.values()):
            continue
        item = ListRow(n, {})
        where = {"file": file_name, "row": n}
        result = check_id_number(str(cells["id_number"] or ""))
        if isinstance(cells["id_number"], float):
            item.issues.append(Issue("id-as-number", "身份证号以数字格式保存，末几位可能已丢失，无法核对", {**where, "column": letters["id_number"],
                                                                                                    "field": "身份证号"}))
        elif not result.ok:
            item.issues += [i.at(**where, column=letters["id_number"]) for i in result.issues if i.severity == "error"]
        item.values["id_number"] = result.value
        item.values["name"] = re.sub(r"\s+", "", str(cells.get("name") or ""))
        for f in ("birth_date", "date"):
            try:
                item.values[f] = parse_date(cells.get(f))
            except ValueError:
                item.issues.append(Issue("bad-date", f"日期无法识别：{cells.get(f)}", {**where, "column": letters[f], "field": f}))
        if kind in DATE_REQUIRED and item.values.get("date") is None and not any(i.code == "bad-date" for i in item.issues):
            item.issues.append(Issue("required", f"缺少{DATE_REQUIRED[kind]}", {**where, "field": DATE_REQUIRED[kind]}))
        item.values["moved_to"] = str(cells.get("moved_to") or "").strip() or None
        item.values["certificate_no"] = str(cells.get("certificate_no") or "").strip() or None
        out.append(item)
    return out, []


"""The rejected rows as a workbook the user fixes and imports again.

One sheet per source sheet with the original header texts (multi-level headers as "上级/下级", which
the header finder recognises again), the rows as they were read (household cells filled down, so a
rejected member row stands on its own), then a 错误原因 column and a 原位置 column (both ignored on
re-import). Offending cells are filled red and carry a comment with the reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time
from pathlib import Path
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill

from app.issues import Issue
from importers.model import ParsedFile, Record

REASON_HEADER = "错误原因"
WHERE_HEADER = "原位置"
_BAD_FILL = PatternFill("solid", fgColor="FFC7CE")
_WARN_FILL = PatternFill("solid", fgColor="FFEB9C")
_HEAD_FILL = PatternFill("solid", fgColor="D9D9D9")
_BOLD = Font(bold=True)
_WRAP = Alignment(wrap_text=True, vertical="top")
_ILLEGAL = dict.fromkeys([*range(0, 9), 11, 12, *range(14, 32)])  # characters openpyxl refuses
_SKIP_CODES = {"row-has-errors"}
_MAX_SHEET_TITLE = 31
MAX_COMMENTS = 5000  # cell comments per workbook (each costs ~0.3 ms to write); fills are not capped


def write_rejects(parsed: ParsedFile, records: list[Record], target: str | Path | IO[bytes]) -> None:
    """Write the rows of ``records`` (grouped by source row, in file order) to ``target`` (.xlsx)."""
    wb = Workbook(write_only=True)
    rows = _rows(records)
    by_sheet: dict[str, list[tuple[int, list[Record]]]] = {}
    for (sheet, row), recs in rows.items():
        by_sheet.setdefault(sheet, []).append((row, recs))
    if not by_sheet:
        ws = wb.create_sheet("无被拒行")
        ws.append(["没有被拒绝的行"])
    used: set[str] = set()
    comments = [MAX_COMMENTS]
    for sheet, items in by_sheet.items():
        ws = wb.create_sheet(_title(sheet, used))
        headers = _headers(parsed, sheet, items)
        field_to_header = {f: h for h, f in parsed.mapping.get(sheet, {}).items()}
        ws.column_dimensions["A"].width = 12
        ws.append([_head(ws, h) for h in [*headers, REASON_HEADER, WHERE_HEADER]])
        for row, recs in sorted(items, key=lambda x: x[0]):
            raw = recs[0].source.raw
            letters = recs[0].source.columns
            letter_to_header = {letters[f]: field_to_header[f] for f in letters if f in field_to_header}
            cell_issues: dict[str, list[Issue]] = {}
            reasons: list[str] = []
            for issue in _issues(recs):
                reasons.append(_reason(issue))
                h = letter_to_header.get(issue.location.get("column", ""))
                if h is not None:
                    cell_issues.setdefault(h, []).append(issue)
            cells = [_cell(ws, raw.get(h), cell_issues.get(h), comments) for h in headers]
            reason = WriteOnlyCell(ws, value=_text("\n".join(dict.fromkeys(reasons))))
            reason.alignment = _WRAP
            reason.data_type = "s"
            cells.append(reason)
            cells.append(WriteOnlyCell(ws, value=f"工作表 {sheet} 第{row}行"))
            ws.append(cells)
    if isinstance(target, (str, Path)):
        wb.save(str(target))
    else:
        wb.save(target)


def _rows(records: Iterable[Record]) -> dict[tuple[str, int], list[Record]]:
    out: dict[tuple[str, int], list[Record]] = {}
    for rec in records:
        out.setdefault((rec.source.sheet, rec.source.row), []).append(rec)
    return out


def _issues(recs: list[Record]) -> list[Issue]:
    issues = [i for rec in recs for i in rec.issues]
    real = [i for i in issues if i.code not in _SKIP_CODES]
    ordered = [i for i in real if i.severity == "error"] + [i for i in real if i.severity != "error"]
    return ordered or issues


def _reason(issue: Issue) -> str:
    where = issue.location.get("field")
    text = f"{where}：{issue.message}" if where and not issue.message.startswith(str(where)) else issue.message
    if issue.severity != "error":
        text = "（提示）" + text
    return f"{text}（{issue.hint}）" if issue.hint else text


def _headers(parsed: ParsedFile, sheet: str, items: list[tuple[int, list[Record]]]) -> list[str]:
    headers: list[str] = []
    seen: set[str] = set()
    for _row, recs in items:
        for h in recs[0].source.raw:
            if h not in seen:
                seen.add(h)
                headers.append(h)
    return [h for h in headers if h not in (REASON_HEADER, WHERE_HEADER)]


def _head(ws: Any, text: str) -> WriteOnlyCell:
    cell = WriteOnlyCell(ws, value=_text(text))
    cell.font = _BOLD
    cell.fill = _HEAD_FILL
    cell.data_type = "s"
    return cell


def _cell(ws: Any, value: Any, issues: list[Issue] | None, budget: list[int]) -> Any:
    """A plain value where openpyxl writes it right (fast), a styled cell where it must be styled or kept as text."""
    if isinstance(value, datetime) and value.time() == time():
        value = value.date()
    if isinstance(value, str):
        value = _text(value)
        plain = not value.startswith("=")  # "=…" would become a formula: it must stay text
    else:
        plain = value is None or isinstance(value, (int, float, bool, date))
        if not plain:
            value = _text(str(value))
    if plain and not issues:
        return value
    cell = WriteOnlyCell(ws, value=value)
    if isinstance(value, str):
        cell.data_type = "s"
    if issues:
        errors = any(i.severity == "error" for i in issues)
        cell.fill = _BAD_FILL if errors else _WARN_FILL
        if budget[0] > 0:  # comments are slow to write; past the cap the reasons column says it all
            budget[0] -= 1
            cell.comment = Comment(_text("\n".join(dict.fromkeys(_reason(i) for i in issues)))[:2000], "一表通")
    return cell


def _text(s: str) -> str:
    return s.translate(_ILLEGAL)[:32767]


def _title(name: str, used: set[str]) -> str:
    base = "".join(ch for ch in name if ch not in "[]:*?/\\")[:_MAX_SHEET_TITLE] or "Sheet"
    title, n = base, 2
    while title in used:
        suffix = f"({n})"
        title = base[: _MAX_SHEET_TITLE - len(suffix)] + suffix
        n += 1
    used.add(title)
    return title

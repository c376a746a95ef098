"""Reconciliation: a department's hand-made report (its own Excel form, filled by hand) against the
report the system generates for the same id, area and date.

Alignment is tolerant: rows by their label (first column that names areas), columns by the 栏次 row
(1, 2, 3 …) when the form has one, else by the header band's labels (multi-row merged headers joined
as 低保/户数). Labels are compared after NFKC (full-width digits and letters → half-width), without
any whitespace, with 总计/合计/全县合计 → 合计 and 青石镇 小计 / 小计（青石镇） → 青石镇小计. Only differing cells
are listed: changed values, rows of the generated report missing from the file, and extra rows of the
file the generated report does not have.
"""

from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill

from app.issues import Issue, ValidationFailed
from app.reporting.table import Report, Sheet

MAX_BYTES = 20 * 1024 * 1024
TOLERANCE = 0.005  # below half a cent (the forms print at most two decimals)
_SPACE = re.compile(r"\s+")
_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")
_SUBTOTAL_FIRST = re.compile(r"^(小计|合计)[(（](.+)[)）]$")
STATUS = {"changed": "数值不同", "missing_row": "手工表缺少此行", "extra_row": "手工表多出此行",
          "missing_cell": "手工表此格为空", "not_a_number": "手工表此格不是数字"}


def norm(text: Any) -> str:
    """A label as compared: NFKC, no whitespace, uniform 合计/小计 wording."""
    if text is None:
        return ""
    value = _SPACE.sub("", unicodedata.normalize("NFKC", str(text)))
    value = value.replace("总计", "合计").replace("：", ":").rstrip(":")
    m = _SUBTOTAL_FIRST.match(value)
    if m:
        value = f"{m.group(2)}{m.group(1)}"
    if value.endswith("合计") and not value.endswith("小计"):
        return "合计"
    return value


def number(value: Any) -> float | None | str:
    """A hand cell as a number: None when empty (or a dash), the text itself when it is not a number."""
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float):
        return float(value)
    text = _SPACE.sub("", unicodedata.normalize("NFKC", str(value))).replace(",", "")
    if text in ("", "-", "—", "/"):
        return None
    if _NUMBER.match(text):
        return float(text)
    return str(value)


@dataclass
class Difference:
    row: str
    area_code: str | None
    column: int
    column_label: str
    hand: Any
    generated: Any
    status: str
    link: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "area_code": self.area_code, "column": self.column, "column_label": self.column_label,
                "hand": _plain(self.hand), "generated": _plain(self.generated), "status": self.status,
                "status_label": STATUS[self.status], "link": self.link}


def _plain(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


@dataclass
class Reconciliation:
    report: str
    area: str
    as_of: str
    period: str
    file_name: str
    sheet: str
    rows_matched: int
    columns_matched: list[tuple[int, str]]
    differences: list[Difference] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"report": self.report, "area": self.area, "as_of": self.as_of, "period": self.period,
                "file": self.file_name, "sheet": self.sheet, "rows_matched": self.rows_matched,
                "columns_matched": [n for n, _ in self.columns_matched], "notes": self.notes,
                "differences": [d.as_dict() for d in self.differences]}


@dataclass
class _Generated:
    labels: list[tuple[str, str, str | None, dict[int, float]]]  # (key, shown label, area code, {栏次: value})
    columns: dict[int, str]  # 栏次 → leaf label
    paths: dict[int, list[str]]  # 栏次 → normalised header path (group … leaf)


def _generated(sheet: Sheet) -> _Generated:
    numeric = [c for c in sheet.columns if c.kind in ("integer", "decimal", "percent")]
    number_of = {c.key: n for n, c in enumerate(numeric, 1)}
    paths: dict[int, list[str]] = {}

    def walk(nodes: list[Any], trail: list[str]) -> None:
        for node in nodes:
            if node.is_leaf:
                if node.key in number_of:
                    paths[number_of[node.key]] = [*trail, norm(node.label)]
            else:
                walk(node.children, [*trail, norm(node.label)])

    walk(sheet.header_tree(), [])
    labels = []
    for row in sheet.rows:
        name = str(row.values.get("name", ""))
        key = "合计" if row.kind == "total" else norm(name)
        labels.append((key, name, row.values.get("code"),
                       {number_of[c.key]: float(row.values.get(c.key) or 0) for c in numeric}))
    return _Generated(labels, {number_of[c.key]: c.label for c in numeric}, paths)


def _grid(data: bytes, file_name: str) -> tuple[str, list[list[Any]]]:
    from importers.read import open_workbook  # the safe reader of legacy files (zip bombs, entities, formats)

    if len(data) > MAX_BYTES:
        raise ValidationFailed(Issue("file-too-large", f"文件超过 {MAX_BYTES // 1024 // 1024} MB", {"file": file_name}))
    book = open_workbook(data, file_name)
    if book.issues:
        raise ValidationFailed(book.issues)
    sheets = [s for s in book.sheets if not s.hidden] or book.sheets
    if not sheets:
        raise ValidationFailed(Issue("no-sheet", "文件里没有工作表", {"file": file_name}))
    sheet = sheets[0]
    rows = [list(r) for _, r in zip(range(5000), sheet.rows, strict=False)]
    width = max((len(r) for r in rows), default=0)
    rows = [r + [None] * (width - len(r)) for r in rows]
    for r0, c0, r1, c1 in sheet.merged:  # a merged header cell's text covers its whole range
        if r0 < len(rows):
            value = rows[r0][c0]
            for r in range(r0, min(r1, len(rows) - 1) + 1):
                for c in range(c0, min(c1, width - 1) + 1):
                    rows[r][c] = value
    return sheet.name, rows


def _numbers_row(rows: list[list[Any]], first_data: int) -> tuple[int, dict[int, int]] | None:
    """The 栏次 row above the first data row: cells 1, 2, … (as numbers or text); col → 栏次."""
    for r, row in enumerate(rows[:first_data]):
        found: dict[int, int] = {}
        for c, value in enumerate(row):
            text = norm(value)
            if re.fullmatch(r"\d{1,3}(\.0)?", text):
                found[c] = int(float(text))
        if len(found) >= 2 and sorted(found.values()) == list(range(1, len(found) + 1)):
            return r, found
    return None


def require_reconcilable(spec: Any) -> None:
    if spec.kind != "area_summary":
        raise ValidationFailed(Issue("not-reconcilable", f"“{spec.plain_title}”不是分区划汇总表，目前只能核对汇总表",
                                     {"record": spec.ref}, hint="花名册请按姓名、身份证号在 Excel 中比对"))


def reconcile(report: Report, data: bytes, file_name: str, explain_link: Any = None) -> Reconciliation:
    """Compare the first sheet of ``data`` with the generated ``report`` (an area summary)."""
    if not report.sheets:
        raise ValidationFailed(Issue("empty-report", "生成的报表没有工作表"))
    gen = _generated(report.sheets[0])
    if not gen.columns:
        raise ValidationFailed(Issue("not-reconcilable", "此报表没有数值列，无法核对"))
    sheet_name, rows = _grid(data, file_name)
    wanted = {key for key, *_ in gen.labels}
    # the label column: the one naming most of the generated rows
    best_col, best_hits = 0, -1
    for c in range(len(rows[0]) if rows else 0):
        hits = sum(1 for row in rows if _match_key(norm(row[c]), wanted) is not None)
        if hits > best_hits:
            best_col, best_hits = c, hits
    if best_hits <= 0:
        raise ValidationFailed(Issue("no-rows-matched", "手工表中找不到与生成报表对应的行（单位名称）", {"file": file_name},
                                     hint="请确认上传的是同一张报表、同一区划；第一列应为单位名称（村、乡镇小计、合计）"))
    first_data = next(r for r, row in enumerate(rows) if _match_key(norm(row[best_col]), wanted) is not None)
    numbered = _numbers_row(rows, first_data)
    notes: list[str] = []
    if numbered is not None:
        header_end, col_of = numbered
        columns = {n: c for c, n in col_of.items() if n in gen.columns}
        notes.append(f"按第 {header_end + 1} 行的栏次对齐列")
    else:
        header_end, columns = _columns_by_labels(rows, best_col, gen, first_data)
        notes.append("手工表没有栏次行，按表头文字对齐列")
    unmatched = [n for n in gen.columns if n not in columns]
    if unmatched:
        notes.append("手工表中找不到的栏次：" + "、".join(str(n) for n in unmatched))
    if not columns:
        raise ValidationFailed(Issue("no-columns-matched", "手工表中找不到与生成报表对应的列", {"file": file_name},
                                     hint="表头文字应与报表一致，或保留栏次行（1、2、3 …）"))
    hand_rows: dict[str, tuple[str, list[Any]]] = {}
    extra: list[tuple[str, list[Any]]] = []
    for row in rows[header_end + 1:]:
        label = row[best_col]
        key = norm(label)
        if not key or key in ("栏次", "甲", "乙") or key.startswith(("填表人", "单位负责人", "统计负责人", "说明", "注")):
            continue
        matched = _match_key(key, wanted)
        if matched is None:
            if any(isinstance(number(row[c]), float) for c in columns.values()):
                extra.append((str(label).strip(), row))
            continue
        hand_rows.setdefault(matched, (str(label).strip(), row))
    result = Reconciliation(report.meta.get("报表", ""), report.meta.get("区划", ""), report.meta.get("参考日期", ""),
                            report.meta.get("报告期", ""), file_name, sheet_name, len(hand_rows),
                            [(n, gen.columns[n]) for n in sorted(columns)], notes=notes)
    for key, shown, code, values in gen.labels:
        link = (lambda n, code=code: explain_link(code, n)) if explain_link and code else (lambda n: None)
        if key not in hand_rows:
            for n in sorted(columns):
                result.differences.append(Difference(shown, code, n, gen.columns[n], None, values[n], "missing_row", link(n)))
            continue
        _, row = hand_rows[key]
        for n in sorted(columns):
            hand = number(row[columns[n]])
            generated = values[n]
            if isinstance(hand, str):
                status = "not_a_number"
            elif hand is None:
                if generated == 0:
                    continue  # an empty cell for a zero: the usual way forms leave zeros out
                status = "missing_cell"
            elif abs(hand - generated) <= TOLERANCE:
                continue
            else:
                status = "changed"
            result.differences.append(Difference(shown, code, n, gen.columns[n], hand, generated, status, link(n)))
    for shown, row in extra:
        for n in sorted(columns):
            hand = number(row[columns[n]])
            if hand is not None:
                result.differences.append(Difference(shown, None, n, gen.columns[n], hand, None, "extra_row"))
    return result


def _match_key(key: str, wanted: set[str]) -> str | None:
    if not key:
        return None
    if key in wanted:
        return key
    if f"{key}小计" in wanted:  # a township written without 小计 on its subtotal row
        return f"{key}小计"
    return None


def _columns_by_labels(rows: list[list[Any]], label_col: int, gen: _Generated, first_data: int) -> tuple[int, dict[int, int]]:
    """Header band = the rows above the first labelled data row; a column's path = its distinct texts."""
    band = rows[:first_data]
    width = len(rows[0])
    found: dict[int, int] = {}
    for c in range(width):
        if c == label_col:
            continue
        path: list[str] = []
        for row in band:
            text = norm(row[c])
            if text and (not path or path[-1] != text):
                path.append(text)
        if not path:
            continue
        for n, gpath in gen.paths.items():
            if n in found.values():
                continue
            if path[-len(gpath):] == gpath or (path[-1] == gpath[-1] and sum(p[-1] == gpath[-1] for p in gen.paths.values()) == 1):
                found[c] = n
                break
    return first_data - 1, {n: c for c, n in found.items()}


def differences_xlsx(result: Reconciliation) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "差异"
    ws.append([f"核对：{result.report} {result.area} 参考日 {result.as_of}；手工表 {result.file_name}（{result.sheet}）"])
    ws.append([f"对齐 {result.rows_matched} 行、{len(result.columns_matched)} 栏；差异 {len(result.differences)} 处。"
               + "；".join(result.notes)])
    ws.append(["行", "区划代码", "栏次", "列", "手工表数值", "系统生成数值", "差额", "说明", "溯源"])
    for cell in ws[3]:
        cell.font = Font(bold=True)
    fills = {"missing_row": PatternFill("solid", fgColor="FDECEC"), "extra_row": PatternFill("solid", fgColor="EEF4FD")}
    for d in result.differences:
        delta = (d.hand - d.generated) if isinstance(d.hand, float) and isinstance(d.generated, float) else None
        ws.append([d.row, d.area_code or "", d.column, d.column_label, _plain(d.hand), _plain(d.generated),
                   _plain(delta), STATUS[d.status], d.link or ""])
        if d.status in fills:
            for cell in ws[ws.max_row]:
                cell.fill = fills[d.status]
        ws.cell(ws.max_row, 2).number_format = "@"
    for letter, width in zip("ABCDEFGHI", (18, 15, 6, 14, 12, 12, 10, 16, 60), strict=True):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "A4"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()

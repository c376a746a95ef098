"""The rendered-table model: a finished report described at layout level.

The report engine fills these dataclasses; the writers in this package (xlsx, csv, json) only render them.
Nothing here knows about the database.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from app.issues import Issue, ValidationFailed

ColumnKind = Literal["text", "id", "integer", "decimal", "percent", "date"]
RowKind = Literal["data", "subtotal", "total"]
Paper = Literal["A4", "A3"]

COLUMN_KINDS: tuple[str, ...] = ("text", "id", "integer", "decimal", "percent", "date")
ROW_KINDS: tuple[str, ...] = ("data", "subtotal", "total")
META_SHEET = "_meta"
MAX_COLUMNS = 16_384
MAX_BODY_ROWS = 1_048_576 - 100  # Excel's row limit, less room for the title, header, notes and footer
_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")


@dataclass
class HeaderCell:
    """One node of the header tree; a leaf (no children) carries the column ``key``."""

    label: str
    children: list[HeaderCell] = field(default_factory=list)
    key: str | None = None

    @property
    def is_leaf(self) -> bool:
        return not self.children


@dataclass
class Column:
    """Metadata of one body column; ``decimals`` applies to decimal and percent columns."""

    key: str
    label: str
    kind: ColumnKind = "text"
    decimals: int = 0
    width: float | None = None


@dataclass(slots=True)
class Row:
    """One body row; ``group`` marks a household (or other block) for vertical merging."""

    values: dict[str, Any]
    kind: RowKind = "data"
    group: str | None = None


@dataclass
class Sheet:
    """One worksheet of a report. An empty ``header`` means one header row made of the column labels."""

    name: str
    title: str
    header: list[HeaderCell]
    columns: list[Column]
    rows: list[Row]
    merge_columns: list[str] = field(default_factory=list)
    column_numbers: list[str] | None = None
    notes: list[str] = field(default_factory=list)
    freeze: bool = True

    def header_tree(self) -> list[HeaderCell]:
        """The header as given, or a flat one built from the column labels."""
        return self.header or [HeaderCell(c.label, key=c.key) for c in self.columns]


@dataclass
class Report:
    """A finished report: sheets plus the form furniture printed around every table."""

    sheets: list[Sheet]
    statutory: dict[str, str] = field(default_factory=dict)
    filler: str = ""
    period_line: str = ""
    unit_line: str = ""
    footer: list[tuple[str, str]] = field(default_factory=list)
    meta: dict[str, str] = field(default_factory=dict)
    paper: Paper = "A4"

    @property
    def title(self) -> str:
        return self.sheets[0].title if self.sheets else ""


def iter_nodes(header: list[HeaderCell], depth: int = 0) -> Iterator[tuple[HeaderCell, int, tuple[str, ...]]]:
    """Every node with its 0-based depth and label path, depth first, in column order."""
    for node in header:
        yield node, depth, (node.label,)
        for child, d, path in iter_nodes(node.children, depth + 1):
            yield child, d, (node.label, *path)


def header_depth(header: list[HeaderCell]) -> int:
    """Number of header rows the tree needs (0 for an empty tree)."""
    return max((d + 1 for _node, d, _path in iter_nodes(header)), default=0)


def leaf_order(header: list[HeaderCell]) -> list[str]:
    """Column keys of the leaves, left to right (leaves without a key are skipped)."""
    return [n.key for n, _d, _p in iter_nodes(header) if n.is_leaf and n.key is not None]


def leaf_paths(header: list[HeaderCell]) -> dict[str, tuple[str, ...]]:
    """Column key -> label path from the top group down to the leaf, e.g. ("低保", "户数")."""
    return {n.key: p for n, _d, p in iter_nodes(header) if n.is_leaf and n.key is not None}


def header_issues(header: list[HeaderCell], columns: list[Column], sheet: str | None = None) -> list[Issue]:
    """Problems of a header tree against the columns (empty list when it is consistent)."""
    issues: list[Issue] = []
    where: dict[str, Any] = {"sheet": sheet} if sheet else {}
    known = {c.key for c in columns}
    seen: list[str] = []
    for node, _depth, path in iter_nodes(header):
        loc = {**where, "path": "/".join(path)}
        if node.is_leaf and node.key is None:
            issues.append(Issue("header-empty-group", f"表头“{node.label}”既没有下级栏目也没有对应的列", loc))
        elif not node.is_leaf and node.key is not None:
            issues.append(
                Issue("header-group-with-key", f"表头分组“{node.label}”不能直接对应列 {node.key}", loc)
            )
        elif node.is_leaf and node.key not in known:
            issues.append(
                Issue("header-unknown-column", f"表头“{node.label}”对应的列 {node.key} 未定义", loc)
            )
        elif node.is_leaf and node.key in seen:
            issues.append(Issue("header-duplicate-column", f"列 {node.key} 在表头中出现了不止一次", loc))
        if node.is_leaf and node.key is not None:
            seen.append(node.key)
    for col in columns:
        if col.key not in seen:
            issues.append(
                Issue(
                    "header-missing-column",
                    f"列“{col.label}”（{col.key}）在表头中没有对应的栏目",
                    {**where, "field": col.key},
                )
            )
    order = [k for k in seen if k in known]
    if not issues and order != [c.key for c in columns]:
        issues.append(
            Issue(
                "header-column-order",
                "表头栏目的顺序与列定义的顺序不一致",
                where,
                hint="按表头从左到右的顺序排列列定义",
            )
        )
    return issues


def validate_header(header: list[HeaderCell], columns: list[Column], sheet: str | None = None) -> None:
    """Raise ``ValidationFailed`` when the header tree and the columns disagree."""
    issues = header_issues(header, columns, sheet)
    if issues:
        raise ValidationFailed(issues)


def sheet_issues(sheet: Sheet) -> list[Issue]:
    """Problems of one sheet: name, columns, header tree, merge columns and the 栏次 row."""
    where = {"sheet": sheet.name}
    issues: list[Issue] = []
    if not sheet.name or len(sheet.name) > 31 or _SHEET_NAME_BAD.search(sheet.name):
        issues.append(
            Issue("sheet-name-invalid", "工作表名称须为1至31个字符，且不能含有 [ ] : * ? / \\", where)
        )
    elif sheet.name.lower() == META_SHEET:
        issues.append(Issue("sheet-name-reserved", f"工作表名称 {META_SHEET} 为系统保留", where))
    if not sheet.columns:
        issues.append(Issue("sheet-no-columns", "报表没有任何列", where))
    keys = [c.key for c in sheet.columns]
    for col in sheet.columns:
        loc = {**where, "field": col.key}
        if keys.count(col.key) > 1:
            issues.append(Issue("column-duplicate-key", f"列 {col.key} 重复定义", loc))
        if col.kind not in COLUMN_KINDS:
            issues.append(Issue("column-unknown-kind", f"列 {col.key} 的类型 {col.kind} 无法识别", loc))
        if not 0 <= col.decimals <= 10:
            issues.append(Issue("column-bad-decimals", f"列 {col.key} 的小数位数应在0到10之间", loc))
    issues += header_issues(sheet.header_tree(), sheet.columns, sheet.name)
    for key in sheet.merge_columns:
        if key not in keys:
            issues.append(Issue("merge-unknown-column", f"合并列 {key} 未定义", {**where, "field": key}))
    if len(sheet.rows) > MAX_BODY_ROWS or len(sheet.columns) > MAX_COLUMNS:
        issues.append(
            Issue(
                "sheet-too-large",
                f"工作表超出 Excel 的容量（最多 {MAX_BODY_ROWS} 行、{MAX_COLUMNS} 列）",
                where,
                hint="按乡镇或村拆分报表",
            )
        )
    if sheet.column_numbers is not None and len(sheet.column_numbers) != len(sheet.columns):
        issues.append(
            Issue(
                "column-numbers-length",
                f"栏次有 {len(sheet.column_numbers)} 项，但表格有 {len(sheet.columns)} 列",
                where,
            )
        )
    return issues


def validate_report(report: Report) -> None:
    """Raise ``ValidationFailed`` with every problem found in the report's layout."""
    issues: list[Issue] = []
    if not report.sheets:
        issues.append(Issue("report-no-sheets", "报表没有任何工作表"))
    names: set[str] = set()
    for sheet in report.sheets:
        if sheet.name.lower() in names:
            issues.append(Issue("sheet-name-duplicate", "工作表名称重复", {"sheet": sheet.name}))
        names.add(sheet.name.lower())
        issues += sheet_issues(sheet)
    if report.paper not in ("A4", "A3"):
        issues.append(Issue("report-bad-paper", f"纸张 {report.paper} 无法识别，只支持 A4 或 A3"))
    if issues:
        raise ValidationFailed(issues)

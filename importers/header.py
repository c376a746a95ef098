"""Finding the header band of a legacy sheet: title rows above, several header rows with merged cells,
a column-number row below; and telling data rows from total rows, notes and repeated headers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from importers.synonyms import IGNORE, header_key, resolve_header

WINDOW = 40  # rows looked at for the header
MAX_DEPTH = 4  # header levels

TOTAL_WORDS = ("合计", "小计", "总计", "累计", "共计", "总数", "本页小计", "本页合计", "全村合计")
NOTE_PREFIXES = ("填表人", "填报人", "制表人", "审核人", "负责人", "单位负责人", "统计人", "经办人", "联系人", "说明", "注：",
                 "注:", "备注：", "备注:", "填表说明", "填表日期", "填报日期", "制表日期", "填报时间", "填报单位", "签字", "盖章",
                 "村委会盖章", "审核：", "审核:")


@dataclass
class HeaderBand:
    top: int  # first header row, 0-based
    bottom: int  # last header row, 0-based (data starts below, after ``skip_after`` rows)
    labels: dict[int, str]  # column index -> header text, levels joined by "/"
    fields: dict[int, str]  # column index -> canonical field (ignored and unknown columns left out)
    unknown: list[str] = field(default_factory=list)  # header texts not recognised
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # (header text, field) mapped twice
    skip_after: int = 0  # column-number / unit rows right below the header
    titles: list[str] = field(default_factory=list)  # single-text rows above the header


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return " ".join(str(value).split())


def fill_merged(window: list[list[Any]], merged: list[tuple[int, int, int, int]]) -> list[list[Any]]:
    """A copy of the window with every merged range showing its top-left value."""
    width = max((len(r) for r in window), default=0)
    grid = [list(r) + [""] * (width - len(r)) for r in window]
    n = len(grid)
    for r0, c0, r1, c1 in merged:
        if r0 >= n or c0 >= width:
            continue
        value = grid[r0][c0]
        for r in range(r0, min(r1, n - 1) + 1):
            for c in range(c0, min(c1, width - 1) + 1):
                grid[r][c] = value
    return grid


def _labels(grid: list[list[Any]], top: int, bottom: int) -> dict[int, str]:
    out: dict[int, str] = {}
    width = len(grid[0]) if grid else 0
    for c in range(width):
        levels: list[str] = []
        for r in range(top, bottom + 1):
            t = cell_text(grid[r][c])
            if t and (not levels or levels[-1] != t):
                levels.append(t)
        if levels:
            out[c] = "/".join(levels)
    return out


def _resolve(labels: dict[int, str], tag_code: str | None, overrides: dict[str, str] | None) -> dict[int, str]:
    return {c: f for c, lab in labels.items() if (f := resolve_header(lab, tag_code=tag_code, overrides=overrides))}


def _score(resolved: dict[int, str]) -> int:
    return len({f for f in resolved.values() if f != IGNORE})


def _distinct(row: list[Any]) -> list[str]:
    seen: list[str] = []
    for v in row:
        t = cell_text(v)
        if t and t not in seen:
            seen.append(t)
    return seen


def titles_of(grid: list[list[Any]], upto: int) -> list[str]:
    return [d[0] for d in (_distinct(grid[r]) for r in range(min(upto, len(grid)))) if len(d) == 1]


def find_header(window: list[list[Any]], merged: list[tuple[int, int, int, int]], *, tag_code: str | None = None,
                overrides: dict[str, str] | None = None, rows: tuple[int, int] | None = None) -> HeaderBand | None:
    """The header band in the first rows of a sheet, or None when no row names at least two known fields.

    ``rows`` (0-based, inclusive) skips the search: the mapping file said where the header is.
    """
    grid = fill_merged(window, merged)
    if not grid or not grid[0]:
        return None
    if rows is not None:
        top, bottom = rows
        if bottom >= len(grid):
            return None
        return _band(grid, merged, top, bottom, tag_code, overrides)

    best: tuple[int, int, int] | None = None  # (score, -bottom, -depth) maximised
    best_rows = (0, 0)
    for bottom in range(len(grid)):
        if not _distinct(grid[bottom]):
            continue
        for depth in range(1, MAX_DEPTH):
            top = bottom - depth + 1
            if top < 0:
                break
            score = _score(_resolve(_labels(grid, top, bottom), tag_code, overrides))
            key = (score, -bottom, -depth)
            if score >= 2 and (best is None or key > best):
                best, best_rows = key, (top, bottom)
    if best is None:
        return None
    top, bottom = best_rows
    # take in group rows above ("家庭成员" merged over 姓名/身份证号) and vertical merges into the band
    while top > 0 and bottom - top + 1 < MAX_DEPTH and _is_group_row(grid, merged, top - 1, bottom):
        top -= 1
    return _band(grid, merged, top, bottom, tag_code, overrides)


def _is_group_row(grid: list[list[Any]], merged: list[tuple[int, int, int, int]], r: int, bottom: int) -> bool:
    distinct = _distinct(grid[r])
    if len(distinct) < 2:
        return False  # a title or an empty spacer row
    return any(r0 == r and (r1 > r or _c1 > c0) and r1 <= bottom for r0, c0, r1, _c1 in merged)


def _band(grid, merged, top: int, bottom: int, tag_code, overrides) -> HeaderBand:
    labels = _labels(grid, top, bottom)
    # the same text twice (two 备注 columns): keep both, told apart by column
    seen: dict[str, int] = {}
    for c in sorted(labels):
        seen[labels[c]] = seen.get(labels[c], 0) + 1
    for c in sorted(labels):
        if seen[labels[c]] > 1:
            from importers.book import col_letter

            labels[c] = f"{labels[c]}（{col_letter(c)}列）"
    resolved = _resolve(labels, tag_code, overrides)
    fields: dict[int, str] = {}
    taken: dict[str, int] = {}
    duplicates: list[tuple[str, str]] = []
    for c in sorted(resolved):
        f = resolved[c]
        if f == IGNORE:
            continue
        if f in taken:
            duplicates.append((labels[c], f))
            continue
        taken[f] = c
        fields[c] = f
    unknown = [labels[c] for c in sorted(labels) if c not in resolved]
    skip_after = 0
    r = bottom + 1
    while r < len(grid) and skip_after < 2 and _is_numbering_row(grid[r], fields):
        skip_after += 1
        r += 1
    return HeaderBand(top, bottom, labels, fields, unknown, duplicates, skip_after, titles_of(grid, top))


def _is_numbering_row(row: list[Any], fields: dict[int, str]) -> bool:
    """A row like "1 2 3 4 …", "A B C …" or "（元）（人）" printed under a header."""
    every = [t for t in (cell_text(v) for v in row) if t]
    if every and all(t.startswith(("（", "(")) and t.endswith(("）", ")")) and len(t) <= 8 for t in every):
        return True  # a unit row: （元）（人）（㎡）
    values = [cell_text(row[c]) for c in fields if c < len(row) and cell_text(row[c])]
    if len(values) < max(2, len(fields) // 2):
        return False
    if all(v.isascii() and v.isdigit() and int(v) <= 200 for v in values):
        nums = [int(v) for v in values]
        return nums == sorted(nums) and len(set(nums)) == len(nums)
    return all(len(v) == 1 and v.isascii() and v.isalpha() for v in values)


class RowClassifier:
    """Tells data rows from blank rows, total rows, notes and repeated headers, cheaply (called per row)."""

    def __init__(self, labels: dict[int, str], fields: dict[int, str]):
        self.many_fields = len(fields) > 2
        self.n_labels = len(labels)
        # a repeated header shows the header texts again: compare the leaf texts exactly
        self.leaves = [(c, lab.rsplit("/", 1)[-1]) for c, lab in sorted(labels.items())]
        self.gate = self.leaves[:3]

    def kind(self, row: list[Any]) -> str:
        """data | blank | total | note | header."""
        nonempty = 0
        first: str | None = None
        seen_str = 0
        for v in row:
            if v is None or v == "":
                continue
            if v.__class__ is str:
                if v.isspace():
                    continue
                if first is None:
                    first = v
                if seen_str < 4 and ("计" in v or "总数" in v) and header_key(v).startswith(TOTAL_WORDS):
                    return "total"
                seen_str += 1
            nonempty += 1
        if nonempty == 0:
            return "blank"
        if first is not None and (first.lstrip().startswith(NOTE_PREFIXES) or (nonempty == 1 and len(first) >= 15)):
            k = header_key(first)
            if k.startswith(NOTE_PREFIXES) or (nonempty == 1 and len(k) >= 15 and self.many_fields):
                return "note"
        if nonempty >= 2:
            width = len(row)
            if any(c < width and row[c].__class__ is str and row[c].strip() == t for c, t in self.gate):
                same = sum(1 for c, t in self.leaves if c < width and row[c].__class__ is str and row[c].strip() == t)
                if same >= 2 and same * 2 >= min(nonempty, self.n_labels):
                    return "header"
        return "data"



def row_kind(row: list[Any], labels: dict[int, str], fields: dict[int, str]) -> str:
    """data | blank | total | note | header for one row below the header band."""
    return RowClassifier(labels, fields).kind(row)

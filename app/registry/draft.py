"""Reverse mapping: a department's own Excel form (blank template or a filled copy) → a draft projection.

The form is read with the importers' reader (xlsx / xls, safety checks), its merged cells filled and its
header levels joined with the importers' header helpers. Around the header band we find the title, the
statutory block (表号, 制定机关, 批准机关, 批准文号, 有效期至 — in any cell above or below the table), the
unit line and, below the band, the row labels (合计 / 乡镇 / 村 → row level, subtotals, total position).
Each leaf column is matched to the indicator dictionary by its label and the group labels above it with
rapidfuzz; a column is matched only when one indicator is clearly best and close (a wrong match is worse
than none), otherwise it is left unmatched (需新建指标) with a computation suggested where the label names
a tag. The result serialises to a projection YAML (``to_yaml``) whose unmatched leaves carry
``new_indicator`` — ``ybt registry check`` reports each of them as one warning.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import yaml
from rapidfuzz import fuzz

from app.issues import Issue, ValidationFailed
from app.registry.indicator_list import IndicatorInfo
from app.registry.vocabulary import ROSTER_FIELDS
from importers.header import RowClassifier, cell_text, fill_merged
from importers.read import open_workbook
from importers.synonyms import TAG_TYPES_FILE, detect_tag, header_key, resolve_header, tag_types

WINDOW = 200  # rows read from the form
MATCH_AT = 88  # score (0-100) a column needs to be matched
MARGIN = 4  # and by how much it must beat the best other indicator

STATUTORY_RE = re.compile(r"(表\s*号|制定机关|制表机关|批准机关|批准文号|备案文号|有效期至|有效期限)\s*[:：]?\s*(.*)")
STATUTORY_NAMES = {"表号": "表号", "制定机关": "制定机关", "制表机关": "制定机关", "批准机关": "批准机关",
                   "批准文号": "批准文号", "备案文号": "批准文号", "有效期至": "有效期至", "有效期限": "有效期至"}
UNIT_RE = re.compile(r"(?:^|\s)(计量)?单位\s*[:：]\s*(\S.*)$")  # not 填报单位：
ROW_LABEL_HEADERS = ("单位名称", "地区", "区划名称", "乡镇", "乡镇（街道）", "村", "村名", "村（社区）", "村(社区)", "村社区", "名称",
                     "行政村", "项目", "单位", "乡镇名称", "村名称", "填报单位")
CODE_HEADERS = ("区划代码", "行政区划代码", "代码", "统计用区划代码")
NUMBERING_HEADERS = ("序号", "栏次", "行次", "编号")
NOISE = re.compile(r"^(其中|其中[:：]|按.+分|合计|小计|总计|计|总数|数量)$")
TOTAL_LABELS = ("合计", "总计", "计", "小计", "总数", "数量")
UNIT_IN_LABEL = re.compile(r"[（(]\s*(人|户|元|万元|个|套|间|所|家|平方米|㎡|%|‰|岁|次|名|处|亩)\s*[)）]")
BRACKETED = re.compile(r"[（(][^）)]*[）)]")
PUNCT = re.compile(r"[\s（）()【】\[\]、，,。:：；;“”\"'·\-—/]+")
TOWNSHIP_END = ("镇", "乡", "街道", "街道办事处")
VILLAGE_END = ("村", "社区", "居委会", "村委会", "居民委员会", "村民委员会")
FREQ_WORDS = (("月报", "monthly"), ("季报", "quarterly"), ("半年报", "half_yearly"), ("年报", "yearly"), ("月", "monthly"),
              ("季", "quarterly"), ("年度", "yearly"))


@dataclass
class DraftColumn:
    index: int  # 0-based sheet column
    path: str  # group labels joined by "/"
    label: str
    indicator: str | None = None
    score: float = 0.0
    unit: str = ""
    candidate: str | None = None  # the best indicator when it was not good enough
    suggestion: dict[str, Any] | None = None  # a computation for a new indicator, when one can be inferred
    file_total: float | None = None  # a filled copy: the value in its 合计 row (or the sum of its rows)
    field: str | None = None  # a roster's column: the roster field it shows
    generated_total: float | None = None  # a filled copy: the 合计 the draft generates from base data

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path, "label": self.label, "indicator": self.indicator,
                               "score": round(self.score, 1)}
        if self.field is not None:
            out["field"] = self.field
        elif self.indicator is None:
            out["new_indicator"] = {"name": self.wanted_name, "unit": self.unit, "suggested": self.suggestion,
                                    "nearest": self.candidate}
        if self.file_total is not None:
            out["file_total"] = self.file_total
        return out

    @property
    def wanted_name(self) -> str:
        groups = [g for g in self.path.split("/") if g and not NOISE.match(g)] if self.path else []
        label = _strip_units(self.label)
        if label in TOTAL_LABELS and groups:
            return groups[-1]
        return "".join([groups[-1], label]) if groups and not label.startswith(groups[-1]) else label


@dataclass
class Draft:
    title: str
    kind: str
    statutory: dict[str, str]
    unit_line: str
    rows: dict[str, Any]
    columns: list[DraftColumn]
    filled: bool
    department: str
    frequency: str
    column_numbers: bool
    sheet: str
    show_code: bool = False
    issues: list[Issue] = field(default_factory=list)

    tag: str | None = None  # a roster: the tag its title names (its rows: the holders)

    @property
    def unmatched(self) -> list[DraftColumn]:
        return [c for c in self.columns if c.indicator is None and c.field is None]

    def as_json(self) -> dict[str, Any]:
        return {"title": self.title, "kind": self.kind, "department": self.department, "frequency": self.frequency,
                "statutory": self.statutory, "unit_line": self.unit_line, "rows": self.rows, "filled": self.filled,
                "columns": [c.as_json() for c in self.columns],
                "matched": len(self.columns) - len(self.unmatched), "unmatched": len(self.unmatched)}


# ---------------------------------------------------------------------------------- reading


def read_form(data: bytes, file_name: str) -> tuple[list[list[Any]], list[tuple[int, int, int, int]], str]:
    book = open_workbook(data, file_name)
    errors = [i for i in book.issues if i.severity == "error"]
    if errors:
        raise ValidationFailed(errors)
    sheets = [s for s in book.sheets if not s.hidden] or book.sheets
    if not sheets:
        raise ValidationFailed(Issue("no-sheet", "文件中没有工作表", {"file": file_name}))
    for sheet in sheets:
        rows: list[list[Any]] = []
        for row in sheet.rows:
            rows.append(list(row))
            if len(rows) >= WINDOW:
                break
        if any(cell_text(v) for r in rows for v in r):
            return rows, sheet.merged, sheet.name
    raise ValidationFailed(Issue("empty-form", "表格是空的：没有找到表头", {"file": file_name},
                                 hint="请上传部门的报表模板或已填好的报表"))


def _texts(row: list[Any]) -> list[tuple[int, str]]:
    return [(c, t) for c, v in enumerate(row) if (t := cell_text(v))]


def _is_number(value: Any) -> bool:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return True
    t = cell_text(value).replace(",", "")
    return bool(re.fullmatch(r"-?\d+(\.\d+)?", t))


def _statutory_cells(grid: list[list[Any]]) -> tuple[dict[str, str], str, set[int]]:
    """The statutory block and the unit line, wherever they stand; and the rows they occupy."""
    found: dict[str, str] = {}
    unit_line = ""
    rows: set[int] = set()
    for r, row in enumerate(grid):
        cells = _texts(row)
        for i, (_c, text) in enumerate(cells):
            m = STATUTORY_RE.match(text)
            if m and len(text) <= 60:
                key = STATUTORY_NAMES[re.sub(r"\s", "", m.group(1))]
                value = m.group(2).strip()
                if not value and i + 1 < len(cells):
                    value = cells[i + 1][1]
                value = _cut_next_key(value)
                if value and key not in found:
                    found[key] = value
                rows.add(r)
                continue
            u = UNIT_RE.search(text)
            if u and not unit_line and len(u.group(0)) <= 40:
                unit_line = f"单位：{u.group(2).strip()}"
                rows.add(r)
    if "有效期至" in found:
        found["有效期至"] = _iso_date(found["有效期至"])
    return found, unit_line, rows


def _cut_next_key(value: str) -> str:
    """``民救1表 制定机关：…`` written in one cell: keep the first value only."""
    m = STATUTORY_RE.search(value)
    return value[: m.start()].strip() if m and m.start() > 0 else value


def _iso_date(text: str) -> str:
    m = re.search(r"(\d{4})\s*[-年./]\s*(\d{1,2})\s*[-月./]\s*(\d{1,2})", text)
    return f"{int(m.group(1)):04d}-{int(m.group(2)):02d}-{int(m.group(3)):02d}" if m else text


def _find_band(grid: list[list[Any]], raw: list[list[Any]], merged: list[tuple[int, int, int, int]],
               skip: set[int]) -> tuple[int, int]:
    """(top, bottom) of the header band: the first row with several texts (not title, statutory or unit),
    extended down over vertical merges and over rows of texts without a row label."""
    top = None
    for r, row in enumerate(grid):
        if r in skip:
            continue
        distinct = {t for _c, t in _texts(row)}
        if len(distinct) >= 2 and not any(_is_number(v) for v in raw[r]):
            top = r
            break
    if top is None:
        raise ValidationFailed(Issue("no-header", "没有找到表头：表格中没有至少两列文字的行",
                                     hint="请确认上传的是报表（有表头的表格），而不是说明或空白文件"))
    bottom = top
    while bottom + 1 < len(grid) and bottom - top < 3:
        r = bottom + 1
        if r in skip:
            break
        spans = any(r0 >= top and r0 <= bottom < r1 and r1 >= r for r0, _c0, r1, _c1 in merged)
        texts = _texts(raw[r])
        first_empty = not cell_text(raw[r][0] if raw[r] else None) or _covered(merged, r, 0, top)
        headerish = (bool(texts) and not any(_is_number(v) for v in raw[r]) and first_empty
                     and not _is_numbering([t for _c, t in texts]))
        if spans or headerish:
            bottom = r
        else:
            break
    return top, bottom


def _covered(merged: list[tuple[int, int, int, int]], r: int, c: int, top: int) -> bool:
    return any(r0 >= top and r0 < r <= r1 and c0 <= c <= c1 for r0, c0, r1, c1 in merged)


def _is_numbering(texts: list[str]) -> bool:
    """A 栏次 row: 甲 乙 1 2 3 … (or only numbers), possibly starting with 栏次."""
    if not texts:
        return False
    rest = [t for t in texts if t not in ("栏次", "行次", "序号")]
    return bool(rest) and all(t in "甲乙丙丁戊" or t.isdigit() for t in rest)


def _is_unit_row(texts: list[str]) -> bool:
    return bool(texts) and all(t[:1] in "（(" and t[-1:] in "）)" and len(t) <= 8 for t in texts)


def _strip_units(text: str) -> str:
    return UNIT_IN_LABEL.sub("", text).strip()


def _norm(text: str) -> str:
    return PUNCT.sub("", header_key(text)).replace("其中", "")


# ---------------------------------------------------------------------------------- matching


BY_RE = re.compile(r"^按(.+?)(类别|等级|类型|程度|性质|情况)?分$")
SUFFIX_RE = re.compile(r"(总数|合计|总计|小计)$")


def _queries(path: str, label: str, grouped_only: bool = False) -> list[str]:
    """The texts a leaf may be known by: its label alone, and with the group labels above it."""
    groups: list[str] = []
    context: list[str] = []  # 按残疾等级分 → 残疾
    for g in (path.split("/") if path else []):
        g = _strip_units(re.sub(r"^其中[:：]?", "", g))
        by = BY_RE.match(_norm(g))
        if by:
            context.append(by.group(1))
        elif g and not NOISE.match(_norm(g)):
            groups.append(g)
    base = _strip_units(re.sub(r"^其中[:：]?", "", label))
    if base in TOTAL_LABELS or not _norm(base):
        return [_norm("".join(groups))] if groups else []
    base = SUFFIX_RE.sub("", base) or base
    out = [_norm(base)]
    bare = re.sub(r"(人数|数)$", "", base)  # 高血压患者人数 → 高血压患者
    if len(bare) >= 2 and bare != base:
        out.append(_norm(bare))
    if grouped_only and (groups or context):
        out = []
    for ctx in context:
        out += [_norm(base + ctx), _norm(ctx + base)]
    if groups:
        out += [_norm(groups[-1] + base), _norm("".join(groups) + base), _norm(groups[0] + base)]
    return [q for q in dict.fromkeys(out) if q]


def _known_as(ind: IndicatorInfo) -> dict[str, float]:
    """Texts naming the indicator → penalty: its name, the catalogue's headers for it (0) and its name
    without bracketed qualifiers (5: 重度残疾人（一、二级） is 重度残疾人, but 户籍人口（男） is not 户籍人口)."""
    names = {_norm(BRACKETED.sub("", ind.name)): 5.0}
    names.update({_norm(ind.name): 0.0, _norm(_strip_units(ind.name)): 0.0})
    for alias in ind.aliases:
        path, _, label = alias.rpartition("/")
        # "户数" under 低保 names 低保户数; "户数" alone names nothing
        names.update(dict.fromkeys(_queries(path, label, grouped_only=True), 0.0))
    return {n: p for n, p in names.items() if n}


def match_column(path: str, label: str, unit: str, indicators: list[IndicatorInfo],
                 department: str | None = None, known: dict[str, dict[str, float]] | None = None,
                 ) -> tuple[str | None, float, str | None]:
    """(indicator code or None, score, best candidate). Unsure → None. ``known``: ``_known_as`` per code,
    computed once per form."""
    queries = _queries(path, label)
    if not queries:
        return None, 0.0, None
    known = known or {ind.code: _known_as(ind) for ind in indicators}
    scores: dict[str, float] = {}
    for ind in indicators:
        best = max(fuzz.ratio(q, n) - penalty for q in queries for n, penalty in known[ind.code].items())
        if unit and ind.unit and unit != ind.unit:
            best -= 25  # 户 vs 人, 元 vs 万元: never the same column
        if department and ind.department == department:
            best += 1
        scores[ind.code] = best
    ranked = sorted(scores.items(), key=lambda kv: -kv[1])
    code, score = ranked[0]
    second = ranked[1][1] if len(ranked) > 1 else 0
    score = min(score, 100.0)
    if score >= MATCH_AT and score - second >= MARGIN:
        return code, score, code
    return None, score, code


def suggest(path: str, label: str, unit: str) -> dict[str, Any] | None:
    """A computation for a new indicator when the label names a tag (残疾人 → count persons with 残疾)."""
    text = _norm(path.replace("/", "") + label)
    best = None
    for tag in tag_types().values():
        name = _norm(tag.name)
        if name and name in text and (best is None or len(name) > len(_norm(best.name))):
            best = tag
    if best is None:
        return None
    households = unit == "户" or text.endswith("户") or text.endswith("户数")
    if households:
        if best.subject != "household":
            return None  # households holding a person tag: not inferred
        return {"aggregate": "count", "subject": "households", "where": {"status": "1", "tags": [best.code]}}
    key = "household_tags" if best.subject == "household" else "tags"
    return {"aggregate": "count", "subject": "persons", "where": {"alive": True, key: [best.code]}}


# ---------------------------------------------------------------------------------- the draft


def check_department(department: str | None) -> None:
    """A department code given by the user must be one of the code list's (mca, cdpf, …)."""
    if not department:
        return
    from app.registry.loader import seed_context

    known = seed_context().departments
    if department not in known:
        raise ValidationFailed(Issue("unknown-department", f"部门代码“{department}”不存在", {"field": "department"},
                                     hint="可选：" + "、".join(f"{c}（{n}）" for c, n in known.items())))


def draft_form(data: bytes, file_name: str, indicators: list[IndicatorInfo], department: str | None = None) -> Draft:
    raw, merged, sheet_name = read_form(data, file_name)
    width = max((len(r) for r in raw), default=0)
    raw = [list(r) + [None] * (width - len(r)) for r in raw]
    grid = fill_merged(raw, merged)
    statutory, unit_line, skip = _statutory_cells(grid)
    top, bottom = _find_band(grid, raw, merged, skip)
    title = next((t for r in range(top) if r not in skip for t in [_single(grid[r])] if t), "")

    levels: dict[int, list[str]] = {}
    for c in range(width):
        lv: list[str] = []
        for r in range(top, bottom + 1):
            t = cell_text(grid[r][c])
            if t and (not lv or lv[-1] != t):
                lv.append(t)
        if lv:
            levels[c] = lv
    # 栏次 / unit rows right below the band
    r = bottom + 1
    column_numbers = False
    units: dict[int, str] = {}
    while r < len(raw) and r not in skip:
        texts = [t for _c, t in _texts(raw[r])]
        if _is_numbering(texts):
            column_numbers = True
        elif _is_unit_row(texts):
            units = {c: t.strip("（()）") for c, t in _texts(raw[r])}
        else:
            break
        r += 1
    first_data = r

    label_cols: list[int] = []
    show_code = False
    kind = "area_summary"
    columns: list[DraftColumn] = []
    roster_fields = sum(1 for lv in levels.values() if resolve_header("/".join(lv)) in ("person.name", "person.id_number"))
    if roster_fields:
        return _roster(raw, levels, title, statutory, unit_line, sheet_name, column_numbers, department)
    for c, lv in sorted(levels.items()):
        leaf = lv[-1]
        k = header_key(leaf)
        if not columns and (k in {header_key(h) for h in ROW_LABEL_HEADERS + NUMBERING_HEADERS} or c == 0):
            label_cols.append(c)
            continue
        if k in {header_key(h) for h in CODE_HEADERS}:
            show_code = True
            label_cols.append(c)
            continue
        m = UNIT_IN_LABEL.search(leaf)
        unit = m.group(1) if m else units.get(c, "")
        columns.append(DraftColumn(c, "/".join(lv[:-1]), leaf, unit=unit))
    rows_spec, filled, totals = _rows(raw, first_data, label_cols[:1] or [0], [col.index for col in columns], levels)
    for col in columns:
        col.file_total = totals.get(col.index)
    if kind == "area_summary":
        known = {ind.code: _known_as(ind) for ind in indicators}
        for col in columns:
            col.indicator, col.score, col.candidate = match_column(col.path, col.label, col.unit, indicators, department,
                                                                   known)
            if col.indicator is None:
                col.suggestion = suggest(col.path, col.label, col.unit)
    by_code = {i.code: i for i in indicators}
    if not department:
        counts: dict[str, int] = {}
        for col in columns:
            if col.indicator:
                d = by_code[col.indicator].department
                counts[d] = counts.get(d, 0) + 1
        department = max(counts, key=lambda d: counts[d]) if counts else ""
    frequency = next((f for w, f in FREQ_WORDS if w in title), "monthly")
    return Draft(title, kind, statutory, unit_line, rows_spec, columns, filled, department, frequency, column_numbers,
                 sheet_name, show_code)


def roster_field(path: str, label: str, tag_code: str | None) -> str | None:
    """The roster field a roster column shows: by the field's own label, else through the importers'
    synonym dictionary (姓名 / 身份证号码 / 户主 / 低保类别 …); None when neither knows it."""
    key = header_key(_strip_units(label))
    for name, spec in ROSTER_FIELDS.items():
        if header_key(spec.label) == key:
            return name
    canonical = resolve_header("/".join(p for p in (path, label) if p), tag_code=tag_code) or \
        resolve_header(label, tag_code=tag_code)
    if not canonical or canonical == "ignore":
        return None
    entity, _, attr = canonical.partition(".")
    if entity == "person" and attr in ROSTER_FIELDS:
        return attr
    if canonical in ROSTER_FIELDS:
        return canonical
    if canonical == "area.name":
        return "area.village_name"
    if entity == "tag" and tag_code and attr in ("valid_from", "valid_to"):
        return f"tag.{tag_code}.{attr}"
    if entity in tag_types():
        return f"tag.{entity}.{attr}"
    return None


@cache
def _tag_departments() -> dict[str, str]:
    return {t["code"]: t.get("department", "") for t in json.loads(TAG_TYPES_FILE.read_text(encoding="utf-8"))}


def _roster(raw: list[list[Any]], levels: dict[int, list[str]], title: str, statutory: dict[str, str],
            unit_line: str, sheet_name: str, column_numbers: bool, department: str | None) -> Draft:
    tag_code, _exact = detect_tag([title, sheet_name])
    columns = []
    for c, lv in sorted(levels.items()):
        col = DraftColumn(c, "/".join(lv[:-1]), lv[-1])
        col.field = roster_field(col.path, col.label, tag_code)
        col.score = 100.0 if col.field else 0.0
        columns.append(col)
    owner = tag_types()[tag_code] if tag_code else None
    frequency = next((f for w, f in FREQ_WORDS if w in title), "monthly")
    dept = department or _tag_departments().get(tag_code or "", "")
    return Draft(title, "roster", statutory, unit_line, {}, columns, False, dept, frequency, column_numbers,
                 sheet_name, tag=tag_code if owner else None)


def _single(row: list[Any]) -> str:
    distinct = list(dict.fromkeys(t for _c, t in _texts(row)))
    return distinct[0] if len(distinct) == 1 else ""


def _rows(raw: list[list[Any]], first: int, label_cols: list[int], value_cols: list[int],
          levels: dict[int, list[str]]) -> tuple[dict[str, Any], bool, dict[int, float]]:
    """Row level, subtotals and total position from the row labels; whether the copy is filled; its totals."""
    classifier = RowClassifier({c: "/".join(lv) for c, lv in levels.items()}, {})
    lc = label_cols[0]
    order: list[str] = []  # total | township | village
    total_values: dict[int, float] = {}
    sums: dict[int, float] = {}
    filled = False
    for row in raw[first:]:
        kind = classifier.kind(row)
        if kind in ("blank", "note", "header"):
            if kind == "note":
                break
            continue
        label = cell_text(row[lc]) if lc < len(row) else ""
        nums = {c: float(cell_text(row[c]).replace(",", "")) for c in value_cols if c < len(row) and _is_number(row[c])}
        filled = filled or bool(nums)
        key = header_key(label)
        if key.startswith(("合计", "总计", "全县", "全乡", "全镇")) or kind == "total" and "小计" not in key:
            order.append("total")
            if not total_values:
                total_values = nums
        elif key.endswith("小计") or key.endswith(TOWNSHIP_END):
            order.append("township")
        elif key.endswith(VILLAGE_END):
            order.append("village")
            for c, v in nums.items():
                sums[c] = sums.get(c, 0.0) + v
    level = "village" if "village" in order or "township" not in order else "township"
    subtotals = level == "village" and "township" in order
    total = "none"
    if "total" in order:
        others = [i for i, k in enumerate(order) if k != "total"]
        total = "top" if not others or order.index("total") < others[0] else "bottom"
    elif not order:
        total = "top"
    return {"level": level, "subtotals": subtotals, "total": total}, filled, (total_values or sums) if filled else {}


# ---------------------------------------------------------------------------------- YAML


def to_yaml(draft: Draft, report_id: str) -> str:
    """The draft as a projection file; unmatched leaves carry ``new_indicator`` (a warning when checked)."""
    tree: list[dict[str, Any]] = []
    for col in draft.columns:
        groups = [g for g in col.path.split("/") if g] if col.path else []
        siblings = tree
        for g in groups:
            node = next((n for n in siblings if n.get("label") == g and "children" in n), None) if siblings and siblings[-1].get("label") == g else None
            if node is None:
                node = {"label": g, "children": []}
                siblings.append(node)
            siblings = node["children"]
        leaf: dict[str, Any] = {"label": col.label}
        if col.field:
            leaf["field"] = col.field
        elif draft.kind == "roster":
            leaf["new_indicator"] = {"name": col.label}
        elif col.indicator:
            leaf["indicator"] = col.indicator
        else:
            new: dict[str, Any] = {"name": col.wanted_name}
            if col.unit:
                new["unit"] = col.unit
            if col.suggestion:
                new["suggested"] = col.suggestion
            leaf["new_indicator"] = new
        siblings.append(leaf)
    doc: dict[str, Any] = {"id": report_id, "version": 1, "title": draft.title or report_id,
                           "department": draft.department or "stats", "frequency": draft.frequency, "kind": draft.kind}
    if draft.statutory:
        doc["statutory"] = dict(draft.statutory)
    if draft.unit_line:
        doc["unit_line"] = draft.unit_line
    if draft.kind == "roster":
        doc["subject"] = "persons"
        where: dict[str, Any] = {"alive": True}
        if draft.tag:
            where["household_tags" if tag_types()[draft.tag].subject == "household" else "tags"] = [draft.tag]
        doc["where"] = where
    else:
        doc["rows"] = dict(draft.rows, **({"show_code": True} if draft.show_code else {}))
    doc["column_numbers"] = draft.column_numbers
    doc["columns"] = tree
    head = "# 由部门报表反向映射生成的草稿：含 new_indicator 的列尚未匹配指标（需新建指标）\n"
    return head + yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=1000)


def draft_id(draft: Draft, file_name: str) -> str:
    """An id for the draft: the 表号's letters and digits when it has some, else the file name's."""
    for text in (draft.statutory.get("表号", ""), file_name.rsplit(".", 1)[0]):
        ascii_part = re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_").lower()
        if ascii_part and ascii_part[0].isalpha():
            return f"draft_{ascii_part}"[:60]
        if ascii_part:
            return f"draft_{ascii_part}"[:60]
    return "draft_form"

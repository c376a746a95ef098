"""parse_file: one legacy file -> proposed canonical records with per-cell issues (no database).

Per sheet: find the header band, map columns (synonyms, then the mapping file), read data rows
lazily (skipping blank rows, total rows, notes and repeated headers; stopping after a long run of
blank rows), fill merged household blocks down, normalise and validate each mapped cell, and build
person / household / tag / organisation records. Then deduplicate persons by ID number across the
whole file. Never raises for bad input.
"""

from __future__ import annotations

import gc
import hashlib
import operator
import re
from collections.abc import Callable, Iterator
from datetime import date
from itertools import chain, islice
from pathlib import Path
from typing import Any

from app import clock
from app.issues import Issue, ValidationFailed
from importers import header as hdr
from importers.book import Book, Sheet, col_letter
from importers.mapping import Mapping, SheetMapping, mapping_from_data
from importers.model import ParsedFile, Record, SourceRow
from importers.normalise import DIRTY_TEXT, Normaliser, check_id
from importers.read import open_workbook
from importers.records import HEAD, HOUSEHOLD_VALUE_FIELDS, PERSON_VALUE_FIELDS, RecordBuilder, same_value
from importers.synonyms import HOUSEHOLD_FIELDS, detect_tag, fields, tag_types

BLANK_RUN_STOP = 1000  # this many blank rows in a row end a sheet (formatted-but-empty tails)
PROGRESS_EVERY = 5000
_VILLAGE_SHEET = re.compile(r"[^\s\d]{1,20}(?:村|社区|居委会|村委会)")


def parse_file(
    source: Path | bytes,
    *,
    file_name: str,
    code_lists: dict[str, dict[str, str]],
    mapping: Mapping | dict[str, Any] | None = None,
    max_bytes: int | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    today: date | None = None,
) -> ParsedFile:
    """Read one file into records; file-level problems go to ``ParsedFile.issues``, cell problems to
    ``Record.issues``. ``today`` (default: the real date) bounds dates ("not in the future")."""
    if isinstance(mapping, dict):  # the mapping file's content as data (e.g. from a web form)
        try:
            mapping = mapping_from_data(mapping)
        except ValidationFailed as exc:
            return ParsedFile(file_name=file_name, sha256="", issues=exc.issues)
    too_big = _too_big(source, max_bytes, file_name)
    if too_big is not None:
        return ParsedFile(file_name=file_name, sha256="", issues=[too_big])
    try:
        data = source if isinstance(source, bytes) else Path(source).read_bytes()
    except OSError as exc:
        return ParsedFile(file_name=file_name, sha256="", issues=[Issue("file-unreadable", f"无法读取文件：{exc}", {"file": file_name})])
    parsed = ParsedFile(file_name=file_name, sha256=hashlib.sha256(data).hexdigest())
    book = open_workbook(data, file_name)
    del data
    parsed.issues += book.issues
    if book.issues:
        return parsed
    # Hundreds of thousands of small dicts and records, none of them cyclic garbage: the cyclic
    # collector would re-scan them all again and again (measured: a third of the time).
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        _Parser(parsed, book, code_lists, mapping or Mapping(), on_progress, today or clock.today()).run()
    finally:
        if gc_was_enabled:
            gc.enable()
    return parsed


def _too_big(source: Path | bytes, max_bytes: int | None, file_name: str) -> Issue | None:
    if max_bytes is None:
        return None
    try:
        size = len(source) if isinstance(source, bytes) else Path(source).stat().st_size
    except OSError:
        return None
    if size <= max_bytes:
        return None
    return Issue("file-too-large", f"文件过大（{_mb(size)}），超过上传上限{_mb(max_bytes)}", {"file": file_name},
                 hint="请把台账按村或按工作表拆分成几个文件分别导入")


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.1f}MB" if n >= 1024 * 1024 else f"{n}字节"


#: The facts a record stands on (issue 15): an error in one of these refuses the record; an error in
#: any other field drops that field with a warning and imports the rest. A tag's attributes are
#: handled by the tag (a missing required one is kept as 待补充).
KEY_FIELDS = frozenset({
    "person.id_number", "person.name", "person.birth_date", "person.sex", "person.living_status", "person.status_date",
    "household.number", "household.head_id_number", "organisation.uscc", "organisation.name", "area.code", "area.name",
    "tag.valid_from", "tag.valid_to",
})


def _dropped(issue: Issue) -> Issue:
    return Issue(issue.code, f"{issue.message}，此项未导入（其余照常导入）", issue.location, "warning", issue.hint)


class _Sheet:
    """Per-sheet state while reading rows."""

    def __init__(self, sheet: Sheet, band: hdr.HeaderBand, settings: SheetMapping, tag_code: str | None, tag_explicit: bool):
        self.sheet = sheet
        self.band = band
        self.settings = settings
        self.fields = band.fields  # col -> field
        self.by_field = {f: c for c, f in band.fields.items()}
        self.letters = {f: col_letter(c) for c, f in band.fields.items()}
        self.tag_code = tag_code
        self.tag_explicit = tag_explicit
        mapped = set(self.by_field)
        self.is_person = "person.id_number" in mapped or "person.name" in mapped
        self.is_org = not self.is_person and any(f.startswith("organisation.") for f in mapped)
        self.is_household = not self.is_person and not self.is_org and bool(
            {"household.number", "household.head_id_number"} & mapped)
        # household-level fields, filled down over a household's member rows
        tag = tag_types().get(tag_code) if tag_code else None
        block = set(HOUSEHOLD_FIELDS)
        if tag is not None and tag.subject == "household":
            block |= {f for f in mapped if f.startswith(tag.code + ".") or f.startswith("tag.")}
        self.block_fields = [f for f in mapped if f in block]
        self.block_key = next((f for f in ("household.number", "household.head_id_number", "household.head_name") if f in mapped), None)
        self.block: dict[str, Any] | None = None
        self.columns = [(c, band.labels[c], band.fields.get(c)) for c in sorted(band.labels)]
        self.label_list = [label for _c, label, _f in self.columns]
        self.mapped_labels = [(label, f) for _c, label, f in self.columns if f is not None]
        cols = [c for c, _l, _f in self.columns]
        self.getter = operator.itemgetter(*cols) if len(cols) > 1 else None
        self.min_width = max(cols) + 1 if cols else 0
        defaults = set(settings.defaults)
        self.person_pairs = [("person." + n, n) for n in PERSON_VALUE_FIELDS if "person." + n in mapped | defaults]
        self.household_pairs = [("household." + n, n) for n in HOUSEHOLD_VALUE_FIELDS if "household." + n in mapped | defaults]
        self.tag_columns = {f.split(".", 1)[0] for f in mapped if f.split(".", 1)[0] in tag_types()}
        self.formula_rows: dict[int, list[int]] = {}
        for r, c in sheet.formula_no_value:
            self.formula_rows.setdefault(r, []).append(c)
        # merged ranges in the data area: a range's top-left value, then per row the labelled cells it covers
        self.merge_tops: dict[int, list[int]] = {}  # row -> columns where a range starts
        self.cover: dict[int, list[tuple[str, tuple[int, int]]]] = {}  # row -> [(label, top-left)]
        self.merged_values: dict[tuple[int, int], Any] = {}
        data_top = band.bottom + 1
        # households without a 户号 (issue 15): a merged block over a household-level column, or the
        # rows under one 户主, become one household keyed by the head's ID number (see _Parser.group_row)
        self.by_head = self.is_person and "household.number" not in mapped and "household.number" not in defaults
        self.vertical: dict[int, int] = {}  # data row -> top row of the multi-row merge it belongs to
        if self.by_head:
            for r0, c0, r1, c1 in sheet.merged:
                if r1 > r0 and r0 >= data_top and any(
                        c in band.labels and not (band.fields.get(c) or "").startswith("person.") for c in range(c0, c1 + 1)):
                    for r in range(r0, r1 + 1):
                        self.vertical.setdefault(r, r0)
        self.hh_block: tuple[str, Any] | None = None
        self.hh_rows: list[tuple[list[Record], dict[str, Any]]] = []
        for r0, c0, r1, c1 in sheet.merged:
            if r0 < data_top or (r0 == r1 and c0 == c1):
                continue
            covered = [(r, c) for r in range(r0, r1 + 1) for c in range(c0, c1 + 1) if c in band.labels and (r, c) != (r0, c0)]
            if covered:
                self.merge_tops.setdefault(r0, []).append(c0)
                for r, c in covered:
                    self.cover.setdefault(r, []).append((band.labels[c], (r0, c0)))


class _Parser(RecordBuilder):
    def __init__(self, parsed: ParsedFile, book: Book, code_lists, mapping: Mapping, on_progress, today: date):
        super().__init__()
        self.parsed = parsed
        self.book = book
        self.norm = Normaliser(code_lists, today)
        self.mapping = mapping
        self.on_progress = on_progress
        self.today = today
        self.specs = fields()
        self.total = sum(s.height for s in book.sheets) or 1
        self.done = 0
        self.skipped: dict[str, int] = {"blank": 0, "total": 0, "note": 0, "header": 0}

    def file_issue(self, code: str, message: str, severity: str = "error", hint: str | None = None, **where: Any) -> None:
        self.parsed.issues.append(Issue(code, message, {"file": self.parsed.file_name, **where}, severity, hint))  # type: ignore[arg-type]

    # -- file ------------------------------------------------------------------------------------

    def run(self) -> None:
        visible = [s for s in self.book.sheets if not s.hidden]
        hidden = [s.name for s in self.book.sheets if s.hidden]
        if hidden:
            self.file_issue("hidden-sheets", f"隐藏的工作表未导入：{'、'.join(hidden)}", "warning")
        if not visible:
            self.file_issue("no-sheets", "工作簿中没有可见的工作表", hint="请确认上传的是正确的台账文件")
            return
        found = False
        for sheet in visible:
            found = self.read_sheet(sheet) or found
        if not found:
            self.file_issue("no-header", "没有找到可识别的表头：至少要有两列能认出是哪个字段（如“姓名”“身份证号”）",
                            hint="表头文字请用常见写法，或提供映射文件（--mapping）指明各列对应的字段")
            return
        self.dedupe_persons()
        self.refuse_households_of_refused_heads()
        self.parsed.skipped = dict(self.skipped)
        if self.on_progress:
            self.on_progress(self.total, self.total)

    # -- sheet -----------------------------------------------------------------------------------

    def read_sheet(self, sheet: Sheet) -> bool:
        settings = self.mapping.for_sheet(sheet.name)
        if settings.skip:
            return False
        rows: Iterator[list[Any]] = sheet.rows
        window = list(islice(rows, hdr.WINDOW))
        if not any(any(v not in (None, "") for v in r) for r in window):
            if window or sheet.height:
                self.file_issue("empty-sheet", f"工作表“{sheet.name}”前{hdr.WINDOW}行都是空的，已跳过", "warning", sheet=sheet.name)
            else:
                self.file_issue("empty-sheet", f"工作表“{sheet.name}”是空的", "warning", sheet=sheet.name)
            return False
        grid = hdr.fill_merged(window, sheet.merged)
        tag_code = settings.tag
        tag_explicit = tag_code is not None
        if tag_code is None:
            tag_code, tag_explicit = detect_tag([sheet.name, *hdr.titles_of(grid, min(len(grid), 6))])
        band = hdr.find_header(window, sheet.merged, tag_code=tag_code, overrides=settings.columns, rows=settings.header_rows)
        if band is None:
            self.file_issue("no-header-sheet", f"工作表“{sheet.name}”没有找到可识别的表头，已跳过", "warning", sheet=sheet.name,
                            hint="表头文字请用常见写法，或在映射文件中写明 header_rows 和 columns")
            return False
        if tag_code is None:  # a tag ledger recognised by its attribute columns (残疾类别 …)
            codes = {f.split(".", 1)[0] for f in band.fields.values() if f.split(".", 1)[0] in tag_types()}
            if len(codes) == 1:
                tag_code = codes.pop()
        st = _Sheet(sheet, band, settings, tag_code, tag_explicit)
        st.plan = [(label, f, spec, self.norm.cache_for(spec), (spec.max_length or 10**6) if spec.kind in ("name", "text", "key") else 0)
                   for label, f in st.mapped_labels for spec in [self.specs[f]]]
        if not (st.is_person or st.is_org or st.is_household):
            self.file_issue("no-entity", f"工作表“{sheet.name}”的表头中没有身份证号、姓名、户号或单位名称列，无法导入，已跳过",
                            "warning", sheet=sheet.name, hint="已识别的列：" + "、".join(band.labels[c] for c in band.fields))
            return False
        self.parsed.sheets.append(sheet.name)
        self.parsed.mapping[sheet.name] = {band.labels[c]: f for c, f in band.fields.items()}
        if band.unknown:
            self.file_issue("unknown-columns", f"工作表“{sheet.name}”中这些列没有识别，未导入：{'、'.join(band.unknown)}", "warning",
                            sheet=sheet.name, hint="如需导入，请在映射文件的 columns 中写明对应字段")
        for label, f in band.duplicates:
            self.file_issue("duplicate-column", f"工作表“{sheet.name}”的列“{label}”与前面的列都对应字段“{self.specs[f].label}”，只导入前一列",
                            "warning", sheet=sheet.name)
        self.defaults = self.normalise_defaults(st)
        if self.defaults is None:
            return True
        self.skipped["header"] += band.bottom - band.top + 1 + band.skip_after
        start = band.bottom + 1 + band.skip_after
        data_rows = chain(window[start:], rows)
        blank_run = 0
        classify = hdr.RowClassifier(band.labels, band.fields).kind
        for r, row in enumerate(data_rows, start=start):
            self.done += 1
            if self.on_progress and self.done % PROGRESS_EVERY == 0:
                self.on_progress(self.done, self.total)
            kind = classify(row)
            if kind == "blank":
                blank_run += 1
                self.skipped["blank"] += 1
                if blank_run >= BLANK_RUN_STOP:
                    self.file_issue("blank-tail", f"工作表“{sheet.name}”从第{r - blank_run + 2}行起连续{BLANK_RUN_STOP}行为空，其后内容未读取",
                                    "warning", sheet=sheet.name)
                    break
                continue
            blank_run = 0
            if kind != "data":
                self.skipped[kind] += 1
                continue
            self.parsed.rows_read += 1
            self.read_row(st, r, row)
        if st.by_head:
            self.close_block(st)
        if sheet.read_errors:
            self.file_issue("csv-broken", "CSV文件格式有误：" + "；".join(sheet.read_errors), sheet=sheet.name,
                            hint="可能有未配对的引号；请在Excel中打开后另存为CSV再导入")
        return True

    def normalise_defaults(self, st: _Sheet) -> dict[str, Any] | None:
        out: dict[str, Any] = {}
        bad = False
        for name, raw in st.settings.defaults.items():
            value, issue = self.norm.cell(self.specs[name], raw)
            if issue is not None and issue.severity == "error":
                self.file_issue("mapping-default", f"映射文件中 defaults.{name} 的值有误：{issue.message}", hint=issue.hint,
                                sheet=st.sheet.name)
                bad = True
            else:
                out[name] = value
        # one sheet per village: a sheet named like a village names the village of its rows
        if ("area.code" not in st.by_field and "area.name" not in st.by_field and "area.code" not in out
                and "area.name" not in out and _VILLAGE_SHEET.fullmatch(st.sheet.name.strip())):
            out["area.name"] = st.sheet.name.strip()
        return None if bad else out

    # -- row -------------------------------------------------------------------------------------

    def read_row(self, st: _Sheet, r: int, row: list[Any]) -> None:
        width = len(row)
        if st.getter is not None and width >= st.min_width:
            raw: dict[str, Any] = {label: (None if v == "" else v) for label, v in zip(st.label_list, st.getter(row), strict=True)}
        else:
            raw = {label: (None if c >= width or row[c] == "" else row[c]) for c, label, _f in st.columns}
        if st.cover:
            for c in st.merge_tops.get(r, ()):
                st.merged_values[(r, c)] = None if c >= width or row[c] == "" else row[c]
            for label, top in st.cover.get(r, ()):
                raw[label] = st.merged_values.get(top)
        cells: dict[str, Any] = {f: v for label, f in st.mapped_labels if (v := raw[label]) is not None}
        self.fill_block(st, cells, raw)
        source = SourceRow(st.sheet.name, r + 1, raw, st.letters)  # columns shared by the sheet's rows: do not mutate
        issues: dict[str, list[Issue]] = {}
        values: dict[str, Any] = {}
        if st.formula_rows:
            for c in st.formula_rows.get(r, ()):
                f = st.fields.get(c)
                if f is not None:
                    cells.pop(f, None)
                    issue = Issue("formula-no-value", "该单元格是公式，但文件中没有保存计算结果", {}, "error",
                                  "请在Excel中打开文件、重新计算（F9）并保存后再导入，或把公式改为数值")
                    if f not in KEY_FIELDS:
                        issue = _dropped(issue)
                    issues.setdefault(self.specs[f].entity, []).append(self.cell_issue(st, r, f, issue))
        cell = self.norm.cell
        dirty = DIRTY_TEXT.search
        for label, f, spec, cache, limit in st.plan:
            v = raw[label]
            if v is None or f not in cells:  # blank, or a formula without a value
                continue
            if cache is not None:
                hit = cache.get(v if v.__class__ is str else (v.__class__, v))
                value, issue = hit if hit is not None else cell(spec, v)
            elif limit and v.__class__ is str and len(v) <= limit and not dirty(v):
                values[f] = v  # clean text: nothing to normalise
                continue
            elif spec.kind == "idcard":
                values[f] = v  # checked with birth date and sex below
                continue
            else:
                value, issue = cell(spec, v)
            if issue is not None:
                if issue.severity == "error" and f not in KEY_FIELDS:
                    issue = _dropped(issue)  # an optional field or a tag attribute: imported without it
                    value = None
                issues.setdefault(spec.entity, []).append(self.cell_issue(st, r, f, issue))
            if value is not None:
                values[f] = value
        for f, v in self.defaults.items():
            values.setdefault(f, v)

        records: list[Record] = []
        if st.is_person:
            records += self.person_records(st, r, source, values, issues)
        elif st.is_household:
            hh = self.household_record(st, r, source, values, issues, require_number=True)
            if hh is not None:
                records.append(hh)
            records += self.tag_records(st, r, source, values, issues, person_id=None)
        elif st.is_org:
            records.append(self.org_record(st, r, source, values, issues))
        # a tag goes with its row's person or household: when that is refused, so is the tag (a refused
        # tag, on the other hand, does not refuse the person)
        if any(rec.issues for rec in records) and any(not rec.ok for rec in records if rec.entity != "tag"):
            for rec in records:
                if rec.ok and rec.entity == "tag":
                    rec.issues.append(Issue("row-has-errors", "同一行的其他数据有错误，整行暂不导入",
                                            {"sheet": st.sheet.name, "row": r + 1}, "error"))
        if st.by_head:
            self.group_row(st, r, records, values)
        else:
            self.parsed.records += records

    def refuse_households_of_refused_heads(self) -> None:
        """A household is refused when (and only when) its head is: a new household without its head
        would be a household nobody heads."""
        refused = {str(r.values["household_number"]): r for r in self.parsed.records
                   if r.entity == "person" and not r.ok and r.values.get("relation") == HEAD and r.values.get("household_number")}
        if not refused:
            return
        for rec in self.parsed.records:
            head = refused.get(rec.key) if rec.entity == "household" else None
            if head is not None and not any(i.code == "head-rejected" for i in rec.issues):
                rec.issues.append(Issue("head-rejected", f"户主（工作表“{head.source.sheet}”第{head.source.row}行）有错误未导入，"
                                                         f"户{rec.key}暂不导入", {"sheet": rec.source.sheet, "row": rec.source.row},
                                        "error", "改正户主的错误后重新导入即可"))

    # -- households without a 户号 -------------------------------------------------------------

    def group_row(self, st: _Sheet, r: int, records: list[Record], values: dict[str, Any]) -> None:
        """Which household block the row belongs to: the 户主身份证号 column, a multi-row merge over a
        household-level column (序号, 户主姓名, 低保类别 …), or the rows from one 户主 to the next."""
        person = records[0] if records and records[0].entity == "person" else None
        block: tuple[str, Any] | None = None
        head_cell = values.get("household.head_id_number")
        if head_cell is not None:
            number = check_id(head_cell, today=self.today)[0]
            block = ("id", number) if number else None
        if block is None:
            if r in st.vertical:
                block = ("merge", st.vertical[r])
            elif person is not None and person.values.get("relation") == HEAD:
                block = ("head", r)
            elif st.hh_block is not None and st.hh_block[0] == "head":
                block = st.hh_block
        if block != st.hh_block:
            self.close_block(st)
            st.hh_block = block
        if block is None:
            self.parsed.records += records
        else:
            st.hh_rows.append((records, values))

    def close_block(self, st: _Sheet) -> None:
        rows, st.hh_rows = st.hh_rows, []
        if not rows:
            return
        persons = [recs[0] for recs, _v in rows if recs and recs[0].entity == "person"]
        kind, key = st.hh_block or ("", None)
        head = next((p for p in persons if kind == "id" and p.key == key), None)
        head = head or next((p for p in persons if p.values.get("relation") == HEAD), None)
        if head is None:
            head_name = next((v.get("household.head_name") for _r, v in rows if v.get("household.head_name")), None)
            head = next((p for p in persons if head_name and p.values.get("name") == head_name), None)
        head_id = head.key if head is not None else (key if kind == "id" else None)
        first, last = rows[0][0][0].source.row, rows[-1][0][0].source.row
        span = f"第{first}行" if first == last else f"第{first}–{last}行"
        if head_id is None:
            if persons:
                persons[0].issues.append(Issue("household-no-head", f"这一户（{span}）没有标明户主，未建立户，成员按个人导入",
                                               {"sheet": st.sheet.name, "row": first}, "warning",
                                               "请在“与户主关系”列标明户主，或增加户号列"))
            for recs, _v in rows:
                self.parsed.records += recs
            return
        head_ok = head is None or head.ok
        head_values = next((v for recs, v in rows if head is not None and recs[0] is head), rows[0][1])
        hv: dict[str, Any] = {"head_id_number": head_id}
        for f, name in st.household_pairs:
            if head_values.get(f) is not None and name != "number":
                hv[name] = head_values[f]
        hv["head_id_number"] = head_id
        for k in ("area.code", "area.name"):
            if head_values.get(k) is not None:
                hv["area_code" if k == "area.code" else "area_name"] = head_values[k]
        hh_issues: list[Issue] = []
        if not head_ok:
            assert head is not None
            hh_issues.append(Issue("head-rejected", f"户主（第{head.source.row}行）有错误未导入，这一户（{span}）暂不建立",
                                   {"sheet": st.sheet.name, "row": head.source.row}, "error"))
        source = head.source if head is not None else rows[0][0][0].source
        household = Record("household", head_id, hv, source, hh_issues)
        kept: dict[str, Record] = {}  # household tag code -> the one tag of this household
        for recs, _v in rows:
            for rec in list(recs[1:]):
                if rec.entity != "tag" or rec.values.get("subject") != "household":
                    continue
                code = rec.values["code"]
                if self.tags.get(rec.key) is rec:
                    del self.tags[rec.key]
                if code in kept:
                    recs.remove(rec)
                    continue
                kept[code] = rec
                rec.values.pop("household_number", None)
                rec.values["head_id_number"] = head_id
                rec.key = f"{code}:{head_id}"
                self.tags.setdefault(rec.key, rec)
        for p in persons:
            if head_ok:
                p.values["household_number"] = head_id
            elif p is not head:
                p.issues.append(Issue("household-not-created", f"户主（第{head.source.row}行）有错误，这一户暂未建立，本人先按个人导入",
                                      {"sheet": st.sheet.name, "row": p.source.row}, "warning"))
        for recs, _v in rows:
            self.parsed.records += recs
        self.parsed.records.append(household)

    def fill_block(self, st: _Sheet, cells: dict[str, Any], raw: dict[str, Any]) -> None:
        """Household columns left blank on a member row take the household's values from the row above."""
        if st.block_key is None or not st.block_fields:
            return
        key = cells.get(st.block_key)
        block = st.block
        if key is None:
            fill = block is not None and ("person.id_number" in cells or "person.name" in cells)
        elif block is not None and same_value(key, block.get(st.block_key)):
            fill = True
        else:
            st.block = {f: cells[f] for f in st.block_fields if f in cells}
            fill = False
        if fill and block is not None:
            for f in st.block_fields:
                if f not in cells and f in block:
                    cells[f] = block[f]
                    raw[st.band.labels[st.by_field[f]]] = block[f]

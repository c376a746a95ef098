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
from collections.abc import Callable, Iterator
from datetime import date
from itertools import chain, islice
from pathlib import Path
from typing import Any

from app.issues import Issue, ValidationFailed
from importers import header as hdr
from importers.mapping import Mapping, SheetMapping, mapping_from_data
from importers.model import ParsedFile, Record, SourceRow
from importers.normalise import MonthDate, Normaliser, check_id, plain_date, text_of
from importers.read import Book, Sheet, col_letter, open_workbook
from importers.synonyms import HOUSEHOLD_FIELDS, detect_tag, fields, tag_types

BLANK_RUN_STOP = 1000  # this many blank rows in a row end a sheet (formatted-but-empty tails)
PROGRESS_EVERY = 5000
HEAD = "02"  # relation code of the household head
ALIVE = "1"

_PERSON_VALUE_FIELDS = ("name", "sex", "birth_date", "ethnic_group", "relation", "marital_status", "education",
                        "political_status", "residence_type", "living_status", "status_date", "moved_to", "phone")
_HOUSEHOLD_VALUE_FIELDS = ("number", "head_name", "head_id_number", "address", "kind")
_ORG_VALUE_FIELDS = ("uscc", "name", "kind", "industry", "employees")


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
        _Parser(parsed, book, code_lists, mapping or Mapping(), on_progress, today or date.today()).run()
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
        self.person_pairs = [("person." + n, n) for n in _PERSON_VALUE_FIELDS if "person." + n in mapped | defaults]
        self.household_pairs = [("household." + n, n) for n in _HOUSEHOLD_VALUE_FIELDS if "household." + n in mapped | defaults]
        self.tag_columns = {f.split(".", 1)[0] for f in mapped if f.split(".", 1)[0] in tag_types()}
        self.formula_rows: dict[int, list[int]] = {}
        for r, c in sheet.formula_no_value:
            self.formula_rows.setdefault(r, []).append(c)
        # merged ranges in the data area: (row, col) -> top-left, for mapped columns
        self.cover: dict[tuple[int, int], tuple[int, int]] = {}
        self.cover_rows: set[int] = set()
        self.merged_values: dict[tuple[int, int], Any] = {}
        data_top = band.bottom + 1
        mapped_cols = set(band.labels)
        for r0, c0, r1, c1 in sheet.merged:
            if r1 < data_top or r0 < data_top or (r0 == r1 and c0 == c1):
                continue
            for c in range(c0, c1 + 1):
                if c in mapped_cols:
                    for r in range(r0, r1 + 1):
                        self.cover[(r, c)] = (r0, c0)
                        self.cover_rows.add(r)


class _Parser:
    def __init__(self, parsed: ParsedFile, book: Book, code_lists, mapping: Mapping, on_progress, today: date):
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
        self.households: dict[str, Record] = {}
        self.tags: dict[str, Record] = {}

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
        st.plan = [(label, f, self.specs[f], self.norm.cache_for(self.specs[f])) for label, f in st.mapped_labels]
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
        return None if bad else out

    # -- row -------------------------------------------------------------------------------------

    def read_row(self, st: _Sheet, r: int, row: list[Any]) -> None:
        width = len(row)
        cover = st.cover
        if st.getter is not None and width >= st.min_width and not (cover and r in st.cover_rows):
            raw: dict[str, Any] = {label: (None if v == "" else v) for label, v in zip(st.label_list, st.getter(row), strict=True)}
        else:
            raw = {}
            for c, label, _f in st.columns:
                v = row[c] if c < width else None
                if cover:
                    top = cover.get((r, c))
                    if top is not None:
                        if top[0] == r and top[1] == c:
                            st.merged_values[top] = v
                        else:
                            v = st.merged_values.get(top, v)
                raw[label] = None if v == "" else v
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
                    issues.setdefault(self.specs[f].entity, []).append(self.cell_issue(
                        st, r, f, Issue("formula-no-value", "该单元格是公式，但文件中没有保存计算结果", {}, "error",
                                        "请在Excel中打开文件、重新计算（F9）并保存后再导入，或把公式改为数值")))
        cell = self.norm.cell
        for label, f, spec, cache in st.plan:
            v = raw[label]
            if v is None or f not in cells:  # blank, or a formula without a value
                continue
            if cache is None:
                if spec.kind == "idcard":
                    values[f] = v  # checked with birth date and sex below
                    continue
                value, issue = cell(spec, v)
            else:
                hit = cache.get(v if v.__class__ is str else (v.__class__, v))
                value, issue = hit if hit is not None else cell(spec, v)
            if issue is not None:
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
        # a row is imported whole or not at all
        if any(rec.issues for rec in records) and any(not rec.ok for rec in records):
            for rec in records:
                if rec.ok:
                    rec.issues.append(Issue("row-has-errors", "同一行的其他数据有错误，整行暂不导入",
                                            {"sheet": st.sheet.name, "row": r + 1}, "error"))
        self.parsed.records += records

    def fill_block(self, st: _Sheet, cells: dict[str, Any], raw: dict[str, Any]) -> None:
        """Household columns left blank on a member row take the household's values from the row above."""
        if st.block_key is None or not st.block_fields:
            return
        key = cells.get(st.block_key)
        block = st.block
        if key is None:
            fill = block is not None and ("person.id_number" in cells or "person.name" in cells)
        elif block is not None and _same(key, block.get(st.block_key)):
            fill = True
        else:
            st.block = {f: cells[f] for f in st.block_fields if f in cells}
            fill = False
        if fill and block is not None:
            for f in st.block_fields:
                if f not in cells and f in block:
                    cells[f] = block[f]
                    raw[st.band.labels[st.by_field[f]]] = block[f]

    def cell_issue(self, st: _Sheet, r: int, f: str, issue: Issue) -> Issue:
        return Issue(issue.code, issue.message, {"sheet": st.sheet.name, "row": r + 1, "column": st.letters.get(f, ""),
                                                 "field": self.specs[f].label}, issue.severity, issue.hint)

    def row_issue(self, st: _Sheet, r: int, f: str | None, code: str, message: str, severity: str = "error",
                  hint: str | None = None) -> Issue:
        where: dict[str, Any] = {"sheet": st.sheet.name, "row": r + 1}
        if f is not None:
            where["column"] = st.letters.get(f, "")
            where["field"] = self.specs[f].label
        return Issue(code, message, where, severity, hint)  # type: ignore[arg-type]

    # -- entities --------------------------------------------------------------------------------

    def person_records(self, st: _Sheet, r: int, source: SourceRow, values: dict[str, Any],
                       issues: dict[str, list[Issue]]) -> list[Record]:
        person_issues = issues.get("person", [])
        pv: dict[str, Any] = {}
        for f, name in st.person_pairs:
            v = values.get(f)
            if v is not None:
                pv[name] = v
        raw_id = values.get("person.id_number")
        id_number: str | None = None
        if raw_id is None:
            if not (person_issues and any(i.location.get("field") == "公民身份号码" for i in person_issues)):
                person_issues.append(self.row_issue(st, r, "person.id_number" if "person.id_number" in st.by_field else None,
                                                    "id-empty", "身份证号码不能为空（导入时用它识别人员）"))
        else:
            number, id_issues, born, sex, upgraded = check_id(raw_id, birth_date=pv.get("birth_date"), sex=pv.get("sex"), today=self.today)
            if id_issues:
                person_issues += [self.cell_issue(st, r, "person.id_number", i) for i in id_issues]
            if number:
                id_number = number
                if isinstance(pv.get("birth_date"), MonthDate) or "birth_date" not in pv:
                    pv["birth_date"] = born
                pv.setdefault("sex", sex)
                if upgraded:
                    person_issues.append(self.row_issue(st, r, "person.id_number", "id-upgraded",
                                                        f"15位身份证号码已升级为18位：{number}", "warning"))
        pv["id_number"] = id_number
        head_name = values.get("household.head_name")
        name = pv.get("name")
        if not name and head_name and pv.get("relation") == HEAD:
            pv["name"] = name = head_name
        # a tag ledger without a name column only names its subjects by ID number
        name_needed = "person.name" in st.by_field or not (st.tag_code and st.tag_explicit)
        if name_needed and not name and not any(i.location.get("field") == "姓名" for i in person_issues):
            person_issues.append(self.row_issue(st, r, "person.name" if "person.name" in st.by_field else None,
                                                "name-empty", "姓名不能为空"))
        if pv.get("living_status", ALIVE) != ALIVE and not pv.get("status_date"):
            person_issues.append(self.row_issue(st, r, "person.living_status", "status-date-required",
                                                "死亡或迁出的人员须填写日期（死亡或迁出日期）"))
        if pv.get("status_date") and pv.get("birth_date") and pv["status_date"] < pv["birth_date"]:
            person_issues.append(self.row_issue(st, r, "person.status_date", "status-before-birth", "死亡或迁出日期早于出生日期"))
        if pv.get("birth_date").__class__ is not date and "birth_date" in pv:
            pv["birth_date"] = plain_date(pv["birth_date"])
        if "status_date" in pv:
            pv["status_date"] = plain_date(pv["status_date"])
        number = values.get("household.number")
        if number is not None:
            pv["household_number"] = number
        for k in ("area.code", "area.name"):
            if values.get(k) is not None:
                pv["area_code" if k == "area.code" else "area_name"] = values[k]
        if head_name and name and head_name != name and pv.get("relation") == HEAD:
            person_issues.append(self.row_issue(st, r, "household.head_name", "head-name-mismatch",
                                                f"本人是户主，但户主姓名写的是“{head_name}”，与姓名“{pv['name']}”不一致", "warning"))
        if issues:
            person_issues += issues.get("area", [])
        records = [Record("person", id_number or "", pv, source, person_issues)]
        hh = self.household_record(st, r, source, values, issues, require_number=False)
        if hh is not None:
            records.append(hh)
        elif issues and issues.get("household"):
            records[0].issues += issues["household"]
        if st.tag_columns or st.tag_explicit:
            records += self.tag_records(st, r, source, values, issues, person_id=id_number, relation=pv.get("relation"))
        return records

    def household_record(self, st: _Sheet, r: int, source: SourceRow, values: dict[str, Any],
                         issues: dict[str, list[Issue]], *, require_number: bool) -> Record | None:
        if not st.household_pairs and "area.code" not in st.by_field and "area.name" not in st.by_field:
            return None
        hh_issues = (list(issues.get("household", [])) + list(issues.get("area", []) if not st.is_person else [])) if issues else []
        hv: dict[str, Any] = {}
        for f, name in st.household_pairs:
            v = values.get(f)
            if v is not None:
                hv[name] = v
        if hv.get("head_id_number") is not None:
            number, id_issues, *_ = check_id(hv["head_id_number"], today=self.today)
            hv["head_id_number"] = number
            hh_issues += [self.cell_issue(st, r, "household.head_id_number", i) for i in id_issues
                          if i.severity == "error"]
        for k in ("area.code", "area.name"):
            if values.get(k) is not None:
                hv["area_code" if k == "area.code" else "area_name"] = values[k]
        number = hv.get("number")
        if number is None:
            if "household.number" in st.by_field and (require_number or hv or st.is_person):
                if not any(i.location.get("field") == "户号" for i in hh_issues):
                    hh_issues.append(self.row_issue(st, r, "household.number", "household-number-empty", "户号不能为空"))
                return Record("household", "", hv, source, hh_issues)
            if require_number and "household.number" not in st.by_field:
                return None  # household ledger keyed by the head's ID: only its tags are imported
            return None
        first = self.households.get(number)
        if first is None:
            rec = Record("household", number, hv, source, hh_issues)
            self.households[number] = rec
            return rec
        # another member row of a household already read: it must agree with the first row
        diffs = [k for k, v in hv.items() if first.values.get(k) is not None and v is not None and first.values[k] != v]
        if diffs:
            k = diffs[0]
            f = _HOUSEHOLD_SPEC[k]
            hh_issues.append(self.row_issue(
                st, r, f, "household-mismatch",
                f"户号{number}在工作表“{first.source.sheet}”第{first.source.row}行的{self.specs[f].label}为"
                f"“{text_of(first.values[k])}”，本行为“{text_of(hv[k])}”，不一致"))
        if hh_issues:
            return Record("household", number, hv, source, hh_issues)
        for k, v in hv.items():
            first.values.setdefault(k, v)
        if st.is_household:  # the same household twice in a household ledger
            return Record("household", number, hv, source, [self.row_issue(
                st, r, "household.number", "duplicate-in-file",
                f"与工作表“{first.source.sheet}”第{first.source.row}行重复（同一户号），按一条处理", "warning")])
        return None

    def tag_records(self, st: _Sheet, r: int, source: SourceRow, values: dict[str, Any], issues: dict[str, list[Issue]],
                    *, person_id: str | None, relation: str | None = None) -> list[Record]:
        out: list[Record] = []
        explicit = st.tag_code if st.tag_code and st.tag_explicit else None
        if not st.tag_columns and explicit is None:
            return out
        codes = {f.split(".", 1)[0] for f in values if f.split(".", 1)[0] in st.tag_columns}
        codes |= {entity for entity in issues if entity in st.tag_columns}  # a tag cell that failed is not lost
        if explicit:
            codes.add(explicit)
        for code in sorted(codes):
            tag = tag_types()[code]
            t_issues = list(issues.get(code, [])) + list(issues.get("tag", []))
            attrs = {a["name"]: plain_date(values[f"{code}.{a['name']}"]) for a in tag.attributes
                     if values.get(f"{code}.{a['name']}") is not None}
            for a in tag.attributes:
                if a.get("required") and a["name"] not in attrs and not any(
                        i.location.get("field") == a.get("label") for i in t_issues):
                    f = f"{code}.{a['name']}"
                    t_issues.append(self.row_issue(st, r, f if f in st.by_field else None, "tag-attr-required",
                                                   f"{tag.name}的{a.get('label', a['name'])}不能为空"))
            tv: dict[str, Any] = {"code": code, "subject": tag.subject, "attrs": attrs,
                                  "valid_from": plain_date(values.get("tag.valid_from")),
                                  "valid_to": plain_date(values.get("tag.valid_to"))}
            if values.get("tag.evidence"):
                tv["evidence"] = values["tag.evidence"]
            if tv["valid_from"] and tv["valid_to"] and tv["valid_to"] < tv["valid_from"]:
                t_issues.append(self.row_issue(st, r, "tag.valid_to", "tag-interval", "结束日期早于开始日期"))
            if tag.subject == "person":
                if not person_id:
                    if st.is_person:
                        continue  # the person record already carries the ID problem
                    t_issues.append(self.row_issue(st, r, None, "tag-no-subject", f"{tag.name}是人员标签，需要身份证号码列"))
                    key = ""
                else:
                    tv["person_id_number"] = person_id
                    key = f"{code}:{person_id}"
            else:
                number = values.get("household.number")
                head_id = values.get("household.head_id_number")
                if head_id is not None:
                    head_id, _issues, *_ = check_id(head_id, today=self.today)
                if number is not None:
                    tv["household_number"] = number
                    key = f"{code}:{number}"
                elif head_id:
                    tv["head_id_number"] = head_id
                    key = f"{code}:{head_id}"
                elif person_id and (relation in (None, HEAD)):
                    tv["head_id_number"] = person_id
                    key = f"{code}:{person_id}"
                elif st.is_person and (person_id is None or relation not in (None, HEAD)):
                    continue  # a member row: the household's tag comes from its head's row
                else:
                    t_issues.append(self.row_issue(st, r, None, "tag-no-subject", f"{tag.name}是户标签，需要户号或户主身份证号码列"))
                    key = ""
            if key and key in self.tags:
                first = self.tags[key]
                if first.values == tv and not t_issues:
                    continue  # the same household's tag on a member row
                if first.values != tv:
                    diff = next((k for k in ("attrs", "valid_from", "valid_to", "evidence") if first.values.get(k) != tv.get(k)), "attrs")
                    t_issues.append(self.row_issue(
                        st, r, None, "tag-mismatch",
                        f"{tag.name}信息与工作表“{first.source.sheet}”第{first.source.row}行不一致"
                        f"（{ {'attrs': '属性', 'valid_from': '开始日期', 'valid_to': '结束日期', 'evidence': '证明材料'}[diff] }）"))
            rec = Record("tag", key, tv, source, t_issues)
            if key and key not in self.tags:
                self.tags[key] = rec
            out.append(rec)
        return out

    def org_record(self, st: _Sheet, r: int, source: SourceRow, values: dict[str, Any], issues: dict[str, list[Issue]]) -> Record:
        o_issues = list(issues.get("organisation", [])) + list(issues.get("area", []))
        ov = {name: values["organisation." + name] for name in _ORG_VALUE_FIELDS if values.get("organisation." + name) is not None}
        for k in ("area.code", "area.name"):
            if values.get(k) is not None:
                ov["area_code" if k == "area.code" else "area_name"] = values[k]
        if not ov.get("uscc") and not any(i.location.get("field") == "统一社会信用代码" for i in o_issues):
            o_issues.append(self.row_issue(st, r, "organisation.uscc" if "organisation.uscc" in st.by_field else None,
                                           "uscc-empty", "统一社会信用代码不能为空（导入时用它识别单位）"))
        if not ov.get("name") and not any(i.location.get("field") == "单位名称" for i in o_issues):
            o_issues.append(self.row_issue(st, r, "organisation.name" if "organisation.name" in st.by_field else None,
                                           "org-name-empty", "单位名称不能为空"))
        return Record("organisation", ov.get("uscc") or "", ov, source, o_issues)

    # -- whole file ------------------------------------------------------------------------------

    def dedupe_persons(self) -> None:
        """The same ID number twice in the file: identical -> a duplicate (warning); different -> both rejected."""
        first: dict[str, Record] = {}
        for rec in self.parsed.records:
            if rec.entity != "person" or not rec.key:
                continue
            prev = first.get(rec.key)
            if prev is None:
                first[rec.key] = rec
                continue
            where = f"工作表“{prev.source.sheet}”第{prev.source.row}行"
            diffs = sorted(k for k in set(prev.values) | set(rec.values) if prev.values.get(k) != rec.values.get(k))
            loc = {"sheet": rec.source.sheet, "row": rec.source.row, "column": rec.source.columns.get("person.id_number", ""),
                   "field": "公民身份号码"}
            if not diffs:
                rec.issues.append(Issue("duplicate-in-file", f"与{where}重复（内容完全相同），按一条处理", loc, "warning"))
                continue
            labels = "、".join(_value_label(k) for k in diffs)
            rec.issues.append(Issue("duplicate-id-conflict",
                                    f"身份证号码{rec.key}在{where}也出现，两行的{labels}不同，无法判断以哪行为准", loc, "error",
                                    "请核对后只保留正确的一行"))
            here = f"工作表“{rec.source.sheet}”第{rec.source.row}行"
            ploc = {"sheet": prev.source.sheet, "row": prev.source.row,
                    "column": prev.source.columns.get("person.id_number", ""), "field": "公民身份号码"}
            if not any(i.code == "duplicate-id-conflict" for i in prev.issues):
                prev.issues.append(Issue("duplicate-id-conflict",
                                         f"身份证号码{rec.key}在{here}也出现，两行的{labels}不同，无法判断以哪行为准", ploc, "error",
                                         "请核对后只保留正确的一行"))


def _same(a: Any, b: Any) -> bool:
    return a == b or text_of(a).strip() == text_of(b).strip()


_HOUSEHOLD_SPEC = {"head_name": "household.head_name", "head_id_number": "household.head_id_number",
                   "address": "household.address", "kind": "household.kind", "number": "household.number",
                   "area_code": "area.code", "area_name": "area.name"}
_LABELS = {"household_number": "户号", "area_code": "行政区划代码", "area_name": "所在村"}


def _value_label(k: str) -> str:
    spec = fields().get("person." + k)
    return spec.label if spec else _LABELS.get(k, k)


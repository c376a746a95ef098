"""Building canonical records from one normalised row: persons, households, tags, organisations;
and deduplicating persons by ID number across the whole file. Used by importers.pipeline."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from app.issues import Issue
from importers.model import ParsedFile, Record, SourceRow
from importers.normalise import MonthDate, check_id, plain_date, text_of
from importers.synonyms import FieldSpec, fields, tag_types

if TYPE_CHECKING:
    from importers.pipeline import _Sheet

HEAD = "02"  # relation code of the household head
ALIVE = "1"

PERSON_VALUE_FIELDS = ("name", "sex", "birth_date", "ethnic_group", "relation", "marital_status", "education",
                        "political_status", "residence_type", "living_status", "status_date", "moved_to", "phone")
HOUSEHOLD_VALUE_FIELDS = ("number", "head_name", "head_id_number", "address", "kind")
ORG_VALUE_FIELDS = ("uscc", "name", "kind", "industry", "employees")


class RecordBuilder:
    """Per-file state for records: households and tags already proposed (one record per key)."""

    parsed: ParsedFile
    specs: dict[str, FieldSpec]
    today: date

    def __init__(self) -> None:
        self.households: dict[str, Record] = {}
        self.tags: dict[str, Record] = {}

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
            # a required attribute the ledger lacks (no column, a blank or an unreadable cell) does not
            # lose the tag: it is kept with the attribute 待补充, on the village's to-do list (issue 15)
            pending = [a["name"] for a in tag.attributes if a.get("required") and a["name"] not in attrs]
            for a in tag.attributes:
                if a["name"] in pending:
                    f = f"{code}.{a['name']}"
                    t_issues.append(self.row_issue(st, r, f if f in st.by_field else None, "tag-attr-pending",
                                                   f"{tag.name}的{a.get('label', a['name'])}未填写，标签照常导入，该项记为“待补充”",
                                                   "warning", "导入后可在“待补充”清单中补填"))
            tv: dict[str, Any] = {"code": code, "subject": tag.subject, "attrs": attrs,
                                  "valid_from": plain_date(values.get("tag.valid_from")),
                                  "valid_to": plain_date(values.get("tag.valid_to"))}
            if pending:
                tv["pending"] = pending
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
        ov = {name: values["organisation." + name] for name in ORG_VALUE_FIELDS if values.get("organisation." + name) is not None}
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


def same_value(a: Any, b: Any) -> bool:
    return a == b or text_of(a).strip() == text_of(b).strip()


_HOUSEHOLD_SPEC = {"head_name": "household.head_name", "head_id_number": "household.head_id_number",
                   "address": "household.address", "kind": "household.kind", "number": "household.number",
                   "area_code": "area.code", "area_name": "area.name"}
_LABELS = {"household_number": "户号", "area_code": "行政区划代码", "area_name": "所在村"}


def _value_label(k: str) -> str:
    spec = fields().get("person." + k)
    return spec.label if spec else _LABELS.get(k, k)

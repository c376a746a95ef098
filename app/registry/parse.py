"""Parse registry documents into typed declarations, collecting every problem as an ``Issue``.

Each issue names the file, the property path (``columns[2].children[0].indicator``) and, where
a near name exists, a hint ("did you mean …").
"""

from __future__ import annotations

import calendar
import difflib
import re
from collections.abc import Iterable
from datetime import date
from typing import Any

from app.issues import Issue
from app.registry import vocabulary as v
from app.registry.schema import (
    ColumnNode,
    Compute,
    Derived,
    FieldFilter,
    Indicator,
    ReportSpec,
    RowsSpec,
    TagFilter,
    Where,
)

CODE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{1,59}$")
STATUTORY_KEYS = ("表号", "制定机关", "批准机关", "批准文号", "有效期至")


def did_you_mean(name: str, choices: Iterable[str]) -> str | None:
    close = difflib.get_close_matches(str(name), list(choices), n=1, cutoff=0.5)
    return f"是否想写“{close[0]}”？" if close else None


class Context:
    """What parsing needs to know from outside: tags, code lists, observation items, departments."""

    def __init__(self, tag_types: dict[str, dict[str, Any]], code_lists: dict[str, dict[str, str]],
                 observation_items: dict[str, dict[str, Any]], indicators: dict[str, Indicator] | None = None):
        self.tag_types = tag_types
        self.code_lists = code_lists
        self.observation_items = observation_items
        self.indicators = indicators or {}
        self.broken_indicators: set[str] = set()  # codes that failed their own check (follow-on errors)
        self.retired_indicators: set[str] = set()  # codes withdrawn from new reports
        self.departments = code_lists.get("department", {})


class Parser:
    def __init__(self, source: str, ctx: Context):
        self.source = source
        self.ctx = ctx
        self.issues: list[Issue] = []

    # -- helpers ---------------------------------------------------------------------------

    def issue(self, code: str, path: str, message: str, hint: str | None = None, severity: str = "error") -> None:
        self.issues.append(Issue(code, message, {"file": self.source, "path": path}, severity, hint))  # type: ignore[arg-type]

    def unknown(self, what: str, path: str, name: Any, choices: Iterable[str]) -> None:
        self.issue(f"unknown-{what}", path, f"未知的{_WHAT[what]}“{name}”", did_you_mean(str(name), choices))

    def mapping(self, value: Any, path: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.issue("wrong-type", path, f"应为键值对（映射），实际是 {_type_name(value)}")
            return {}
        return value

    def string(self, data: dict, key: str, path: str, *, required: bool = True, default: str = "") -> str:
        value = data.get(key)
        if value is None:
            if required:
                self.issue("required", _join(path, key), f"缺少必填项“{key}”")
            return default
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            self.issue("wrong-type", _join(path, key), f"应为文字，实际是 {_type_name(value)}")
            return default
        return str(value)

    def keys(self, data: dict, allowed: Iterable[str], path: str) -> None:
        allowed = list(allowed)
        for key in data:
            if key not in allowed:
                near = did_you_mean(str(key), allowed)
                listed = "可用属性：" + "、".join(allowed)
                self.issue("unknown-property", _join(path, key), f"未知的属性“{key}”",
                           f"{near}{listed}" if near else listed)

    # -- where -----------------------------------------------------------------------------

    def where(self, raw: Any, subject: str, path: str) -> Where:
        if raw is None:
            return Where()
        data = self.mapping(raw, path)
        fields: list[FieldFilter] = []
        tags: list[TagFilter] = []
        allowed = v.SUBJECTS[subject].fields if subject in v.SUBJECTS else ()
        for key, value in data.items():
            p = _join(path, key)
            if key in ("tags", "household_tags", "not_tags", "not_household_tags"):
                tags += self.tag_filters(value, subject, p, household="household" in key, negate=key.startswith("not_"))
            elif key == "alive":
                if not isinstance(value, bool):
                    self.issue("wrong-type", p, "alive 应为 true 或 false")
                elif subject != "persons":
                    self.issue("not-applicable", p, "alive 只适用于人员（persons）")
                else:
                    fields.append(FieldFilter("alive", "eq", value))
            elif key not in allowed:
                self.unknown("field", p, key, [*allowed, "tags", "household_tags", "not_tags", "not_household_tags"])
            else:
                fields += self.field_filter(key, value, p, subject)
        return Where(tuple(fields), tuple(tags))

    def field_filter(self, name: str, value: Any, path: str, subject: str = "persons") -> list[FieldFilter]:
        filters = self._field_filter(name, value, path)
        if name in v.NUMERIC_FIELDS:
            for f in filters:
                values = f.value if isinstance(f.value, list) else [f.value]
                if not all(isinstance(x, int | float) and not isinstance(x, bool) for x in values):
                    self.issue("wrong-type", path, f"“{name}”应与数字比较")
            return filters
        code_list = v.code_list_of(subject, name)
        out = []
        for f in filters:
            if f.op not in ("eq", "ne", "in", "not_in"):
                self.issue("wrong-type", path, f"“{name}”是代码字段，只能用 eq、ne、in、not_in 比较")
                continue
            values = [str(x) for x in (f.value if isinstance(f.value, list) else [f.value])]
            known = self.ctx.code_lists.get(code_list or "", {})
            for x in values:
                if code_list and x not in known:
                    self.issue("unknown-code", path, f"“{x}”不在代码表 {code_list} 中",
                               hint=did_you_mean(x, known) or "可选：" + "、".join(f"{k} {lab}" for k, lab in list(known.items())[:12]))
            out.append(FieldFilter(name, f.op, values if isinstance(f.value, list) else values[0]))
        return out

    def _field_filter(self, name: str, value: Any, path: str) -> list[FieldFilter]:
        if isinstance(value, dict):
            out = []
            for op, operand in value.items():
                if op not in v.OPERATORS:
                    self.unknown("operator", _join(path, op), op, v.OPERATORS)
                    continue
                if op in ("in", "not_in") and not isinstance(operand, list):
                    self.issue("wrong-type", _join(path, op), f"{op} 后应为列表")
                    continue
                if op in ("gte", "gt", "lte", "lt") and (not isinstance(operand, int | float) or isinstance(operand, bool)):
                    self.issue("wrong-type", _join(path, op), f"{op} 后应为数字，实际是 {_type_name(operand)}")
                    continue
                out.append(FieldFilter(name, op, _codes(operand)))
            return out
        if isinstance(value, list):
            return [FieldFilter(name, "in", _codes(value))]
        return [FieldFilter(name, "eq", _codes(value))]

    def tag_filters(self, raw: Any, subject: str, path: str, *, household: bool, negate: bool) -> list[TagFilter]:
        items = raw if isinstance(raw, list) else [raw]
        out = []
        for i, item in enumerate(items):
            p = f"{path}[{i}]"
            if isinstance(item, str):
                item = {"code": item}
            item = self.mapping(item, p)
            if "any_of" in item:
                any_of = self.any_of(item, subject, p, household=household, negate=negate)
                if any_of is not None:
                    out.append(any_of)
                continue
            code = self.string(item, "code", p)
            self.keys(item, ("code", "attrs"), p)
            tag_type = self.ctx.tag_types.get(code)
            if code and tag_type is None:
                self.unknown("tag", _join(p, "code"), code, self.ctx.tag_types)
                continue
            if tag_type is None:
                continue
            expected = "household" if household else ("person" if subject == "persons" else "household")
            if household and subject != "persons":
                self.issue("not-applicable", p, "household_tags 只适用于人员（persons）")
            elif tag_type["subject"] != expected:
                where = "household_tags" if tag_type["subject"] == "household" else "tags"
                self.issue("tag-subject", _join(p, "code"), f"标签“{tag_type['name']}”属于{_SUBJECT[tag_type['subject']]}，此处不适用",
                           hint=f"请写在 {where} 下" if subject == "persons" else None)
            attrs = []
            specs = {a["name"]: a for a in tag_type["attributes"]}
            for name, wanted in self.mapping(item.get("attrs") or {}, _join(p, "attrs")).items():
                ap = _join(_join(p, "attrs"), name)
                if name not in specs:
                    self.unknown("attribute", ap, name, specs)
                    continue
                values = tuple(str(x) for x in (wanted if isinstance(wanted, list) else [wanted]))
                code_list = specs[name].get("code_list")
                if code_list:
                    for x in values:
                        if x not in self.ctx.code_lists.get(code_list, {}):
                            self.issue("unknown-code", ap, f"“{x}”不在代码表 {code_list} 中",
                                       hint="可选：" + "、".join(f"{k} {lab}" for k, lab in self.ctx.code_lists.get(code_list, {}).items()))
                attrs.append((name, values))
            out.append(TagFilter(code, tuple(attrs), household, negate))
        return out

    def any_of(self, item: dict, subject: str, path: str, *, household: bool, negate: bool) -> TagFilter | None:
        """``{any_of: [a, b]}``: holds at least one of the tags (negated: none of them)."""
        self.keys(item, ("any_of",), path)
        codes = item["any_of"]
        p = _join(path, "any_of")
        if not isinstance(codes, list) or len(codes) < 2 or not all(isinstance(c, str) for c in codes):
            self.issue("wrong-type", p, "any_of 应为至少两个标签代码的列表", hint="如 any_of: [tekun, orphan]")
            return None
        expected = "household" if household or subject == "households" else "person"
        ok = True
        for i, code in enumerate(codes):
            tag_type = self.ctx.tag_types.get(code)
            if tag_type is None:
                self.unknown("tag", f"{p}[{i}]", code, self.ctx.tag_types)
                ok = False
            elif tag_type["subject"] != expected:
                self.issue("tag-subject", f"{p}[{i}]", f"标签“{tag_type['name']}”属于{_SUBJECT[tag_type['subject']]}，"
                           f"不能与{_SUBJECT[expected]}标签放在同一个 any_of 中", hint="户标签请写在 household_tags 下")
                ok = False
        if not ok:
            return None
        return TagFilter(codes[0], (), household, negate, tuple(dict.fromkeys(codes)))

    # -- indicators ------------------------------------------------------------------------

    def indicator(self, raw: Any, path: str) -> Indicator | None:
        data = self.mapping(raw, path)
        if not data:
            return None
        self.keys(data, ("code", "name", "definition", "unit", "department", "compute", "decimals"), path)
        code = self.string(data, "code", path)
        if code and not CODE_RE.match(code):
            self.issue("bad-code", _join(path, "code"), f"指标代码“{code}”只能由字母、数字、下划线组成，以字母开头")
        name = self.string(data, "name", path)
        definition = self.string(data, "definition", path)
        unit = self.string(data, "unit", path)
        department = self.string(data, "department", path)
        if department and department not in self.ctx.departments:
            self.unknown("department", _join(path, "department"), department, self.ctx.departments)
        decimals = data.get("decimals", 0)
        if not isinstance(decimals, int) or isinstance(decimals, bool) or not 0 <= decimals <= 6:
            self.issue("wrong-type", _join(path, "decimals"), "decimals 应为 0–6 的整数")
            decimals = 0
        compute = self.compute(data.get("compute"), _join(path, "compute"), unit)
        if compute is None:
            return None
        return Indicator(code, name, definition, unit, department, compute, decimals, self.source)

    def compute(self, raw: Any, path: str, unit: str) -> Compute | None:
        data = self.mapping(raw, path)
        if not data:
            if raw is None:
                self.issue("required", path, "缺少计算口径 compute")
            return None
        self.keys(data, ("aggregate", "subject", "where", "field", "tag_attr", "item", "period", "convert", "age_date", "flow"), path)
        aggregate = self.string(data, "aggregate", path)
        subject = self.string(data, "subject", path)
        if aggregate and aggregate not in v.AGGREGATES:
            self.unknown("aggregate", _join(path, "aggregate"), aggregate, v.AGGREGATES)
        if subject and subject not in v.SUBJECTS:
            self.unknown("subject", _join(path, "subject"), subject, v.SUBJECTS)
            return None
        where = self.where(data.get("where"), subject, _join(path, "where"))
        value_field = data.get("field")
        tag_attr = None
        item = data.get("item")
        if aggregate == "sum":
            if subject == "observations":
                if item not in self.ctx.observation_items:
                    self.unknown("item", _join(path, "item"), item, self.ctx.observation_items)
            elif value_field is not None:
                numeric = {"floor_area", "employees"}
                if value_field not in numeric:
                    self.issue("not-numeric", _join(path, "field"), f"字段“{value_field}”不是可求和的数值字段",
                               hint="可求和：" + "、".join(sorted(numeric)))
            elif data.get("tag_attr"):
                tag_attr = self.tag_attr(data["tag_attr"], _join(path, "tag_attr"), subject)
            else:
                self.issue("required", path, "sum 须指定 field、tag_attr 或（台账数据的）item")
        elif aggregate == "distinct_households" and subject != "persons":
            self.issue("not-applicable", _join(path, "aggregate"), "distinct_households 只适用于人员（persons）")
        elif aggregate == "count" and subject == "observations":
            self.issue("not-applicable", _join(path, "aggregate"), "台账数据只能求和（sum）")
        flow = self.flow(data.get("flow"), _join(path, "flow"), subject, aggregate) if data.get("flow") is not None else None
        period = str(data.get("period", "report_period" if flow else "reference_year"))
        if flow and period not in v.FLOW_PERIODS:
            self.unknown("period", _join(path, "period"), period, v.FLOW_PERIODS)
        elif not flow and period not in v.PERIODS:
            self.unknown("period", _join(path, "period"), period, v.PERIODS)
        convert = None
        if data.get("convert") is not None:
            conv = self.mapping(data["convert"], _join(path, "convert"))
            pair = (str(conv.get("from", "")), str(conv.get("to", "")))
            if pair not in v.CONVERSIONS:
                self.issue("unknown-conversion", _join(path, "convert"), f"不支持从“{pair[0]}”换算为“{pair[1]}”",
                           hint="支持：" + "、".join(f"{a}→{b}" for a, b in v.CONVERSIONS))
            elif pair[1] != unit:
                self.issue("unit-mismatch", _join(path, "convert"), f"换算后的单位“{pair[1]}”与指标单位“{unit}”不一致")
            else:
                convert = pair
        age_date, age_rule = self.age_reference(data.get("age_date"), _join(path, "age_date"))
        return Compute(aggregate, subject, where, value_field, tag_attr, item, period, convert, age_date, age_rule, flow)

    def flow(self, raw: Any, path: str, subject: str, aggregate: str) -> tuple[str, str | None] | None:
        """``flow: born`` or ``flow: {event: tag_started, tag: tekun}``: count what happened in the period."""
        data = {"event": raw} if isinstance(raw, str) else self.mapping(raw, path)
        if not data:
            return None
        self.keys(data, ("event", "tag"), path)
        event = str(data.get("event", ""))
        spec = v.FLOW_EVENTS.get(event)
        if spec is None:
            self.unknown("event", _join(path, "event"), event, v.FLOW_EVENTS)
            return None
        if subject not in spec.subjects:
            self.issue("not-applicable", _join(path, "event"), f"变动“{spec.label}”不适用于统计对象 {subject}",
                       hint="适用于：" + "、".join(spec.subjects))
            return None
        if aggregate != "count":
            self.issue("not-applicable", _join(path, "event"), "变动（flow）指标只能计数（aggregate: count）")
        tag = data.get("tag")
        if spec.needs_tag:
            tag_type = self.ctx.tag_types.get(str(tag))
            if tag_type is None:
                self.unknown("tag", _join(path, "tag"), tag, self.ctx.tag_types)
                return None
            if f"{tag_type['subject']}s" != subject:
                self.issue("tag-subject", _join(path, "tag"), f"标签“{tag_type['name']}”属于{_SUBJECT[tag_type['subject']]}，"
                           f"统计对象应为 {tag_type['subject']}s")
                return None
            return event, str(tag)
        if tag is not None:
            self.issue("not-applicable", _join(path, "tag"), f"变动“{spec.label}”不需要 tag")
        return event, None

    def age_reference(self, raw: Any, path: str) -> tuple[tuple[int, int] | None, str]:
        """``08-31`` (that day of the reference year), ``{last: 08-31}`` (the last 31 August on or
        before the reference date) or ``{next: 08-31}`` (the next one on or after it)."""
        if isinstance(raw, dict):
            self.keys(raw, ("last", "next"), path)
            rules = [k for k in ("last", "next") if k in raw]
            if len(rules) != 1:
                self.issue("wrong-type", path, "age_date 的映射须且只能写 last 或 next 之一", hint="如 age_date: {last: 08-31}")
                return None, "same_year"
            return self.month_day(raw[rules[0]], _join(path, rules[0])), rules[0]
        return self.month_day(raw, path), "same_year"

    def tag_attr(self, raw: Any, path: str, subject: str) -> tuple[str, str] | None:
        data = self.mapping(raw, path)
        code, attr = str(data.get("tag", "")), str(data.get("attr", ""))
        tag_type = self.ctx.tag_types.get(code)
        if tag_type is None:
            self.unknown("tag", _join(path, "tag"), code, self.ctx.tag_types)
            return None
        if f"{tag_type['subject']}s" != subject:
            self.issue("tag-subject", _join(path, "tag"), f"标签“{tag_type['name']}”属于{_SUBJECT[tag_type['subject']]}，"
                       f"求和对象应为 {tag_type['subject']}s")
            return None
        numeric = [a["name"] for a in tag_type["attributes"] if a.get("type") == "number"]
        if attr not in numeric:
            self.issue("not-numeric", _join(path, "attr"), f"标签“{tag_type['name']}”没有数值属性“{attr}”",
                       hint=did_you_mean(attr, numeric) or ("数值属性：" + "、".join(numeric) if numeric else "该标签没有数值属性"))
            return None
        return code, attr

    def month_day(self, raw: Any, path: str) -> tuple[int, int] | None:
        if raw is None:
            return None
        match = re.match(r"^(\d{2})-(\d{2})$", str(raw))
        if not match:
            self.issue("bad-date", path, f"age_date 应写成 MM-DD（如 08-31），实际是“{raw}”")
            return None
        month, day = int(match.group(1)), int(match.group(2))
        try:
            date(2024, month, day)
        except ValueError:
            self.issue("bad-date", path, f"“{raw}”不是有效的月-日")
            return None
        return month, day

    # -- reports ---------------------------------------------------------------------------

    def report(self, raw: Any, text: str = "") -> ReportSpec | None:
        data = self.mapping(raw, "")
        if not data:
            return None
        allowed = ("id", "version", "title", "department", "frequency", "kind", "statutory", "unit_line", "columns",
                   "rows", "subject", "where", "group_by_household", "sort", "column_numbers", "notes", "footer",
                   "unmasked", "age_date", "paper", "description")
        self.keys(data, allowed, "")
        rid = self.string(data, "id", "")
        if rid and not CODE_RE.match(rid):
            self.issue("bad-code", "id", f"报表编号“{rid}”只能由字母、数字、下划线组成，以字母开头")
        version = data.get("version")
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            self.issue("wrong-type", "version", "version 应为正整数")
            version = 1
        title = self.string(data, "title", "")
        department = self.string(data, "department", "")
        if department and department not in self.ctx.departments:
            self.unknown("department", "department", department, self.ctx.departments)
        frequency = self.string(data, "frequency", "")
        if frequency and frequency not in v.FREQUENCIES:
            self.unknown("frequency", "frequency", frequency, v.FREQUENCIES)
        kind = self.string(data, "kind", "")
        if kind and kind not in v.REPORT_KINDS:
            self.unknown("kind", "kind", kind, v.REPORT_KINDS)
            return None
        statutory, valid_until = self.statutory(data.get("statutory"))
        subject = str(data.get("subject", "persons" if kind != "area_summary" else ""))
        if kind in ("roster", "change_list") and subject not in ("persons", "households"):
            self.unknown("subject", "subject", subject, ("persons", "households"))
            subject = "persons"
        where = self.where(data.get("where"), subject, "where") if kind in ("roster", "change_list") else Where()
        if kind not in ("roster", "change_list"):
            for key in ("where", "subject", "sort", "group_by_household"):
                if key in data:
                    self.issue("not-applicable", key, f"“{key}”只适用于花名册和变动名单")
        columns = self.columns(data.get("columns"), kind, subject)
        rows = self.rows(data.get("rows"), kind)
        sort = tuple(str(s) for s in (data.get("sort") or []))
        for i, s in enumerate(sort):
            if s.lstrip("-") not in v.ROSTER_FIELDS:
                self.unknown("field", f"sort[{i}]", s, v.ROSTER_FIELDS)
        unmasked = tuple(str(s) for s in (data.get("unmasked") or []))
        for i, s in enumerate(unmasked):
            if s not in v.PERSONAL_FIELDS:
                self.unknown("field", f"unmasked[{i}]", s, v.PERSONAL_FIELDS)
        paper = str(data.get("paper", "A4"))
        if paper not in ("A4", "A3"):
            self.issue("wrong-value", "paper", "paper 只能是 A4 或 A3")
        footer = data.get("footer", ReportSpec.footer)
        notes = data.get("notes") or []
        if not isinstance(footer, list | tuple) or not isinstance(notes, list):
            self.issue("wrong-type", "footer", "footer 和 notes 应为列表")
            footer, notes = ReportSpec.footer, []
        group = bool(data.get("group_by_household", False))
        if group and kind != "roster":
            group = False
        return ReportSpec(
            id=rid, version=version, title=title, department=department, frequency=frequency, kind=kind,
            columns=columns, statutory=statutory, valid_until=valid_until, unit_line=str(data.get("unit_line", "")),
            rows=rows, subject=subject, where=where, group_by_household=group, sort=sort,
            column_numbers=bool(data.get("column_numbers", False)), notes=tuple(str(n) for n in notes),
            footer=tuple(str(f) for f in footer), unmasked=unmasked,
            age_date=self.month_day(data.get("age_date"), "age_date"), paper=paper,
            description=str(data.get("description", "")), source=self.source, text=text,
        )

    def statutory(self, raw: Any) -> tuple[tuple[tuple[str, str], ...], date | None]:
        if raw is None:
            return (), None
        data = self.mapping(raw, "statutory")
        self.keys(data, STATUTORY_KEYS, "statutory")
        valid_until = None
        if "有效期至" in data:
            value = data["有效期至"]
            if isinstance(value, date):
                valid_until = value
            else:
                match = re.match(r"^(\d{4})[-年](\d{1,2})(?:[-月](\d{1,2})日?|月)?$", str(value).strip())
                try:
                    if match and match.group(3):
                        valid_until = date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
                    elif match:  # a month ("2027年12月") means its last day
                        year, month = int(match.group(1)), int(match.group(2))
                        valid_until = date(year, month, calendar.monthrange(year, month)[1])
                except ValueError:
                    valid_until = None
                if valid_until is None:
                    self.issue("bad-date", "statutory.有效期至", f"有效期至“{value}”应写成 2027-12-31 或 2027年12月")
        items = [(k, _statutory_text(k, data[k])) for k in STATUTORY_KEYS if k in data]
        return tuple(items), valid_until

    def rows(self, raw: Any, kind: str) -> RowsSpec:
        if raw is None:
            return RowsSpec()
        data = self.mapping(raw, "rows")
        self.keys(data, ("level", "subtotals", "total", "show_code", "value_label"), "rows")
        level = str(data.get("level", "village"))
        if level not in v.AREA_LEVELS:
            self.unknown("level", "rows.level", level, v.AREA_LEVELS)
            level = "village"
        total = str(data.get("total", "top"))
        if total not in ("top", "bottom", "none"):
            self.issue("wrong-value", "rows.total", "total 只能是 top、bottom 或 none")
            total = "top"
        value_label = str(data.get("value_label", "数值"))
        if "value_label" in data and kind != "indicator_rows":
            self.issue("not-applicable", "rows.value_label", "value_label 只适用于指标表（indicator_rows）")
        return RowsSpec(level, bool(data.get("subtotals", True)), total, bool(data.get("show_code", False)), value_label)

    def columns(self, raw: Any, kind: str, subject: str) -> tuple[ColumnNode, ...]:
        if not isinstance(raw, list) or not raw:
            self.issue("required", "columns", "columns 应为非空列表")
            return ()
        counter = iter(range(1, 10_000))
        nodes = tuple(n for i, c in enumerate(raw) if (n := self.column(c, f"columns[{i}]", kind, subject, counter)))
        return nodes

    def column(self, raw: Any, path: str, kind: str, subject: str, counter: Iterable[int]) -> ColumnNode | None:
        data = self.mapping(raw, path)
        if not data:
            return None
        self.keys(data, ("label", "children", "indicator", "field", "derived", "compare", "blank", "decimals",
                         "new_indicator", "row_code"), path)
        children_raw = data.get("children")
        indicator, fld = data.get("indicator"), data.get("field")
        if data.get("derived") is not None or data.get("blank"):
            return self.special_column(data, path, kind, counter)
        label = self.string(data, "label", path, required=not (indicator or fld))
        if children_raw is not None:
            if indicator or fld:
                self.issue("broken-header", path, "表头分组不能同时指定 indicator 或 field")
            if not isinstance(children_raw, list) or not children_raw:
                self.issue("broken-header", _join(path, "children"), "表头分组的 children 应为非空列表")
                return None
            children = tuple(c for i, raw_c in enumerate(children_raw)
                             if (c := self.column(raw_c, f"{path}.children[{i}]", kind, subject, counter)))
            return ColumnNode(label, children) if children else None
        pending = data.get("new_indicator")
        if pending is not None and not indicator and not fld and kind in ("area_summary", "roster"):
            name = pending.get("name") if isinstance(pending, dict) else None
            name = str(name or label or "")
            what = "指标" if kind == "area_summary" else "字段"
            self.issue("unmatched-column", path, f"列“{label}”未匹配{what}：需新建{what}“{name}”，生成时该列为空",
                       hint=f"把 new_indicator 换成 {'indicator: <指标代码>' if kind == 'area_summary' else 'field: <字段>'}",
                       severity="warning")
            return ColumnNode(label, key=f"c{next(iter(counter))}", pending=name)
        if bool(indicator) == bool(fld):
            self.issue("broken-header", path, "表头叶子须且只能指定 indicator 或 field 之一")
            return None
        key = f"c{next(iter(counter))}"
        if indicator:
            if kind not in ("area_summary", "indicator_rows"):
                self.issue("not-applicable", _join(path, "indicator"), "花名册和变动名单的列只能是字段（field）")
                return None
            if not self.indicator_ref(indicator, _join(path, "indicator")):
                return None
            compare = data.get("compare")
            if compare is not None and compare not in v.COMPARISONS:
                self.unknown("comparison", _join(path, "compare"), compare, v.COMPARISONS)
                return None
            if compare is not None and kind != "area_summary":
                self.issue("not-applicable", _join(path, "compare"), "对比列（compare）只适用于分区划汇总表")
                return None
            row_code = data.get("row_code")
            if row_code is not None and kind != "indicator_rows":
                self.issue("not-applicable", _join(path, "row_code"), "row_code（行代码）只适用于指标表（indicator_rows）")
            return ColumnNode(label or self.ctx.indicators[indicator].name, indicator=str(indicator), key=key,
                              compare=compare, row_code=str(row_code) if row_code is not None else "")
        if kind not in ("roster", "change_list"):
            self.issue("not-applicable", _join(path, "field"), "汇总表和指标表的列只能是指标（indicator）")
            return None
        name = str(fld)
        spec = v.ROSTER_FIELDS.get(name)
        if spec is None and name.startswith("tag."):
            if not self._tag_field(name, _join(path, "field")):
                return None
        elif spec is None:
            self.unknown("field", _join(path, "field"), name, [*v.ROSTER_FIELDS, "tag.<标签>.<属性>"])
            return None
        elif name in v.CHANGE_FIELDS and kind != "change_list":
            self.issue("not-applicable", _join(path, "field"), f"字段“{name}”只适用于变动名单")
            return None
        elif subject not in spec.subjects:
            self.issue("not-applicable", _join(path, "field"), f"字段“{name}”不适用于{_SUBJECT[subject[:-1] if subject != 'households' else 'household']}名册")
            return None
        return ColumnNode(label or (spec.label if spec else name), field=name, key=key)

    def indicator_ref(self, code: Any, path: str) -> bool:
        """A column's (or a derived operand's) indicator: known, not retired, and not itself broken."""
        if code in self.ctx.broken_indicators:
            self.issue("broken-indicator", path, f"指标“{code}”本身未通过校验，此处无法使用",
                       hint="请先修正该指标定义中的错误（见上方对该指标的报错）")
            return False
        if code not in self.ctx.indicators:
            self.unknown("indicator", path, code, self.ctx.indicators)
            return False
        if code in self.ctx.retired_indicators:
            self.issue("retired-indicator", path, f"指标“{code} {self.ctx.indicators[code].name}”已停用，新报表不能再使用",
                       hint="请在指标字典中选用替代它的指标")
            return False
        return True

    def special_column(self, data: dict, path: str, kind: str, counter: Iterable[int]) -> ColumnNode | None:
        """A derived column (from other indicators of the row) or a blank one filled in by hand."""
        label = self.string(data, "label", path)
        for key in ("children", "indicator", "field"):
            if key in data:
                self.issue("broken-header", _join(path, key), f"派生列或空白列不能同时指定 {key}")
                return None
        if data.get("blank"):
            if kind != "area_summary":
                self.issue("not-applicable", _join(path, "blank"), "空白列（blank）目前只适用于分区划汇总表")
                return None
            if data.get("derived") is not None:
                self.issue("broken-header", path, "空白列（blank）不能同时是派生列")
                return None
            return ColumnNode(label, key=f"c{next(iter(counter))}", blank=True)
        if kind != "area_summary":
            self.issue("not-applicable", _join(path, "derived"), "派生列（derived）只适用于分区划汇总表")
            return None
        raw = self.mapping(data["derived"], _join(path, "derived"))
        if len(raw) != 1:
            self.issue("wrong-type", _join(path, "derived"), "derived 应写成“运算: [指标, 指标]”，如 share: [P_A, P_B]",
                       hint="运算：" + "、".join(f"{k}（{lab}）" for k, lab in v.DERIVED_OPS.items()))
            return None
        op, operands = next(iter(raw.items()))
        p = _join(_join(path, "derived"), op)
        if op not in v.DERIVED_OPS:
            self.unknown("derived", p, op, v.DERIVED_OPS)
            return None
        if not isinstance(operands, list) or not all(isinstance(o, str) for o in operands):
            self.issue("wrong-type", p, "运算对象应为指标代码列表")
            return None
        if (op == "sum" and len(operands) < 2) or (op != "sum" and len(operands) != 2):
            self.issue("wrong-type", p, f"{v.DERIVED_OPS[op]}需要{'至少两个' if op == 'sum' else '两个'}指标",
                       hint="如 share: [P_TEKUN_60, P_TEKUN]（前者占后者的百分比）")
            return None
        ok = True
        for i, operand in enumerate(operands):
            code, _, compare = operand.partition("@")
            if compare and compare not in ("previous", "last_year"):
                self.unknown("comparison", f"{p}[{i}]", compare, ("previous", "last_year"))
                ok = False
            elif not self.indicator_ref(code, f"{p}[{i}]"):
                ok = False
        decimals = data.get("decimals", 1 if op == "share" else 2)
        if not isinstance(decimals, int) or isinstance(decimals, bool) or not 0 <= decimals <= 6:
            self.issue("wrong-type", _join(path, "decimals"), "decimals 应为 0–6 的整数")
            ok = False
        if not ok:
            return None
        return ColumnNode(label, key=f"c{next(iter(counter))}", derived=Derived(op, tuple(operands), decimals))

    def _tag_field(self, name: str, path: str) -> bool:
        parts = name.split(".")
        if len(parts) != 3:
            self.issue("unknown-field", path, f"标签字段应写成 tag.<标签代码>.<属性|valid_from|valid_to>，实际是“{name}”")
            return False
        tag_type = self.ctx.tag_types.get(parts[1])
        if tag_type is None:
            self.unknown("tag", path, parts[1], self.ctx.tag_types)
            return False
        attrs = [a["name"] for a in tag_type["attributes"]] + ["valid_from", "valid_to", "held"]
        if parts[2] not in attrs:
            self.unknown("attribute", path, parts[2], attrs)
            return False
        return True


_WHAT = {
    "property": "属性", "field": "字段", "operator": "比较符", "tag": "标签", "attribute": "标签属性",
    "aggregate": "汇总方式", "subject": "统计对象", "item": "台账指标", "period": "期别", "department": "部门",
    "frequency": "报送频率", "kind": "报表类型", "level": "区划级别", "indicator": "指标",
    "event": "变动类型", "comparison": "对比期", "derived": "派生运算",
}
_SUBJECT = {"person": "人员", "household": "户"}


def _join(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)


def _type_name(value: Any) -> str:
    return {dict: "映射", list: "列表", str: "文字", int: "整数", float: "数字", bool: "布尔值"}.get(type(value), type(value).__name__)


def _codes(value: Any) -> Any:
    """YAML reads 01 as 1 and "01" as text; code filters compare as text, so keep numbers' text form."""
    if isinstance(value, list):
        return [_codes(x) for x in value]
    if isinstance(value, int | float):  # bool is an int too
        return value
    return str(value)


def _statutory_text(key: str, value: Any) -> str:
    if isinstance(value, date):
        return f"{value.year}年{value.month}月{value.day}日" if key == "有效期至" else value.isoformat()
    return str(value)

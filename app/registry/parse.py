"""Parse report declarations: statutory block, rows, and the column header tree (indicator,
derived, compare and blank columns). ``Parser`` is the full registry parser.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable
from datetime import date
from typing import Any

from app.registry import vocabulary as v
from app.registry.parse_indicator import IndicatorParser
from app.registry.parse_values import _SUBJECT, CODE_RE, _join
from app.registry.schema import ColumnNode, Derived, ReportSpec, RowsSpec, Where

STATUTORY_KEYS = ("表号", "制定机关", "批准机关", "批准文号", "有效期至")


class Parser(IndicatorParser):
    """Parses one registry file: reports here, indicators and where filters in the base classes."""

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



def _statutory_text(key: str, value: Any) -> str:
    if isinstance(value, date):
        return f"{value.year}年{value.month}月{value.day}日" if key == "有效期至" else value.isoformat()
    return str(value)

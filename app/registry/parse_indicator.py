"""Parse indicator declarations: compute (aggregate, flow, tag attribute, age reference date)."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from app.registry import vocabulary as v
from app.registry.parse_values import _SUBJECT, CODE_RE, _join, did_you_mean
from app.registry.parse_where import WhereParser
from app.registry.schema import Compute, Indicator


class IndicatorParser(WhereParser):
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
            return None if self._tag_of(tag, path, subject, "统计") is None else (event, str(tag))
        if tag is not None:
            self.issue("not-applicable", _join(path, "tag"), f"变动“{spec.label}”不需要 tag")
        return event, None

    def _tag_of(self, tag: Any, path: str, subject: str, role: str) -> dict[str, Any] | None:
        """The tag type named at ``path.tag``, when it exists and belongs to ``subject`` (issues otherwise)."""
        tag_type = self.ctx.tag_types.get(str(tag))
        if tag_type is None:
            self.unknown("tag", _join(path, "tag"), tag, self.ctx.tag_types)
            return None
        if f"{tag_type['subject']}s" != subject:
            self.issue("tag-subject", _join(path, "tag"), f"标签“{tag_type['name']}”属于{_SUBJECT[tag_type['subject']]}，"
                       f"{role}对象应为 {tag_type['subject']}s")
            return None
        return tag_type

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
        tag_type = self._tag_of(code, path, subject, "求和")
        if tag_type is None:
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

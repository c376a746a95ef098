"""Parse ``where`` filters (field filters, tag filters, any_of groups) of indicators and reports."""

from __future__ import annotations

from typing import Any

from app.registry import vocabulary as v
from app.registry.parse_values import _SUBJECT, ParserBase, _codes, _join, _type_name, did_you_mean
from app.registry.schema import FieldFilter, TagFilter, Where


class WhereParser(ParserBase):
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

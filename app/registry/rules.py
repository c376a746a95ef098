"""Validation rules over indicators, declared in ``forms_registry/rules/*.yaml`` (a list per file).

Two kinds:

* **comparison** — ``left op right`` over indicators of the same area, each side a sum/difference of
  indicator codes and numbers (``P_TEKUN_CENTRAL + P_TEKUN_DISPERSED``); ``op`` one of
  ``<= < >= > == !=``.
* **outlier** — one indicator against the previous period (same day of the previous month, a month
  end against the previous month end) or the same day a year earlier; a violation when the change is
  beyond ``max_change_pct`` per cent or ``max_change`` (in the indicator's unit), whichever is given
  (both given: either). From 0 to anything is beyond every percentage.

Every rule has a ``code``, a Chinese ``name``, an ``importance`` (high / medium / low), optional
``blocking`` (true: a village cannot submit a collection task while it is violated) and an optional
``message`` template with ``{left}``, ``{right}``, ``{area}``, ``{change}``, ``{pct}``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from app.issues import Issue
from app.registry.schema import Indicator

OPERATORS = {"<=": "≤", "<": "<", ">=": "≥", ">": ">", "==": "=", "!=": "≠"}
IMPORTANCE = {"high": "高", "medium": "中", "low": "低"}
COMPARES = {"previous_period": "上期（上月同日）", "same_period_last_year": "上年同期"}
_TERM = re.compile(r"\s*([+-])?\s*([A-Z][A-Z0-9_]*|\d+(?:\.\d+)?)\s*")
_CODE = re.compile(r"^[A-Z][A-Z0-9_]{1,39}$")


@dataclass(frozen=True)
class Side:
    """A sum of signed terms: (sign, indicator code or None, number)."""

    terms: tuple[tuple[int, str | None, float], ...]
    text: str

    @property
    def codes(self) -> list[str]:
        return [code for _, code, _ in self.terms if code]

    def value(self, values: dict[str, float]) -> float:
        return sum(sign * (values.get(code, 0.0) if code else number) for sign, code, number in self.terms)


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    kind: str  # comparison | outlier
    importance: str = "medium"
    blocking: bool = False
    message: str = ""
    department: str = ""
    left: Side | None = None
    op: str = "<="
    right: Side | None = None
    indicator: str | None = None
    compare: str = "previous_period"
    max_change_pct: float | None = None
    max_change: float | None = None
    source: str = ""

    @property
    def codes(self) -> list[str]:
        if self.kind == "outlier":
            return [self.indicator] if self.indicator else []
        return [*(self.left.codes if self.left else []), *(self.right.codes if self.right else [])]

    def describe(self, indicators: dict[str, Indicator]) -> str:
        if self.kind == "outlier":
            name = indicators[self.indicator].name if self.indicator in indicators else self.indicator
            limits = [f"±{self.max_change_pct:g}%" if self.max_change_pct is not None else "",
                      f"±{self.max_change:g}" if self.max_change is not None else ""]
            return f"{name} 与{COMPARES[self.compare]}相比变动不超过 {' 或 '.join(x for x in limits if x)}"
        return f"{_named(self.left, indicators)} {OPERATORS[self.op]} {_named(self.right, indicators)}"


def _named(side: Side | None, indicators: dict[str, Indicator]) -> str:
    if side is None:
        return ""
    text = side.text
    for code in sorted(side.codes, key=len, reverse=True):
        if code in indicators:
            text = re.sub(rf"\b{code}\b", indicators[code].name, text)
    return text


def parse_side(text: Any) -> Side | None:
    if isinstance(text, int | float) and not isinstance(text, bool):
        return Side(((1, None, float(text)),), str(text))
    if not isinstance(text, str) or not text.strip():
        return None
    terms: list[tuple[int, str | None, float]] = []
    pos = 0
    while pos < len(text):
        m = _TERM.match(text, pos)
        if not m or m.end() == pos:
            return None
        if terms and m.group(1) is None:
            return None  # two terms without an operator
        sign = -1 if m.group(1) == "-" else 1
        token = m.group(2)
        terms.append((sign, None, float(token)) if token[0].isdigit() else (sign, token, 0.0))
        pos = m.end()
    return Side(tuple(terms), text.strip()) if terms else None


def parse_rules(data: Any, source: str, indicators: dict[str, Indicator]) -> tuple[list[Rule], list[Issue]]:
    """Rules of one file (a YAML list) and the problems found, with the file and property path."""
    rules: list[Rule] = []
    issues: list[Issue] = []

    def bad(path: str, message: str, hint: str = "") -> None:
        issues.append(Issue("bad-rule", message, {"file": source, "path": path}, hint=hint))

    if data is None:
        return [], []
    if not isinstance(data, list):
        bad("", "规则文件应为列表（每条规则以“- code:”开头）")
        return [], issues
    for n, item in enumerate(data):
        p = f"[{n}]"
        if not isinstance(item, dict):
            bad(p, "每条规则应为键值对")
            continue
        known = {"code", "name", "kind", "importance", "blocking", "message", "department", "left", "op", "right",
                 "indicator", "compare", "max_change_pct", "max_change"}
        for key in item:
            if key not in known:
                bad(f"{p}.{key}", f"未知的属性“{key}”", hint="可用：" + "、".join(sorted(known)))
        code = str(item.get("code") or "")
        if not _CODE.match(code):
            bad(f"{p}.code", f"规则代码“{code}”应为大写字母开头的字母、数字、下划线", hint="例如 R_DIBAO_LE_REGISTERED")
            continue
        name = str(item.get("name") or "").strip()
        if not name:
            bad(f"{p}.name", f"规则 {code} 缺少中文名称 name")
        kind = item.get("kind", "comparison")
        importance = item.get("importance", "medium")
        if importance not in IMPORTANCE:
            bad(f"{p}.importance", f"重要程度“{importance}”无效", hint="可选：high、medium、low")
        fields: dict[str, Any] = {"code": code, "name": name, "kind": kind, "importance": importance,
                                  "blocking": bool(item.get("blocking", False)), "message": str(item.get("message") or ""),
                                  "department": str(item.get("department") or ""), "source": source}
        if kind == "comparison":
            left, right = parse_side(item.get("left")), parse_side(item.get("right"))
            op = str(item.get("op", "<="))
            if left is None:
                bad(f"{p}.left", f"规则 {code} 的左边“{item.get('left')}”无法识别", hint="写成指标代码的和差，如 P_TEKUN_CENTRAL + P_TEKUN_DISPERSED")
            if right is None:
                bad(f"{p}.right", f"规则 {code} 的右边“{item.get('right')}”无法识别", hint="写成指标代码的和差或一个数")
            if op not in OPERATORS:
                bad(f"{p}.op", f"运算符“{op}”无效", hint="可选：" + "、".join(OPERATORS))
            fields |= {"left": left, "right": right, "op": op}
        elif kind == "outlier":
            indicator = str(item.get("indicator") or "")
            compare = item.get("compare", "previous_period")
            if compare not in COMPARES:
                bad(f"{p}.compare", f"比较期“{compare}”无效", hint="可选：previous_period（上期）、same_period_last_year（上年同期）")
            pct, absolute = item.get("max_change_pct"), item.get("max_change")
            if pct is None and absolute is None:
                bad(p, f"离群规则 {code} 需要 max_change_pct（百分比）或 max_change（绝对数）")
            for key, value in (("max_change_pct", pct), ("max_change", absolute)):
                if value is not None and (not isinstance(value, int | float) or isinstance(value, bool) or value < 0):
                    bad(f"{p}.{key}", f"{key} 应为非负数")
            fields |= {"indicator": indicator, "compare": compare,
                       "max_change_pct": float(pct) if isinstance(pct, int | float) else None,
                       "max_change": float(absolute) if isinstance(absolute, int | float) else None}
        else:
            bad(f"{p}.kind", f"规则类型“{kind}”无效", hint="可选：comparison（指标比较）、outlier（离群）")
            continue
        rule = Rule(**fields)
        for ref in rule.codes:
            if ref not in indicators:
                bad(p, f"规则 {code} 引用的指标“{ref}”不存在", hint="指标在 forms_registry/indicators/ 中定义")
        if any(r.code == code for r in rules):
            bad(f"{p}.code", f"规则代码 {code} 重复")
        rules.append(rule)
    return rules, issues


def load_rules(directory: Path, indicators: dict[str, Indicator]) -> tuple[list[Rule], list[Issue]]:
    rules: list[Rule] = []
    issues: list[Issue] = []
    for path in sorted((directory / "rules").glob("*.yaml")):
        source = f"rules/{path.name}"
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            issues.append(Issue("bad-yaml", f"YAML 无法解析：{exc}", {"file": source}))
            continue
        found, problems = parse_rules(data, source, indicators)
        issues += problems
        seen = {r.code for r in rules}
        for rule in found:
            if rule.code in seen:
                issues.append(Issue("bad-rule", f"规则代码 {rule.code} 在多个文件中重复", {"file": source}))
            else:
                rules.append(rule)
    return rules, issues

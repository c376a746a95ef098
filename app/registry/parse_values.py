"""Generic YAML-value helpers for the registry parser: the parse ``Context``, issue reporting,
type-checked reads of mappings/strings/keys, and the "did you mean …" hint.

Each issue names the file, the property path (``columns[2].children[0].indicator``) and, where
a near name exists, a hint ("did you mean …").
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from typing import Any

from app.issues import Issue
from app.registry.schema import Indicator

CODE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{1,59}$")


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



class ParserBase:
    """Collects issues for one source file; the domain parsers build on these helpers."""

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


"""The indicator dictionary as one catalogue: shipped files (the baseline) plus versions published
in the browser or by ``ybt indicator publish``; the duplicate-口径 check on normalised computations.

Two indicators are the same 口径 when their normalised computations are equal: same subject,
aggregate, value, filters in any order (``in [x]`` is ``eq x``; list values in any order), tag
conditions in any order with their attributes, age date, period, flow and conversion. Labels and
decimals do not matter.
"""

from __future__ import annotations

from typing import Any

from app.issues import Issue
from app.registry.schema import Compute, FieldFilter, Indicator, TagFilter


def _value(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return tuple(sorted(str(x) for x in value))
    return str(value) if not isinstance(value, int | float) or isinstance(value, bool) else float(value)


def _field(f: FieldFilter) -> tuple[str, str, Any]:
    op, value = f.op, f.value
    if op in ("in", "not_in") and isinstance(value, list | tuple) and len(value) == 1:
        op, value = ("eq" if op == "in" else "ne"), value[0]
    return (f.field, op, _value(value))


def _tag(t: TagFilter) -> tuple[Any, ...]:
    attrs = tuple(sorted((name, tuple(sorted(values))) for name, values in t.attrs))
    return (t.code, attrs, t.household, t.negate, tuple(sorted(t.any_of)))


def computation_key(c: Compute) -> tuple[Any, ...]:
    """A hashable, order-free form of a computation: equal keys mean the same 口径."""
    fields = tuple(sorted((_field(f) for f in c.where.fields), key=repr))
    tags = tuple(sorted((_tag(t) for t in c.where.tags), key=repr))
    periodic = c.subject == "observations" or c.flow is not None
    return (c.subject, c.aggregate, c.value_field, c.tag_attr, c.item, c.period if periodic else None,
            c.convert, c.age_date, c.age_rule, c.flow, fields, tags)


def duplicate_issues(new: Indicator, existing: dict[str, Indicator], path: str = "") -> list[Issue]:
    """Refuse an indicator whose computation another code already has; warn on a reused name.

    A new version of the same code is compared with the other codes only.
    """
    issues: list[Issue] = []
    key = computation_key(new.compute)
    where = {"file": new.source, "path": f"{path}.compute" if path else "compute"}
    for other in existing.values():
        if other.code == new.code:
            continue
        if computation_key(other.compute) == key:
            issues.append(Issue("duplicate-computation",
                                f"指标“{new.code} {new.name}”的计算口径与已有指标“{other.code} {other.name}”完全相同",
                                where, hint=f"请直接使用已有指标 {other.code}（{other.source}），不要重复定义"))
        elif other.name == new.name:
            issues.append(Issue("same-name", f"指标名称“{new.name}”已被指标 {other.code} 使用，但计算口径不同",
                                {**where, "path": f"{path}.name" if path else "name"}, "warning",
                                hint="同名不同口径容易混淆：请在名称中写明区别（如年龄、范围）"))
    return issues

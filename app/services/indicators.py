"""The indicator dictionary (口径) as data: check, publish (a new version), retire, list.

Shipped files (forms_registry/indicators) are the baseline; versions published here are stored in
``indicator_definition`` and join them in ``services.reports.registry_for``. A published version's
text never changes; a code is retired rather than deleted, and stays runnable for the reports that
use it. A computation equal to another code's is refused, naming that code (no duplicate 口径).

The Python API other features build on: ``catalogue(registry)`` — every current indicator as a dict
(code, name, definition, unit, department, computation, version, used_by, retired) — and
``check_text(text, registry)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml
from sqlalchemy import func, select
from sqlmodel import Session

from app.issues import Issue, NotFound, ValidationFailed
from app.models import IndicatorDefinition, User
from app.models.base import utcnow
from app.registry.dictionary import duplicate_issues
from app.registry.loader import PublishedIndicator, Registry, parse_indicator, read_yaml, runtime_context
from app.registry.parse_values import did_you_mean
from app.registry.schema import Indicator
from app.registry.vocabulary import AGGREGATES, SUBJECTS
from app.services.scope import require_admin


def published_rows(session: Session) -> list[PublishedIndicator]:
    rows = session.execute(select(IndicatorDefinition).order_by(IndicatorDefinition.id)).scalars()
    return [PublishedIndicator(r.code, r.version, r.source, r.retired_at is not None, r.note) for r in rows]


def stamp(session: Session) -> tuple[int, int]:
    """Changes whenever an indicator is published or retired (the registry cache key)."""
    newest = session.execute(select(func.coalesce(func.max(IndicatorDefinition.id), 0))).scalar_one()
    retired = session.execute(select(func.count()).where(IndicatorDefinition.retired_at.is_not(None))).scalar_one()
    return int(newest), int(retired)


@dataclass
class Checked:
    """The outcome of checking indicator text: what would be published, and every issue."""

    indicators: list[Indicator]
    issues: list[Issue]

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "error"]


def check_text(text: str, registry: Registry, source: str = "指标定义") -> Checked:
    """Parse one indicator (a mapping) or several (a list) and check them against the dictionary:
    a computation another code already has is an error naming it; a reused name is a warning;
    republishing a code unchanged or a retired code is refused."""
    data, issues = read_yaml(text, source)
    if data is None:
        return Checked([], issues or [Issue("empty-file", "指标定义为空", {"file": source},
                                            hint="写成“code: …, name: …, compute: …”的映射或其列表")])
    items = data if isinstance(data, list) else [data]
    ctx = runtime_context()
    ctx.indicators = registry.indicators
    known = dict(registry.indicators)
    out: list[Indicator] = []
    for n, raw in enumerate(items):
        path = f"[{n}]" if isinstance(data, list) else ""
        one = yaml.safe_dump(raw, allow_unicode=True, sort_keys=False)
        indicator, problems = parse_indicator(one, source, ctx)
        problems = [p.at(path=f"{path}.{p.location['path']}" if path and p.location.get("path") else path or p.location.get("path"))
                    for p in problems]
        issues += problems
        if indicator is None:
            continue
        current = registry.indicators.get(indicator.code)
        if indicator.code in registry.retired:
            issues.append(Issue("retired-indicator", f"指标“{indicator.code}”已停用，不能再发布新版本",
                                {"file": source, "path": f"{path}.code" if path else "code"}, hint="请换一个新的指标代码"))
            continue
        if current is not None and _same(current, indicator):
            issues.append(Issue("unchanged", f"指标“{indicator.code}”与现有第{current.version}版完全相同，无需发布",
                                {"file": source, "path": f"{path}.code" if path else "code"}, "warning"))
            continue
        found = duplicate_issues(indicator, known, path)
        issues += found
        if any(f.severity == "error" for f in found):
            continue
        version = max(registry.indicator_versions.get(indicator.code, {0: None})) + 1
        indicator = _with(indicator, version=version, text=one)
        known[indicator.code] = indicator
        out.append(indicator)
    return Checked(out, issues)


def _same(a: Indicator, b: Indicator) -> bool:
    return (a.name, a.definition, a.unit, a.department, a.compute, a.decimals) == (
        b.name, b.definition, b.unit, b.department, b.compute, b.decimals)


def _with(indicator: Indicator, **changes: Any) -> Indicator:
    from dataclasses import replace

    return replace(indicator, **changes)


def publish(session: Session, registry: Registry, actor: User | None, text: str, note: str = "",
            source: str = "指标定义") -> list[Indicator]:
    """Store each checked indicator as a new version. Nothing is stored while an error stands.
    ``actor`` None = the command line (the operator of the server)."""
    if actor is not None:
        require_admin(actor)
    checked = check_text(text, registry, source)
    if checked.errors:
        raise ValidationFailed(checked.errors)
    if not checked.indicators:
        raise ValidationFailed(Issue("nothing-to-publish", "没有需要发布的指标", {"file": source},
                                     hint="所有指标都与现有版本相同"))
    for indicator in checked.indicators:
        session.add(IndicatorDefinition(code=indicator.code, version=indicator.version, source=indicator.text,
                                        published_by=actor.id if actor else None, note=note[:500]))
    session.flush()
    return checked.indicators


def retire(session: Session, registry: Registry, actor: User | None, code: str, note: str = "") -> list[str]:
    """Withdraw a code from new reports; the report versions using it keep running (returned)."""
    if actor is not None:
        require_admin(actor)
    indicator = registry.indicators.get(code)
    if indicator is None:
        raise NotFound(Issue("unknown-indicator", f"指标“{code}”不存在", {"record": code},
                             hint=did_you_mean(code, registry.indicators)))
    if code in registry.retired:
        raise ValidationFailed(Issue("already-retired", f"指标“{code}”已停用", {"record": code}))
    row = session.execute(select(IndicatorDefinition).where(IndicatorDefinition.code == code)
                          .order_by(IndicatorDefinition.version.desc())).scalars().first()
    if row is None:  # a file indicator: its retirement is stored as a version with the same text
        row = IndicatorDefinition(code=code, version=indicator.version + 1, source=indicator.text,
                                  published_by=actor.id if actor else None, note=note[:500] or "停用")
        session.add(row)
    row.retired_at = utcnow()
    row.retired_by = actor.id if actor else None
    session.flush()
    return registry.where_used().get(code, [])


def computation(indicator: Indicator) -> dict[str, Any]:
    """The indicator's ``compute`` mapping as written (for the designer, the API and exports)."""
    data, _ = read_yaml(indicator.text, indicator.source)
    if isinstance(data, dict) and isinstance(data.get("compute"), dict):
        return data["compute"]
    return {}


def describe(indicator: Indicator) -> str:
    """A short Chinese reading of the computation (统计对象 · 汇总方式 · 变动)."""
    c = indicator.compute
    parts = [SUBJECTS[c.subject].label if c.subject in SUBJECTS else c.subject, AGGREGATES.get(c.aggregate, c.aggregate)]
    if c.flow:
        from app.registry.vocabulary import FLOW_EVENTS

        parts.append(f"期内{FLOW_EVENTS[c.flow[0]].label}" + (f"（{c.flow[1]}）" if c.flow[1] else ""))
    return " · ".join(parts)


def catalogue(registry: Registry) -> list[dict[str, Any]]:
    """Every current indicator: code, name, definition, unit, department, version, computation,
    used_by (report id@version), retired, source — the dictionary's one list."""
    used = registry.where_used()
    return [
        {"code": i.code, "name": i.name, "definition": i.definition, "unit": i.unit, "department": i.department,
         "version": i.version, "decimals": i.decimals, "computation": computation(i), "subject": i.compute.subject,
         "used_by": used.get(i.code, []), "retired": i.code in registry.retired, "source": i.source}
        for i in sorted(registry.indicators.values(), key=lambda x: (x.department, x.code))
    ]

"""Running the registry's validation rules (``registry/rules.py``) for an area and a date.

Indicator values come from the report engine (``evaluate.village_values``) on the snapshot of the
date — and, for outlier rules, of the comparison date — so a rule sees exactly the numbers a report
would print. Rules are evaluated per village; townships get the count of their villages' violations.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import polars as pl
from flask import Flask
from sqlmodel import Session

from app import clock
from app.db import Database
from app.issues import Issue, NotFound, ValidationFailed
from app.models import Area, User
from app.registry.loader import Registry
from app.registry.rules import IMPORTANCE, Rule, load_rules
from app.reporting import evaluate
from app.reporting.frames import CACHE
from app.reporting.store_delta import data_version
from app.services.lineage import area_prefix
from app.services.reports import county_code
from app.services.scope import require_read


@dataclass
class Violation:
    rule: Rule
    area_code: str
    area_name: str
    township_code: str
    township_name: str
    left: float
    right: float
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"rule": self.rule.code, "rule_name": self.rule.name, "kind": self.rule.kind,
                "importance": self.rule.importance, "blocking": self.rule.blocking,
                "area_code": self.area_code, "area_name": self.area_name,
                "township_code": self.township_code, "township_name": self.township_name,
                "left": _plain(self.left), "right": _plain(self.right), "message": self.message}


@dataclass
class RuleRun:
    area_code: str
    area_name: str
    on: date
    rules: list[Rule]
    villages: list[dict[str, str]]
    violations: list[Violation] = field(default_factory=list)

    def by_township(self) -> list[dict[str, Any]]:
        """Per township: villages checked, villages with violations, violations (by importance)."""
        out: dict[str, dict[str, Any]] = {}
        for v in self.villages:
            t = out.setdefault(v["township_code"], {"code": v["township_code"], "name": v["township_name"],
                                                    "villages": 0, "failing": set(), "violations": 0, "blocking": 0})
            t["villages"] += 1
        for violation in self.violations:
            t = out[violation.township_code]
            t["failing"].add(violation.area_code)
            t["violations"] += 1
            t["blocking"] += violation.rule.blocking
        return [{**t, "failing": len(t["failing"])} for t in out.values()]

    def as_dict(self) -> dict[str, Any]:
        return {"area": {"code": self.area_code, "name": self.area_name}, "as_of": self.on.isoformat(),
                "rules": [r.code for r in self.rules], "villages": len(self.villages),
                "violations": [v.as_dict() for v in self.violations]}


def _plain(value: float) -> float | int:
    return int(value) if float(value).is_integer() else round(value, 4)


def rules_for(app: Flask, registry: Registry) -> list[Rule]:
    """The registry's rules (cached per registry object); a broken rules file is an error with its path."""
    cached = app.extensions.get("ybt.rules")
    if cached is not None and cached[0] is registry:
        return cached[1]
    rules, issues = load_rules(app.extensions["ybt.registry_dir"], registry.indicators)
    if issues:
        raise ValidationFailed(issues)
    app.extensions["ybt.rules"] = (registry, rules)
    return rules


def visible_rules(rules: list[Rule], actor: User | None) -> list[Rule]:
    """Department users run their department's rules (and rules without a department)."""
    if actor is not None and actor.role == "department":
        return [r for r in rules if not r.department or r.department == actor.department]
    return rules


def comparison_date(on: date, compare: str) -> date:
    """Previous period: the same day a month earlier (a month end → the previous month end);
    same period last year: the same day a year earlier (29 February → 28 February)."""
    if compare == "same_period_last_year":
        year = on.year - 1
        return date(year, on.month, min(on.day, calendar.monthrange(year, on.month)[1]))
    year, month = (on.year - 1, 12) if on.month == 1 else (on.year, on.month - 1)
    last = calendar.monthrange(year, month)[1]
    month_end = on.day == calendar.monthrange(on.year, on.month)[1]
    return date(year, month, last if month_end else min(on.day, last))


def _values(db: Database, registry: Registry, on: date, codes: set[str], prefix: str, version: int) -> dict[str, dict[str, float]]:
    if not codes:
        return {}
    snap = CACHE.get(db.engine, on, version)
    frame = evaluate.village_values(snap, [registry.indicators[c] for c in sorted(codes)])
    frame = frame.filter(pl.col("village").str.starts_with(prefix[:12]))
    return {row["village"]: {c: float(row[c] or 0) for c in codes} for row in frame.iter_rows(named=True)}


def _format(template: str, **values: Any) -> str:
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError):
        return template


def run_rules(db: Database, session: Session, registry: Registry, rules: list[Rule], actor: User | None,
              area_code: str | None, on: date | None, only: list[str] | None = None) -> RuleRun:
    area_code = area_code or (actor.area_code if actor is not None and actor.role != "admin" else county_code(session))
    area = session.get(Area, area_code)
    if area is None:
        raise NotFound(Issue("unknown-area", f"区划 {area_code} 不存在", {"field": "area"}))
    if actor is not None:
        require_read(actor, area.code)
    on = on or clock.today()
    rules = visible_rules(rules, actor)
    if only:
        unknown = [c for c in only if c not in {r.code for r in rules}]
        if unknown:
            raise ValidationFailed(Issue("unknown-rule", f"规则“{'、'.join(unknown)}”不存在", {"field": "rule"}))
        rules = [r for r in rules if r.code in only]
    prefix = area_prefix(area)
    version = data_version(db.engine)
    snap = CACHE.get(db.engine, on, version)
    villages_frame = snap.areas.filter((pl.col("level") == 5) & pl.col("code").str.starts_with(prefix[:12])).sort("code")
    names = dict(snap.areas.select("code", "name").iter_rows())
    villages = [{"code": v["code"], "name": v["name"], "township_code": v["code"][:9] + "000",
                 "township_name": names.get(v["code"][:9] + "000", "")} for v in villages_frame.iter_rows(named=True)]
    current = _values(db, registry, on, {c for r in rules for c in r.codes}, prefix, version)
    earlier: dict[date, dict[str, dict[str, float]]] = {}
    for rule in rules:
        if rule.kind == "outlier":
            when = comparison_date(on, rule.compare)
            if when not in earlier:
                codes = {r.indicator for r in rules if r.kind == "outlier" and comparison_date(on, r.compare) == when}
                earlier[when] = _values(db, registry, when, {c for c in codes if c}, prefix, version)
    run = RuleRun(area.code, area.name, on, rules, villages)
    for village in villages:
        now_values = current.get(village["code"], {})
        for rule in rules:
            violation = _check(rule, village, now_values, earlier, on)
            if violation is not None:
                run.violations.append(violation)
    order = {k: n for n, k in enumerate(IMPORTANCE)}
    run.violations.sort(key=lambda v: (v.area_code, order.get(v.rule.importance, 9), v.rule.code))
    return run


_COMPARE = {"<=": lambda a, b: a <= b, "<": lambda a, b: a < b, ">=": lambda a, b: a >= b, ">": lambda a, b: a > b,
            "==": lambda a, b: abs(a - b) < 1e-9, "!=": lambda a, b: abs(a - b) >= 1e-9}


def _check(rule: Rule, village: dict[str, str], values: dict[str, float],
           earlier: dict[date, dict[str, dict[str, float]]], on: date) -> Violation | None:
    if rule.kind == "comparison":
        assert rule.left is not None and rule.right is not None
        left, right = rule.left.value(values), rule.right.value(values)
        if _COMPARE[rule.op](left, right):
            return None
        pct = ""
    else:
        assert rule.indicator is not None
        left = values.get(rule.indicator, 0.0)
        right = earlier[comparison_date(on, rule.compare)].get(village["code"], {}).get(rule.indicator, 0.0)
        change = left - right
        if change == 0:
            return None
        beyond_pct = rule.max_change_pct is not None and (right == 0 or abs(change) / abs(right) * 100 > rule.max_change_pct)
        beyond_abs = rule.max_change is not None and abs(change) > rule.max_change
        if not (beyond_pct or beyond_abs):
            return None
        pct = f"{change / right * 100:+.0f}%" if right else "由0增加"
    message = _format(rule.message or f"{{area}}：{rule.name}未通过（左边 {{left}}，右边 {{right}}）",
                      area=village["name"], left=_plain(left), right=_plain(right), pct=pct,
                      change=_plain(left - right))
    return Violation(rule, village["code"], village["name"], village["township_code"], village["township_name"],
                     left, right, message)


def check_submission(db: Database, session: Session, registry: Registry, village_code: str, on: date) -> None:
    """With ``YBT_RULES_ON_SUBMIT=blocking``: refuse a village's task submission while one of the
    blocking rules fails for it on the task's reference date, listing every failure."""
    from flask import current_app, has_app_context

    if not has_app_context() or str(current_app.config.get("YBT_RULES_ON_SUBMIT") or "off").lower() != "blocking":
        return  # outside an app (scripts, service tests) there is no setting: off
    blocking = [r for r in rules_for(current_app, registry) if r.blocking]
    if not blocking:
        return
    session.flush()
    run = run_rules(db, session, registry, blocking, None, village_code, on)
    if run.violations:
        raise ValidationFailed([Issue("rule-violated", f"{v.rule.name}：{v.message}",
                                      {"record": v.area_code, "rule": v.rule.code},
                                      hint="请先更正基础数据，再确认提交（阻止提交的校验规则）")
                                for v in run.violations])

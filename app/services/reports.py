"""Generating reports: who may run which projection, for which area and date; the download log;
publishing new projection versions from the browser."""

from __future__ import annotations

import calendar
import json
import re
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import IO, Any

from flask import Flask, current_app
from sqlalchemy import func, select
from sqlmodel import Session

from app import clock
from app.db import Database
from app.issues import Issue, PermissionDenied, ValidationFailed
from app.models import Area, ReportDefinition, ReportDownload, User
from app.models.base import utcnow
from app.registry.loader import (
    Registry,
    check_not_expired,
    context_generation,
    load_registry,
    parse_report,
    runtime_context,
)
from app.registry.schema import ReportSpec
from app.registry.vocabulary import DEPARTMENT_UNITS
from app.reporting import projections, province, rosters
from app.reporting.frames import CACHE
from app.reporting.store_delta import data_version
from app.reporting.table import Report
from app.services.codelists import code_lists
from app.services.scope import (
    effective_unmasked,
    projection_unmasked_issues,
    require_admin,
    require_read,
    scope_of,
)

FORMATS = ("xlsx", "csv", "json")
_PERIODS = [
    (re.compile(r"^(\d{4})-(\d{1,2})$"), "month"),
    (re.compile(r"^(\d{4})Q([1-4])$"), "quarter"),
    (re.compile(r"^(\d{4})H([12])$"), "half"),
    (re.compile(r"^(\d{4})$"), "year"),
    (re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$"), "range"),
]


def parse_period(text: str) -> tuple[date, date]:
    """``2025-06`` / ``2025Q2`` / ``2025H1`` / ``2025`` / ``2025-06-01..2025-06-30`` → (first day, last day)."""
    text = text.strip()
    for pattern, kind in _PERIODS:
        m = pattern.match(text)
        if not m:
            continue
        try:
            if kind == "range":
                start, end = date.fromisoformat(m.group(1)), date.fromisoformat(m.group(2))
                if end < start:
                    break
                return start, end
            year = int(m.group(1))
            first, months = {"month": (int(m.group(2)) if kind == "month" else 1, 1),
                             "quarter": (3 * (int(m.group(2)) - 1) + 1 if kind == "quarter" else 1, 3),
                             "half": (6 * (int(m.group(2)) - 1) + 1 if kind == "half" else 1, 6),
                             "year": (1, 12)}[kind]
            last = first + months - 1
            return date(year, first, 1), date(year, last, calendar.monthrange(year, last)[1])
        except ValueError:
            break
    raise ValidationFailed(Issue("bad-period", f"报告期“{text}”无法识别", {"field": "period"},
                                 hint="写成 2025-06、2025Q2、2025H1、2025 或 2025-06-01..2025-06-30"))


def period_choices(today: date, frequency: str) -> list[tuple[str, str]]:
    """Recent periods a person would pick for a change list, as (text ``parse_period`` reads, Chinese
    label): the report's own frequency first, the last complete period at the head, then the others
    (months, quarters, half years, years), newest first."""
    months: list[tuple[str, str]] = []
    y, m = today.year, today.month
    for _ in range(12):
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
        months.append((f"{y}-{m:02d}", f"{y}年{m}月"))
    quarters: list[tuple[str, str]] = []
    y, q = today.year, (today.month - 1) // 3 + 1
    for _ in range(4):
        y, q = (y, q - 1) if q > 1 else (y - 1, 4)
        quarters.append((f"{y}Q{q}", f"{y}年第{'一二三四'[q - 1]}季度"))
    y, h = today.year, 1 if today.month <= 6 else 2
    halves: list[tuple[str, str]] = []
    for _ in range(2):
        y, h = (y, h - 1) if h > 1 else (y - 1, 2)
        halves.append((f"{y}H{h}", f"{y}年{'上下'[h - 1]}半年"))
    years = [(str(today.year - n), f"{today.year - n}年") for n in (1, 2)]
    order = {"quarterly": [quarters, months, halves, years], "yearly": [years, halves, quarters, months],
             "half_yearly": [halves, years, quarters, months]}.get(frequency, [months, quarters, halves, years])
    return [choice for group in order for choice in group]


def last_complete_period(today: date, frequency: str) -> tuple[date, date]:
    """The last month (or quarter) that has ended before ``today``: a monthly report run on 5 July
    without a date or period is June's report."""
    months = 3 if frequency == "quarterly" else 1
    first_current = date(today.year, ((today.month - 1) // months) * months + 1, 1)
    end = date.fromordinal(first_current.toordinal() - 1)
    start_month = end.month - months + 1
    return date(end.year, start_month, 1), end


# ---------------------------------------------------------------------------------- registry


def registry_for(app: Flask, session: Session) -> Registry:
    """The file registry plus every version published in the browser (cached by the newest id)."""
    from app.services import indicators

    newest = (session.execute(select(func.coalesce(func.max(ReportDefinition.id), 0))).scalar_one(), *indicators.stamp(session),
              context_generation())
    cached = app.extensions.get("ybt.registry")
    if cached is None or cached[0] != newest:
        published = [(f"已发布 {d.report_id}@{d.version}", d.source)
                     for d in session.execute(select(ReportDefinition).order_by(ReportDefinition.id)).scalars()]
        registry = load_registry(app.extensions["ybt.registry_dir"], published=published,
                                 published_indicators=indicators.published_rows(session))
        for d in session.execute(select(ReportDefinition.report_id, ReportDefinition.version,
                                        ReportDefinition.indicator_versions)):
            registry.pins[f"{d.report_id}@{d.version}"] = _pins(d.indicator_versions)
        cached = (newest, registry)
        app.extensions["ybt.registry"] = cached
    return cached[1]


def _pins(text: str | None) -> dict[str, int]:
    try:
        data = json.loads(text or "{}")
    except ValueError:
        return {}
    return {str(k): int(v) for k, v in data.items() if isinstance(v, int)} if isinstance(data, dict) else {}


def visible_reports(registry: Registry, actor: User) -> list[ReportSpec]:
    """Department users see their department's reports; everyone else sees the whole catalogue."""
    specs = registry.latest()
    if actor.role == "department":
        return [s for s in specs if s.department == actor.department]
    return specs


def require_run(actor: User, spec: ReportSpec) -> None:
    if actor.role == "department" and spec.department != actor.department:
        raise PermissionDenied(Issue("other-department", f"“{spec.plain_title}”属于其他部门，您无权生成", {"record": spec.ref}))


def validate_projection(text: str, registry: Registry, source: str = "上传的文件", *,
                        session: Session | None = None) -> tuple[ReportSpec | None, list[Issue]]:
    """Parse and check a projection; with a ``session``, also its ``unmasked`` against the department's grants."""
    ctx = runtime_context()
    ctx.indicators = registry.indicators
    ctx.retired_indicators = set(registry.retired)  # a new report version may not use a retired indicator
    spec, issues = parse_report(text, source, ctx)
    if spec is not None and session is not None:
        issues = [*issues, *projection_unmasked_issues(session, spec)]
    return spec, issues


def publish(session: Session, registry: Registry, actor: User, text: str, note: str = "") -> ReportSpec:
    """Validate a projection and store it as a new version; earlier versions stay reproducible."""
    require_admin(actor)
    spec, issues = validate_projection(text, registry, session=session)
    errors = [i for i in issues if i.severity == "error"]
    if spec is None or errors:
        raise ValidationFailed(errors or [Issue("empty-file", "文件为空")])
    if spec.valid_until is None:  # 报表准入: no open-ended statutory form enters the catalogue
        raise ValidationFailed(Issue("no-valid-until", "准入要求填写有效期至：statutory 中缺少“有效期至”", {"path": "statutory.有效期至"},
                                     hint="在 statutory 下加一行，例如  有效期至: 2027-12-31"))
    existing = registry.reports.get(spec.id, {})
    if spec.version in existing:
        raise ValidationFailed(Issue("version-exists", f"报表“{spec.id}”第{spec.version}版已存在，不能覆盖", {"path": "version"},
                                     hint=f"请把 version 改为 {max(existing) + 1}"))
    if existing and spec.version < max(existing):
        raise ValidationFailed(Issue("version-too-low", f"新版本号应大于现有最高版本 {max(existing)}", {"path": "version"},
                                     hint=f"请把 version 改为 {max(existing) + 1}"))
    pins = {code: registry.indicators[code].version for code in spec.indicator_codes() if code in registry.indicators}
    session.add(ReportDefinition(report_id=spec.id, version=spec.version, source=text, published_by=actor.id, note=note,
                                 indicator_versions=json.dumps(pins, ensure_ascii=False, sort_keys=True)))
    session.flush()
    return spec


# ---------------------------------------------------------------------------------- running


@dataclass
class RunRequest:
    report_id: str
    version: int | None = None
    area_code: str | None = None
    on: date | None = None
    period: str | None = None


def county_code(session: Session) -> str:
    configured = current_app.config.get("YBT_COUNTY_CODE") if current_app else None
    if configured:
        return configured
    code = session.execute(select(Area.code).where(Area.level == 3, Area.valid_to.is_(None)).order_by(Area.code)).scalars().first()
    if code is None:
        raise ValidationFailed(Issue("no-areas", "还没有区划数据：请先导入区划（ybt areas import）或生成演示数据"))
    return code


def build_report(db: Database, session: Session, registry: Registry, actor: User | None, req: RunRequest,
                 today: date | None = None) -> Report:
    """Generate a projection for an area and a date (or period). ``actor`` None = the command line."""
    return build_from_spec(db, session, registry, actor, registry.get(req.report_id, req.version), req, today)


def build_from_spec(db: Database, session: Session, registry: Registry, actor: User | None, spec: ReportSpec,
                    req: RunRequest, today: date | None = None) -> Report:
    """Generate a projection given as a parsed spec (also one not yet published: the admin's preview)."""
    today = today or clock.today()
    check_not_expired(spec, today)
    allowed = effective_unmasked(session, spec)  # honoured only within the department's authorisation
    if allowed != tuple(spec.unmasked):
        spec = replace(spec, unmasked=allowed)
    if actor is not None:
        require_run(actor, spec)
    area_code = req.area_code or (actor.area_code if actor is not None and actor.role != "admin" else county_code(session))
    area = session.get(Area, area_code)
    if area is None:
        raise ValidationFailed(Issue("unknown-area", f"区划 {area_code} 不存在", {"field": "area"}))
    if actor is not None:
        require_read(actor, area_code)
    period = parse_period(req.period) if req.period else None
    if period is None and req.on is None and spec.frequency in ("monthly", "quarterly"):
        period = last_complete_period(today, spec.frequency)  # neither date nor period given
    if spec.kind == "change_list" and period is None:
        on = req.on or today
        period = (date(on.year, on.month, 1), on)
    on = period[1] if period is not None else (req.on or today)
    labels = code_lists(session)
    ctx = projections.RunContext(
        area_code=area.code, area_name=area.name, on=on, period=period, code_lists=labels, generated_at=utcnow(),
        generated_by=actor.display_name if actor is not None else "命令行", department_label=DEPARTMENT_UNITS.get(spec.department, "") if area.level <= 3 else "",
    )
    indicators = registry.indicators_for(spec)
    if spec.kind == "area_summary" and area.level in (1, 2):  # province / city: county by county, bounded memory
        lru = current_app.config.get("YBT_PROVINCE_LRU", 2) if current_app else 2
        lru = 2 if lru is None else int(lru)
        if lru < 1:
            raise ValidationFailed(Issue("bad-province-lru", f"YBT_PROVINCE_LRU={lru}：至少为 1", hint="同时保留的县级数据份数，默认 2"))
        return province.rollup(db.engine, spec, ctx, indicators, lru=lru)
    version = data_version(db.engine)
    snap = CACHE.get(db.engine, on, version)
    if spec.kind == "area_summary":
        return projections.area_summary(spec, snap, ctx, indicators)
    if spec.kind == "indicator_rows":
        return projections.indicator_rows(spec, snap, ctx, indicators)
    if spec.kind == "roster":
        return rosters.roster(spec, snap, ctx)
    assert period is not None
    before = CACHE.get(db.engine, rosters.day_before(period[0]), version)
    return rosters.change_list(spec, before, snap, ctx)


def write_report(report: Report, fmt: str, target: str | Path | IO[bytes]) -> None:
    from app.reporting.flat import write_csv, write_json
    from app.reporting.xlsx import write_xlsx

    if fmt == "xlsx":
        write_xlsx(report, target)
    elif fmt == "csv":
        write_csv(report, target)
    elif fmt == "json":
        write_json(report, target)
    else:
        raise ValidationFailed(Issue("bad-format", f"不支持的格式“{fmt}”", hint="可选：xlsx、csv、json"))


def log_download(session: Session, actor: User | None, report: Report, fmt: str) -> ReportDownload:
    meta = report.meta
    period = meta.get("报告期") or None
    entry = ReportDownload(user_id=actor.id if actor else None, report_ref=meta["报表"], area_code=meta["区划"].split()[0],
                           reference_date=date.fromisoformat(meta["参考日期"]), period=period, format=fmt,
                           rows=sum(len(s.rows) for s in report.sheets), data_version=int(meta["数据版本"]))
    session.add(entry)
    session.flush()
    return entry


def downloads(session: Session, actor: User, limit: int = 100) -> list[ReportDownload]:
    query = select(ReportDownload).order_by(ReportDownload.id.desc()).limit(limit)
    if actor.role != "admin":
        query = query.where(ReportDownload.user_id == actor.id)
    return list(session.execute(query).scalars())


def area_choices(session: Session, actor: User) -> list[Area]:
    """Areas a user may pick for a report: their scope's county/townships/villages in force today."""
    today = clock.today()
    query = (select(Area).where(scope_of(actor).clause(Area.code), Area.level.between(3, 5), Area.valid_from <= today)
             .where((Area.valid_to.is_(None)) | (Area.valid_to > today)).order_by(Area.code))
    return list(session.execute(query).scalars())


def as_dict(spec: ReportSpec) -> dict[str, Any]:
    return {"id": spec.id, "version": spec.version, "title": spec.title, "department": spec.department,
            "kind": spec.kind, "frequency": spec.frequency}

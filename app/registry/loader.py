"""Load and check the registry: the indicator dictionary and the report catalogue.

Files live in ``forms_registry/`` (``indicators/*.yaml``: lists of indicators; ``reports/*.yaml``:
one projection each). Versions an admin publishes in the browser are stored in the database and
join the file versions; every version stays loadable so an earlier report can be reproduced.
"""

from __future__ import annotations

import csv
import functools
import json
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from app import clock
from app.issues import Issue, NotFound, ValidationFailed
from app.registry.dictionary import duplicate_issues
from app.registry.parse import Parser
from app.registry.parse_values import Context, did_you_mean
from app.registry.schema import Indicator, ReportSpec

ROOT = Path(__file__).resolve().parent.parent.parent
REGISTRY_DIR = ROOT / "forms_registry"
SEED_DATA = ROOT / "migrations" / "data"


def seed_context() -> Context:
    """Tag types, code lists and observation items as the migrations seed them (migrations/data).

    Only for validating files without a database (``ybt registry check`` on a folder, pure unit tests):
    at run time the database is the one source, see ``runtime_context``. The files are read once per
    process; each call returns a new ``Context`` (callers set its ``indicators``) over the same
    dictionaries, so caches keyed on the tag-type dictionary's identity (importers.synonyms) hold."""
    tag_types, code_lists, items = _seed_data()
    return Context(tag_types, code_lists, items)


@functools.cache
def _seed_data() -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, str]], dict[str, dict[str, Any]]]:
    tag_types = {t["code"]: t for t in json.loads((SEED_DATA / "tag_types.json").read_text(encoding="utf-8"))}
    code_lists: dict[str, dict[str, str]] = {}
    with open(SEED_DATA / "code_items.csv", encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            code_lists.setdefault(row["list_name"], {})[row["code"]] = row["label"]
    with open(SEED_DATA / "observation_items.csv", encoding="utf-8", newline="") as fh:
        items = {row["code"]: row for row in csv.DictReader(fh)}
    return tag_types, code_lists, items


_GENERATION = [0]  # bumped by invalidate_context(); a cached runtime context of an older generation is stale


def invalidate_context() -> None:
    """Forget the cached tag types, code lists and observation items of every app (called by the
    services after a tag type or observation item is saved and committed)."""
    _GENERATION[0] += 1


def context_generation() -> tuple[int, int]:
    """The version of the runtime dictionary: this process's generation (bumped on a save here) and the
    newest change recorded to a tag type or observation item in the database (a save made by another
    worker process or the CLI), read at most once per app context (one request, one command)."""
    return _GENERATION[0], _dictionary_stamp()


def _dictionary_stamp() -> int:
    from flask import current_app, g, has_app_context

    if not has_app_context() or "ybt.db" not in current_app.extensions:
        return 0
    stamp = g.get("_ybt_dictionary_stamp")
    if stamp is None:
        from sqlalchemy import func, select
        from sqlalchemy.exc import SQLAlchemyError

        from app.models import ChangeLog

        try:
            with current_app.extensions["ybt.db"].session() as session:
                stamp = int(session.execute(select(func.coalesce(func.max(ChangeLog.id), 0)).where(
                    ChangeLog.entity.in_(("tag_type", "observation_item")))).scalar_one())
        except SQLAlchemyError:  # not migrated yet
            stamp = 0
        g._ybt_dictionary_stamp = stamp
    return stamp


def _read_runtime(session: Any) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, str]], dict[str, dict[str, Any]]]:
    from sqlalchemy import select

    from app.models import CodeItem, ObservationItem, TagType

    tag_types = {t.code: {"code": t.code, "name": t.name, "subject": t.subject, "department": t.department,
                          "attributes": list(t.attributes or []), "description": t.description,
                          "sensitive": bool(t.sensitive)}
                 for t in session.execute(select(TagType).order_by(TagType.sort_order, TagType.code)).scalars()}
    code_lists: dict[str, dict[str, str]] = {}
    for item in session.execute(select(CodeItem).order_by(CodeItem.list_name, CodeItem.sort_order)).scalars():
        code_lists.setdefault(item.list_name, {})[item.code] = item.label
    items = {o.code: {"code": o.code, "name": o.name, "unit": o.unit, "period_type": o.period_type,
                      "subject": o.subject, "department": o.department, "description": o.description}
             for o in session.execute(select(ObservationItem).order_by(ObservationItem.code)).scalars()}
    return tag_types, code_lists, items


_DETACHED: list[tuple[dict[str, dict[str, Any]], dict[str, dict[str, str]], dict[str, dict[str, Any]]]] = []


def use_detached_context(context: Context) -> None:
    """Run this process on ``context`` where there is no app: the reading child of an upload
    (importers.isolated) gets its parent's runtime tag types and code lists this way, so a tag type
    saved in the browser is recognised in an uploaded ledger exactly as in ``ybt import``."""
    _DETACHED[:] = [(context.tag_types, context.code_lists, context.observation_items)]


def runtime_context() -> Context:
    """Tag types, code lists and observation items as the app runs on them: read from the database of
    the current Flask app once per dictionary version (cached until ``invalidate_context`` here or a save
    by another process, see ``context_generation``). Without an app
    (files checked on their own) it falls back to the seed files, ``seed_context``."""
    from flask import current_app, has_app_context

    if not has_app_context() or "ybt.db" not in current_app.extensions:
        if _DETACHED:
            return Context(*_DETACHED[0])
        return seed_context()
    cached = current_app.extensions.get("ybt.runtime_context")
    generation = context_generation()
    if cached is None or cached[0] != generation:
        from sqlalchemy.exc import SQLAlchemyError

        try:
            with current_app.extensions["ybt.db"].session() as session:
                cached = (generation, *_read_runtime(session))
        except SQLAlchemyError:  # a database not migrated yet: the app still starts on the seed files
            return seed_context()
        current_app.extensions["ybt.runtime_context"] = cached
    _gen, tag_types, code_lists, items = cached
    return Context(tag_types, code_lists, items)


@dataclass(frozen=True)
class PublishedIndicator:
    """One stored version of an indicator (``indicator_definition``), as the loader needs it."""

    code: str
    version: int
    text: str
    retired: bool = False
    note: str = ""


@dataclass
class Registry:
    indicators: dict[str, Indicator] = field(default_factory=dict)  # the newest version of every code
    reports: dict[str, dict[int, ReportSpec]] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)
    indicator_versions: dict[str, dict[int, Indicator]] = field(default_factory=dict)
    retired: set[str] = field(default_factory=set)
    pins: dict[str, dict[str, int]] = field(default_factory=dict)  # report id@version → indicator versions

    def indicators_for(self, spec: ReportSpec) -> dict[str, Indicator]:
        """The indicators as a report version computes them: the versions pinned when it was published
        (a later version of an indicator never changes an earlier report), else the current ones."""
        pinned = self.pins.get(spec.ref)
        if not pinned:
            return self.indicators
        out = dict(self.indicators)
        for code, version in pinned.items():
            found = self.indicator_versions.get(code, {}).get(version)
            if found is not None:
                out[code] = found
        return out

    def where_used(self) -> dict[str, list[str]]:
        """Indicator code → the report versions (id@version) whose columns read it."""
        used: dict[str, list[str]] = {}
        for _id, versions in sorted(self.reports.items()):
            for _n, spec in sorted(versions.items()):
                for code in spec.indicator_codes():
                    used.setdefault(code, []).append(spec.ref)
        return used

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "error"]

    def latest(self) -> list[ReportSpec]:
        """The newest version of every report, by id."""
        return [versions[max(versions)] for _id, versions in sorted(self.reports.items())]

    def get(self, report_id: str, version: int | None = None) -> ReportSpec:
        versions = self.reports.get(report_id)
        if not versions:
            raise NotFound(Issue("unknown-report", f"报表“{report_id}”不存在", {"record": report_id},
                                 hint=did_you_mean(report_id, self.reports)))
        if version is None:
            return versions[max(versions)]
        if version not in versions:
            raise NotFound(Issue("unknown-version", f"报表“{report_id}”没有第{version}版",
                                 hint="现有版本：" + "、".join(str(n) for n in sorted(versions))))
        return versions[version]

    def add_report(self, spec: ReportSpec) -> None:
        versions = self.reports.setdefault(spec.id, {})
        # the same id@version twice: an error when the texts differ, and always between two files
        # (a published version exported to a file with the very same text is tolerated)
        both_files = spec.version in versions and _is_file(spec.source) and _is_file(versions[spec.version].source)
        if spec.version in versions and (versions[spec.version].text != spec.text or both_files):
            self.issues.append(Issue("duplicate-id", f"报表“{spec.id}”第{spec.version}版重复定义",
                                     {"file": spec.source, "path": "version"},
                                     hint=f"另见 {versions[spec.version].source}；修改已发布的报表请提高 version"))
            return
        versions[spec.version] = spec


def _is_file(source: str) -> bool:
    return source.startswith("reports/")


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(text: str, source: str) -> tuple[Any, list[Issue]]:
    """Parse YAML safely (no tags, no objects); a syntax error becomes an issue with its line."""
    try:
        # libyaml's loader when built in: the registry parses ~10x faster, which a new process (CLI) pays
        return yaml.load(text, Loader=_LOADER), []
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = {"file": source, "row": mark.line + 1} if mark else {"file": source}
        problem = getattr(exc, "problem", None) or str(exc)
        return None, [Issue("yaml-syntax", f"YAML 格式错误：{problem}", where, hint="检查缩进和冒号")]


def load_indicators(directory: Path, ctx: Context) -> tuple[dict[str, Indicator], list[Issue]]:
    indicators: dict[str, Indicator] = {}
    issues: list[Issue] = []
    for path in sorted((directory / "indicators").glob("*.yaml")):
        source = f"indicators/{path.name}"
        data, problems = read_yaml(path.read_text(encoding="utf-8"), source)
        issues += problems
        if data is None:
            continue
        parser = Parser(source, ctx)
        if not isinstance(data, list):
            parser.issue("wrong-type", "", "指标文件应为指标列表（每项以“- code:”开头）")
        for i, raw in enumerate(data if isinstance(data, list) else []):
            seen = len(parser.issues)
            indicator = parser.indicator(raw, f"[{i}]")
            if any(p.severity == "error" for p in parser.issues[seen:]):
                # a broken indicator (e.g. an unknown conversion) must not compute anything; its code is
                # kept on its issues so that a column using it says so instead of "unknown indicator"
                code = raw.get("code") if isinstance(raw, dict) else None
                if isinstance(code, str):
                    parser.issues[seen:] = [p.at(code=code) for p in parser.issues[seen:]]
                continue
            if indicator is None or not indicator.code:
                continue
            if indicator.code in indicators:
                parser.issue("duplicate-id", f"[{i}].code", f"指标代码“{indicator.code}”重复",
                             hint=f"已在 {indicators[indicator.code].source} 中定义")
                continue
            duplicates = duplicate_issues(indicator, indicators, f"[{i}]")
            parser.issues += duplicates
            if any(d.severity == "error" for d in duplicates):
                continue
            indicators[indicator.code] = replace(indicator, text=yaml.safe_dump(raw, allow_unicode=True, sort_keys=False))
        issues += parser.issues
    return indicators, issues


def broken_codes(issues: list[Issue]) -> set[str]:
    """Codes of indicators that failed their own check (so a column using one says so)."""
    return {i.location["code"] for i in issues if i.severity == "error" and i.location and "code" in i.location}


def parse_indicator(text: str, source: str, ctx: Context, version: int = 1) -> tuple[Indicator | None, list[Issue]]:
    """One indicator given as a YAML mapping (a designer's or a published version's text)."""
    data, issues = read_yaml(text, source)
    if isinstance(data, list) and len(data) == 1:
        data = data[0]
    if data is None:
        return None, issues or [Issue("empty-file", "指标定义为空", {"file": source})]
    parser = Parser(source, ctx)
    indicator = parser.indicator(data, "")
    issues += parser.issues
    if indicator is None or any(i.severity == "error" for i in issues):
        return None, issues
    return replace(indicator, version=version, text=text), issues


def merge_published(registry: Registry, ctx: Context, published: list[PublishedIndicator]) -> None:
    """Add the stored versions to the file baseline. A stored version that no longer parses (a tag
    type renamed…) is skipped with a warning: a browser publication never stops the app."""
    for code, versions in registry.indicators.items():
        registry.indicator_versions.setdefault(code, {1: versions})
    for row in sorted(published, key=lambda r: (r.code, r.version)):
        source = f"已发布指标 {row.code}@{row.version}"
        indicator, problems = parse_indicator(row.text, source, ctx, row.version)
        if indicator is None or indicator.code != row.code:
            registry.issues += [replace(p, severity="warning") for p in problems if p.severity == "error"]
            registry.issues.append(Issue("published-broken", f"已发布的指标 {row.code}@{row.version} 无法加载，已跳过",
                                         {"record": f"{row.code}@{row.version}"}, "warning",
                                         hint="请在指标字典中发布修正后的新版本"))
            continue
        registry.indicator_versions.setdefault(row.code, {})[row.version] = indicator
        if row.retired:
            registry.retired.add(row.code)
    for code, versions in registry.indicator_versions.items():
        registry.indicators[code] = versions[max(versions)]


def parse_report(text: str, source: str, ctx: Context) -> tuple[ReportSpec | None, list[Issue]]:
    data, issues = read_yaml(text, source)
    if data is None:
        return None, issues or [Issue("empty-file", "文件为空", {"file": source})]
    parser = Parser(source, ctx)
    spec = parser.report(data, text)
    return spec, issues + parser.issues


def load_registry(directory: Path = REGISTRY_DIR, ctx: Context | None = None,
                  published: list[tuple[str, str]] | None = None,
                  published_indicators: list[PublishedIndicator] | None = None) -> Registry:
    """Read every indicator and report file (and published versions: reports as (source, text)
    pairs, indicators as stored rows)."""
    ctx = ctx or runtime_context()
    indicators, issues = load_indicators(directory, ctx)
    registry = Registry(indicators=indicators, issues=issues)
    merge_published(registry, ctx, published_indicators or [])
    ctx.indicators = registry.indicators
    ctx.broken_indicators = broken_codes(issues) - set(registry.indicators)
    # retired codes stay usable by the report versions that already use them; the check for new
    # versions happens on publishing (services.reports.publish)
    sources = [(f"reports/{p.name}", p.read_text(encoding="utf-8")) for p in sorted((directory / "reports").glob("*.yaml"))]
    # published versions first: a file that repeats a published id@version with another text is the
    # one refused (it must not silently replace what departments already received)
    for source, text in [*(published or []), *sources]:
        spec, problems = parse_report(text, source, ctx)
        registry.issues += problems
        if spec is not None and spec.id and not any(p.severity == "error" for p in problems):
            registry.add_report(spec)
            if spec.valid_until is not None and spec.valid_until < clock.today():
                registry.issues.append(Issue("form-expired", f"报表“{spec.title}”的有效期至{spec.valid_until}，已过期：不能再生成",
                                             {"file": source, "path": "statutory.有效期至"}, "warning",
                                             hint="报批新版本后提高 version 并更新有效期"))
    return registry


def check_not_expired(spec: ReportSpec, on: date) -> None:
    """An expired statutory form may not be issued: refuse with its 有效期."""
    if spec.valid_until is not None and on > spec.valid_until:
        until = f"{spec.valid_until.year}年{spec.valid_until.month}月{spec.valid_until.day}日"
        raise ValidationFailed(Issue("form-expired", f"报表“{spec.title}”（{spec.ref}）的有效期至{until}，已过期，不能再生成",
                                     {"record": spec.ref}, hint="请管理员报批新版本并更新有效期"))

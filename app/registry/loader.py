"""Load and check the registry: the indicator dictionary and the report catalogue.

Files live in ``forms_registry/`` (``indicators/*.yaml``: lists of indicators; ``reports/*.yaml``:
one projection each). Versions an admin publishes in the browser are stored in the database and
join the file versions; every version stays loadable so an earlier report can be reproduced.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from app.issues import Issue, NotFound, ValidationFailed
from app.registry.parse import Context, Parser, did_you_mean
from app.registry.schema import Indicator, ReportSpec

ROOT = Path(__file__).resolve().parent.parent.parent
REGISTRY_DIR = ROOT / "forms_registry"
SEED_DATA = ROOT / "migrations" / "data"


def seed_context() -> Context:
    """Tag types, code lists and observation items as seeded by the migrations (their one home)."""
    tag_types = {t["code"]: t for t in json.loads((SEED_DATA / "tag_types.json").read_text(encoding="utf-8"))}
    code_lists: dict[str, dict[str, str]] = {}
    with open(SEED_DATA / "code_items.csv", encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            code_lists.setdefault(row["list_name"], {})[row["code"]] = row["label"]
    with open(SEED_DATA / "observation_items.csv", encoding="utf-8", newline="") as fh:
        items = {row["code"]: row for row in csv.DictReader(fh)}
    return Context(tag_types, code_lists, items)


@dataclass
class Registry:
    indicators: dict[str, Indicator] = field(default_factory=dict)
    reports: dict[str, dict[int, ReportSpec]] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)

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
            if indicator is None or not indicator.code:
                continue
            if any(p.severity == "error" for p in parser.issues[seen:]):
                continue  # a broken indicator (e.g. an unknown conversion) must not compute anything
            if indicator.code in indicators:
                parser.issue("duplicate-id", f"[{i}].code", f"指标代码“{indicator.code}”重复",
                             hint=f"已在 {indicators[indicator.code].source} 中定义")
                continue
            indicators[indicator.code] = indicator
        issues += parser.issues
    return indicators, issues


def parse_report(text: str, source: str, ctx: Context) -> tuple[ReportSpec | None, list[Issue]]:
    data, issues = read_yaml(text, source)
    if data is None:
        return None, issues or [Issue("empty-file", "文件为空", {"file": source})]
    parser = Parser(source, ctx)
    spec = parser.report(data, text)
    return spec, issues + parser.issues


def load_registry(directory: Path = REGISTRY_DIR, ctx: Context | None = None,
                  published: list[tuple[str, str]] | None = None) -> Registry:
    """Read every indicator and report file (and published versions, as (source, text) pairs)."""
    ctx = ctx or seed_context()
    indicators, issues = load_indicators(directory, ctx)
    ctx.indicators = indicators
    registry = Registry(indicators=indicators, issues=issues)
    sources = [(f"reports/{p.name}", p.read_text(encoding="utf-8")) for p in sorted((directory / "reports").glob("*.yaml"))]
    for source, text in [*sources, *(published or [])]:
        spec, problems = parse_report(text, source, ctx)
        registry.issues += problems
        if spec is not None and spec.id and not any(p.severity == "error" for p in problems):
            registry.add_report(spec)
            if spec.valid_until is not None and spec.valid_until < date.today():
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


def require_valid(registry: Registry) -> Registry:
    if registry.errors:
        raise ValidationFailed(registry.errors)
    return registry

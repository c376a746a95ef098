"""``ybt report list|run`` and ``ybt registry check [PATH]``."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from app.cli.common import fail_on_issues
from app.db import get_db
from app.issues import Issue
from app.registry.loader import REGISTRY_DIR, load_registry, parse_report, runtime_context
from app.registry.vocabulary import REPORT_KINDS
from app.services import audit, reports
from app.services.scope import effective_unmasked


@click.group("report", cls=AppGroup)
def report_group() -> None:
    """Department reports generated from the base data."""


@report_group.command("list")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def list_command(fmt: str) -> None:
    """List the report catalogue (newest version of each report)."""
    with get_db().session() as session:
        specs = reports.registry_for(current_app, session).latest()
    if fmt == "json":
        click.echo(json.dumps([reports.as_dict(s) for s in specs], ensure_ascii=False, indent=2))
        return
    for s in specs:
        click.echo(f"{s.id:<28} v{s.version:<3} {s.department:<7} {REPORT_KINDS[s.kind]:<12} {s.title}")


@report_group.command("run")
@click.argument("report")
@click.option("--area", "area_code", default=None, help="区划代码（默认全县）")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, help="参考日期 YYYY-MM-DD（默认今天）")
@click.option("--period", default=None, help="报告期：2025-06、2025Q2、2025H1、2025 或 2025-06-01..2025-06-30")
@click.option("--format", "fmt", type=click.Choice(reports.FORMATS), default="xlsx", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--purpose", default=None, help="用途（报表含完整个人信息时必填，记入访问审计）")
def run_command(report: str, area_code: str | None, as_of: datetime | None, period: str | None, fmt: str, out: Path,
                purpose: str | None) -> None:
    """Generate REPORT (id or id@version) for an area and a date or period; a report printing personal
    fields in full needs ``--purpose``, recorded in the audit."""
    report_id, _, version = report.partition("@")
    db = get_db()
    with fail_on_issues(), db.transaction() as session:
        registry = reports.registry_for(current_app, session)
        request = reports.RunRequest(report_id, int(version) if version.isdigit() else None, area_code,
                                     as_of.date() if as_of else None, period)
        unmasked = effective_unmasked(session, registry.get(report_id, request.version))
        if unmasked:
            purpose = audit.require_purpose(purpose, "报表")
        result = reports.build_report(db, session, registry, None, request)
        out.parent.mkdir(parents=True, exist_ok=True)
        reports.write_report(result, fmt, out)
        reports.log_download(session, None, result, fmt)
        audit.record(None, "download", f"{report} {fmt} → {out.name}", records=sum(len(s.rows) for s in result.sheets),
                     username="cli", purpose=purpose, detail={"area": area_code, "unmasked": list(unmasked)}, session=session)
    click.echo(f"已生成 {result.meta['报表']}（{result.meta['区划']}，参考日 {result.meta['参考日期']}）→ {out}")


@click.group("registry", cls=AppGroup)
def registry_group() -> None:
    """The indicator dictionary and report catalogue (forms_registry/)."""


@registry_group.command("check")
@click.argument("path", required=False, type=click.Path(exists=True, path_type=Path))
def check_command(path: Path | None) -> None:
    """Validate the registry folder (default: the configured one), or one projection file against it."""
    configured = current_app.extensions.get("ybt.registry_dir") or REGISTRY_DIR
    if path is not None and path.is_file():
        registry = load_registry(configured)
        ctx = runtime_context()
        ctx.indicators = registry.indicators
        text = path.read_text(encoding="utf-8")
        spec, issues = parse_report(text, str(path), ctx)
        summary = f"{spec.ref}" if spec else str(path)
        existing = registry.reports.get(spec.id, {}).get(spec.version) if spec else None
        if existing is not None and existing.text != text:
            issues = [*issues, Issue("duplicate-id", f"报表“{spec.id}”第{spec.version}版已存在，内容不同", {"file": str(path), "path": "version"},
                                     hint=f"修改已有报表请把 version 提高到 {max(registry.reports[spec.id]) + 1}")]
    else:
        registry = load_registry(path or configured)
        issues = registry.issues
        summary = f"{len(registry.indicators)} 个指标，{sum(len(v) for v in registry.reports.values())} 个报表版本"
    _print(issues)
    errors = [i for i in issues if i.severity == "error"]
    if errors:
        raise click.ClickException(f"校验未通过：{len(errors)} 个错误")
    click.echo(f"校验通过：{summary}")


def _print(issues: list[Issue]) -> None:
    for issue in issues:
        label = "错误" if issue.severity == "error" else "警告"
        click.echo(f"{label} [{issue.code}] {issue}", err=True)

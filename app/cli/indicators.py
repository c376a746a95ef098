"""``ybt indicator list|show|check|publish|retire``: the indicator dictionary (口径) as data."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from app.cli.common import fail_on_issues
from app.db import get_db
from app.issues import Issue, NotFound
from app.registry.parse_values import did_you_mean
from app.services import indicators, reports


@click.group("indicator", cls=AppGroup)
def indicator_group() -> None:
    """The indicator dictionary: shipped files plus versions published in the browser or here."""


def _registry():  # noqa: ANN202 - the registry of files + published versions
    with get_db().session() as session:
        return reports.registry_for(current_app, session)


@indicator_group.command("list")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--department", default=None, help="只列出该部门的指标")
def list_command(fmt: str, department: str | None) -> None:
    """List every current indicator: code, name, definition, unit, department, version, used_by."""
    rows = [r for r in indicators.catalogue(_registry()) if department is None or r["department"] == department]
    if fmt == "json":
        keys = ("code", "name", "definition", "unit", "department", "version", "used_by", "retired", "computation")
        click.echo(json.dumps([{k: r[k] for k in keys} for r in rows], ensure_ascii=False, indent=2))
        return
    for r in rows:
        flag = " [已停用]" if r["retired"] else ""
        click.echo(f"{r['code']:<28} v{r['version']:<3} {r['department']:<7} {r['unit']:<4} {r['name']}{flag}"
                   f"  （用于 {len(r['used_by'])} 个报表版本）")


@indicator_group.command("show")
@click.argument("code")
def show_command(code: str) -> None:
    """Show one indicator: its 口径, computation, versions and where it is used."""
    registry = _registry()
    with fail_on_issues():
        if code not in registry.indicators:
            raise NotFound(Issue("unknown-indicator", f"指标“{code}”不存在", {"record": code},
                                 hint=did_you_mean(code, registry.indicators)))
    ind = registry.indicators[code]
    click.echo(f"{ind.code}  {ind.name}（第{ind.version}版{'，已停用' if code in registry.retired else ''}）")
    click.echo(f"口径：{ind.definition}")
    click.echo(f"单位：{ind.unit}    部门：{ind.department}    来源：{ind.source}")
    click.echo(f"版本：{'、'.join(str(v) for v in sorted(registry.indicator_versions.get(code, {1: ind})))}")
    click.echo("计算：" + json.dumps(indicators.computation(ind), ensure_ascii=False))
    used = registry.where_used().get(code, [])
    click.echo("使用它的报表：" + ("、".join(used) if used else "（无）"))


def _print(issues: list[Issue]) -> None:
    for issue in issues:
        click.echo(f"{'错误' if issue.severity == 'error' else '警告'} [{issue.code}] {issue}", err=True)


@indicator_group.command("check")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def check_command(path: Path) -> None:
    """Check an indicator file (one mapping or a list) against the dictionary; exit 1 on any error,
    e.g. a computation that an existing indicator already has."""
    checked = indicators.check_text(path.read_text(encoding="utf-8"), _registry(), str(path))
    _print(checked.issues)
    if checked.errors:
        raise click.ClickException(f"校验未通过：{len(checked.errors)} 个错误")
    click.echo("校验通过：" + ("、".join(f"{i.code}（第{i.version}版）" for i in checked.indicators) or "没有需要发布的指标"))


@indicator_group.command("publish")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--note", default="", help="发布说明")
def publish_command(path: Path, note: str) -> None:
    """Publish the indicators of a file as new versions (nothing is stored while an error stands)."""
    text = path.read_text(encoding="utf-8")
    with fail_on_issues(), get_db().transaction() as session:
        registry = reports.registry_for(current_app, session)
        checked = indicators.check_text(text, registry, str(path))
        _print([i for i in checked.issues if i.severity == "warning"])
        done = indicators.publish(session, registry, None, text, note, str(path))
    click.echo("已发布：" + "、".join(f"{i.code} {i.name}（第{i.version}版）" for i in done))


@indicator_group.command("retire")
@click.argument("code")
@click.option("--note", default="", help="停用原因")
def retire_command(code: str, note: str) -> None:
    """Retire an indicator: new reports can no longer use it; the reports using it keep running."""
    with fail_on_issues(), get_db().transaction() as session:
        used = indicators.retire(session, reports.registry_for(current_app, session), None, code, note)
    click.echo(f"已停用指标 {code}" + (f"；仍在使用它的报表版本照常生成：{'、'.join(used)}" if used else ""))

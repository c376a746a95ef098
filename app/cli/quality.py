"""Trustworthy numbers on the command line: ``ybt report explain``, ``ybt report reconcile`` and
``ybt rules run``. The report subcommands attach to the existing ``report`` group."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from app.cli.common import fail_on_issues
from app.cli.reports import report_group
from app.db import get_db
from app.services import lineage, reports

_AS_OF = click.DateTime(formats=["%Y-%m-%d"])


def _request(report: str, area_code: str | None, as_of: datetime | None, period: str | None) -> reports.RunRequest:
    report_id, _, version = report.partition("@")
    return reports.RunRequest(report_id, int(version) if version.isdigit() else None, area_code,
                              as_of.date() if as_of else None, period)


def _dump(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


@report_group.command("explain")
@click.argument("report")
@click.option("--area", "area_code", default=None, help="区划代码（默认全县）：村、乡镇（小计行）或县（合计行）")
@click.option("--as-of", "as_of", type=_AS_OF, default=None, help="参考日期 YYYY-MM-DD（默认今天）")
@click.option("--period", default=None, help="报告期（变动从此期间找），默认参考日所在月的1日至参考日")
@click.option("--column", type=int, required=True, help="栏次（叶子列的编号 1、2、3 …）")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def explain_command(report: str, area_code: str | None, as_of: datetime | None, period: str | None, column: int,
                    fmt: str) -> None:
    """Explain one cell of REPORT: its value, the records it counts and the period's changes."""
    db = get_db()
    with fail_on_issues(), db.session() as session:
        registry = reports.registry_for(current_app, session)
        result = lineage.explain(db, session, registry, None, _request(report, area_code, as_of, period), column)
    if fmt == "json":
        _dump(result.as_dict())
        return
    data = result.as_dict()
    click.echo(f"{result.report} {result.area_code} {result.area_name} 第{column}栏 {result.column_label}"
               f"（{result.indicator.name}，{result.indicator.unit}）= {data['value']}")
    click.echo(f"口径：{result.indicator.definition}")
    click.echo(f"参考日 {data['as_of']}，变动期间 {data['period'][0]} 至 {data['period'][1]}")
    click.echo(f"计入的记录（{len(result.records)}）：")
    for r in result.records:
        click.echo(f"  {r['entity']}#{r['id']} {r.get('name') or ''} {r.get('id_number') or ''} {r['area_code']} 值 {r['value']}")
    click.echo(f"期间内的变动（{len(result.changes)}）：")
    for c in result.changes:
        click.echo(f"  {c['effective_date']} {c['action_label']} {c['entity']}#{c['entity_id']} "
                   f"{c['who']}（{c['source_label']}，{c['when']}） {json.dumps(c['fields'], ensure_ascii=False, default=str)}")


@click.group("rules", cls=AppGroup)
def rules_group() -> None:
    """Validation rules over indicators (forms_registry/rules/)."""


@rules_group.command("run")
@click.option("--area", "area_code", default=None, help="区划代码（默认全县）")
@click.option("--as-of", "as_of", type=_AS_OF, default=None, help="参考日期 YYYY-MM-DD（默认今天）")
@click.option("--rule", "only", multiple=True, help="只运行这些规则（可重复）")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def rules_run_command(area_code: str | None, as_of: datetime | None, only: tuple[str, ...], fmt: str) -> None:
    """Run the validation rules for every village of an area; exit 0 even when rules are violated."""
    from app.services import validation

    db = get_db()
    with fail_on_issues(), db.session() as session:
        registry = reports.registry_for(current_app, session)
        rules = validation.rules_for(current_app, registry)
        run = validation.run_rules(db, session, registry, rules, None, area_code, as_of.date() if as_of else None,
                                   list(only) or None)
    if fmt == "json":
        _dump(run.as_dict()["violations"])
        return
    click.echo(f"{run.area_code} {run.area_name}，参考日 {run.on.isoformat()}：{len(run.rules)} 条规则，"
               f"{len(run.villages)} 个村，{len(run.violations)} 处不通过")
    for v in run.violations:
        flag = "（阻止提交）" if v.rule.blocking else ""
        click.echo(f"  [{v.rule.code}] {v.area_code} {v.area_name}：{v.message}{flag}")


@report_group.command("reconcile")
@click.argument("report")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--area", "area_code", default=None, help="区划代码（默认全县）")
@click.option("--as-of", "as_of", type=_AS_OF, default=None, help="参考日期 YYYY-MM-DD（默认今天）")
@click.option("--period", default=None, help="报告期：2025-06、2025Q2 …")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="差异表 .xlsx（可选）")
def reconcile_command(report: str, file: Path, area_code: str | None, as_of: datetime | None, period: str | None,
                      fmt: str, out: Path | None) -> None:
    """Compare a hand-made FILE (the department's own Excel form) with the generated REPORT."""
    from app.services import reconcile

    db = get_db()
    with fail_on_issues(), db.session() as session:
        registry = reports.registry_for(current_app, session)
        request = _request(report, area_code, as_of, period)
        spec = registry.get(request.report_id, request.version)
        reconcile.require_reconcilable(spec)
        generated = reports.build_report(db, session, registry, None, request)
        on = generated.meta["参考日期"]

        def link(code: str, column: int) -> str:
            return f"ybt report explain {spec.ref} --area {code} --as-of {on} --column {column}"

        result = reconcile.reconcile(generated, file.read_bytes(), file.name, link)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(reconcile.differences_xlsx(result))
    if fmt == "json":
        _dump(result.as_dict())
        return
    click.echo(f"{result.report} {result.area} 参考日 {result.as_of}：对齐 {result.rows_matched} 行、"
               f"{len(result.columns_matched)} 栏，差异 {len(result.differences)} 处")
    for note in result.notes:
        click.echo(f"  （{note}）")
    for d in result.differences:
        click.echo(f"  {d.row} 第{d.column}栏 {d.column_label}：手工 {_blank(d.hand)}，系统 {_blank(d.generated)}"
                   f"（{reconcile.STATUS[d.status]}）")
    if out is not None:
        click.echo(f"差异表 → {out}")


def _blank(value: Any) -> str:
    if value is None:
        return "—"
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


@click.command("completeness")
@with_appcontext
@click.option("--area", "area_code", default=None, help="区划代码（默认全县）")
@click.option("--as-of", "as_of", type=_AS_OF, default=None, help="参考日期 YYYY-MM-DD（默认今天）")
@click.option("--months", type=int, default=12, show_default=True, help="超过多少个月未更新算作过期")
@click.option("--period", default=None, help="检查有无修改的期间（默认参考日所在月）")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "xlsx"]), default="text", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="xlsx 输出文件")
def completeness_command(area_code: str | None, as_of: datetime | None, months: int, period: str | None, fmt: str,
                         out: Path | None) -> None:
    """Completeness and freshness of the base data per village, with township roll-up."""
    from app.services import completeness

    if fmt == "xlsx" and out is None:
        raise click.UsageError("--format xlsx 需要 --out 文件名")
    db = get_db()
    with fail_on_issues(), db.session() as session:
        result = completeness.completeness(db, session, None, area_code, as_of.date() if as_of else None, months, period)
    if fmt == "xlsx":
        assert out is not None
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(completeness.completeness_xlsx(result))
        click.echo(f"已导出 {len(result.villages)} 个村的完整性与时效 → {out}")
        return
    if fmt == "json":
        _dump(result.as_dict())
        return
    click.echo(f"{result.area_code} {result.area_name} 截至 {result.on.isoformat()}（期间 {result.period[0]} 至 {result.period[1]}）")
    for q in [result.total, *result.townships, *result.villages]:
        share = "—" if q.required_share is None else f"{q.required_share:.1%}"
        rec = "—" if q.recommended_share is None else f"{q.recommended_share:.1%}"
        click.echo(f"  {q.code} {q.name}：在世 {q.persons} 人，必填 {share}，建议 {rec}，"
                   f"{result.months}个月未更新 {q.stale} 人，期间内无修改的村 {q.villages_without_edit}/{q.villages}")


@rules_group.command("check")
def rules_check_command() -> None:
    """Check forms_registry/rules/*.yaml: unknown indicators, operators, properties (file, path, hint)."""
    from app.registry.rules import load_rules

    with get_db().session() as session:
        registry = reports.registry_for(current_app, session)
    rules, issues = load_rules(current_app.extensions["ybt.registry_dir"], registry.indicators)
    for issue in issues:
        click.echo(f"  [{issue.code}] {issue}" + (f"（{issue.hint}）" if issue.hint else ""), err=True)
    if issues:
        raise click.ClickException(f"校验规则有 {len(issues)} 个问题")
    click.echo(f"校验规则无误：{len(rules)} 条（{sum(r.blocking for r in rules)} 条阻止提交）")

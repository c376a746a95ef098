"""``ybt report draft FILE`` (reverse mapping), ``ybt report catalogue`` (报表目录) and ``ybt burden`` (减负监测)."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from app.cli.common import fail_on_issues
from app.cli.reports import report_group
from app.db import get_db
from app.registry.draft import check_department, draft_form, draft_id, to_yaml
from app.registry.indicator_list import all_indicators
from app.services import reports


@report_group.command("draft")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--department", default=None, help="部门代码（如 mca）：同分时优先本部门指标；默认按匹配结果推断")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="把草稿写成报表定义 YAML")
@click.option("--id", "report_id", default=None, help="草稿的报表编号（默认由表号或文件名生成）")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def draft_command(file: Path, department: str | None, out: Path | None, report_id: str | None, fmt: str) -> None:
    """Reverse-map a department's Excel form (blank or filled) onto the indicator dictionary."""
    with fail_on_issues(), get_db().session() as session:
        registry = reports.registry_for(current_app, session)
        check_department(department)
        draft = draft_form(file.read_bytes(), file.name, all_indicators(registry), department)
    rid = report_id or draft_id(draft, file.name)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(to_yaml(draft, rid), encoding="utf-8")
    if fmt == "json":
        click.echo(json.dumps({"id": rid, **draft.as_json()}, ensure_ascii=False, indent=2))
    else:
        click.echo(f"{draft.title or file.name}（{draft.sheet}）")
        for key, value in draft.statutory.items():
            click.echo(f"  {key}：{value}")
        if draft.unit_line:
            click.echo(f"  {draft.unit_line}")
        rows = draft.rows
        click.echo(f"  行：{rows['level']}，小计 {'有' if rows['subtotals'] else '无'}，合计 {rows['total']}；"
                   f"{'已填报的表' if draft.filled else '空白模板'}")
        for col in draft.columns:
            name = f"{col.path}/{col.label}" if col.path else col.label
            target = col.indicator or "需新建指标"
            click.echo(f"  {name:<30} → {target}（{col.score:.0f}）")
        click.echo(f"匹配 {len(draft.columns) - len(draft.unmatched)} 列，未匹配 {len(draft.unmatched)} 列")
    for issue in draft.issues:
        click.echo(f"警告 [{issue.code}] {issue}", err=True)
    if out is not None:
        click.echo(f"草稿已写入 {out}（ybt registry check {out} 检查；未匹配的列为警告）", err=True)


@report_group.command("catalogue")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "xlsx"]), default="text", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="xlsx 的输出文件")
def catalogue_command(fmt: str, out: Path | None) -> None:
    """报表目录: every report with 表号, department, frequency, validity, versions, overlap and use."""
    from app.services import catalogue

    if fmt == "xlsx" and out is None:
        raise click.ClickException("xlsx 格式需要 --out 指定输出文件")
    with fail_on_issues(), get_db().session() as session:
        entries = catalogue.catalogue(session, reports.registry_for(current_app, session))
    if fmt == "json":
        click.echo(json.dumps([e.as_dict() for e in entries], ensure_ascii=False, indent=2))
    elif fmt == "xlsx":
        assert out is not None
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(catalogue.catalogue_xlsx(entries))
        click.echo(f"报表目录（{len(entries)} 张报表）→ {out}")
    else:
        for e in entries:
            d = e.as_dict()
            o = d["overlap"]
            overlap = f"与 {o['report']} 重合 {o['share']:.0%}{' 疑似重复' if o['duplicate'] else ''}" if o else "无重合"
            click.echo(f"{d['id']:<28} {d['表号'] or '—':<10} {d['department']:<7} {d['valid_until'] or '—':<10} "
                       f"{catalogue.STATUS_LABELS[e.status]:<5} v{max(e.versions)} 下载{e.downloads}次 {overlap}")


@click.command("burden")
@with_appcontext
@click.option("--period", required=True, help="统计期：2025、2025H1、2025Q2、2025-06 或 2025-01-01..2025-06-30")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "xlsx"]), default="text", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="xlsx 的输出文件")
def burden_command(period: str, fmt: str, out: Path | None) -> None:
    """减负监测: report cells delivered vs base facts entered in a period, per report and per village."""
    from app.services import burden

    if fmt == "xlsx" and out is None:
        raise click.ClickException("xlsx 格式需要 --out 指定输出文件")
    with fail_on_issues(), get_db().session() as session:
        result = burden.compute(session, reports.registry_for(current_app, session), period)
    data = result.as_dict()
    if fmt == "json":
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    if fmt == "xlsx":
        assert out is not None
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(burden.burden_xlsx(result))
        click.echo(f"减负监测 {result.start}～{result.end} → {out}")
        return
    click.echo(f"减负监测 {result.start}～{result.end}")
    click.echo(f"  交付报表单元格 {data['cells_delivered']}（生成 {data['downloads']} 次）")
    by = "，".join(f"{burden.SOURCE_LABELS[s]} {n}" for s, n in data["facts_by_source"].items() if s != "other")
    click.echo(f"  录入基础数据 {data['facts_entered']} 条（{by}）")
    click.echo(f"  每录入一条交付 {data['cells_per_fact'] if data['cells_per_fact'] is not None else '—'} 个单元格")
    click.echo(f"  村无需重复填报的报表 {len(data['reports_zero_retyping'])} 张；目录中报表 {data['catalogue_size']} 张，"
               f"本期新纳入 {len(data['absorbed'])} 张")
    for r in data["reports"]:
        click.echo(f"  {r['id']:<28} 生成 {r['downloads']:>4} 次  单元格 {r['cells']:>8}")

"""``ybt report draft FILE`` (reverse mapping), ``ybt report catalogue`` (报表目录) and ``ybt burden`` (减负监测)."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask import current_app

from app.cli.common import fail_on_issues
from app.cli.reports import report_group
from app.db import get_db
from app.registry.draft import draft_form, draft_id, to_yaml
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

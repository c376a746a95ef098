"""``ybt seed-demo``: fill an empty database with the synthetic demo county (云溪县)."""

from __future__ import annotations

from datetime import datetime

import click
from flask.cli import with_appcontext

from app import clock
from app.cli.common import fail_on_issues
from app.db import get_db


@click.command("seed-demo")
@click.option("--persons", type=click.IntRange(min=1), default=20_000, show_default=True, help="人数")
@click.option("--seed", type=click.IntRange(min=0), default=1, show_default=True, help="随机种子（同样的参数生成同样的数据）")
@click.option("--if-empty", is_flag=True, help="数据库已有人员时跳过，不报错")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, help="基准日 YYYY-MM-DD（默认今天）")
@click.option("--quiet", is_flag=True, help="不显示各阶段进度")
@with_appcontext
def seed_demo_command(persons: int, seed: int, if_empty: bool, today: datetime | None, quiet: bool) -> None:
    """Generate the demo county: areas, households, persons, history, tags, houses, organisations,
    observations and demo users, in one transaction (all or nothing)."""
    from flask import current_app

    from app.seed.demo import base_data_counts, seed_demo

    if current_app.config["YBT_ENV"] == "production":
        raise click.ClickException("生产环境（YBT_ENV=production）不允许生成演示数据和演示账号")
    db = get_db()
    with db.session() as session:
        counts = base_data_counts(session)
    if if_empty and counts["person"]:
        click.echo(f"数据库已有 {counts['person']:,} 名人员，跳过演示数据生成（--if-empty）")
        return
    on = today.date() if today else clock.today()
    progress = None if quiet else (lambda line: click.echo(f"  … {line}", err=True))
    with fail_on_issues():
        summary = seed_demo(db, persons, seed, on, progress=progress)
    for line in summary.lines():
        click.echo(line)
    click.echo("演示账号：ybt users demo-logins")

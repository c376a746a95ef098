"""``ybt areas import FILE``: load the national list of statistical area codes."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from app.cli.common import fail_on_issues
from app.db import get_db
from app.services.areas import import_areas_csv


@click.group("areas", cls=AppGroup)
def areas_group() -> None:
    """Areas (统计用区划代码)."""


@areas_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_command(file: Path) -> None:
    """Import areas from a CSV (columns 统计用区划代码, 名称[, 城乡分类代码, 生效日期]); all or nothing."""
    with fail_on_issues(), get_db().transaction() as session:
        result = import_areas_csv(session, None, file, file_name=file.name)
    click.echo(f"区划导入完成：新增 {result.added}，更新 {result.updated}，未变 {result.unchanged}")

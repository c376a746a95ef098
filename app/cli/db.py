"""``ybt db upgrade`` / ``ybt db check``: build the schema and check models against migrations."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from app import db as database


@click.group("db", cls=AppGroup)
def db_group() -> None:
    """Database schema (alembic migrations)."""


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def upgrade(revision: str) -> None:
    """Create or upgrade the database to the latest schema."""
    url = current_app.config["DATABASE_URL"]
    database.migrate(url, revision)
    click.echo(f"数据库已升级到 {revision}：{database.get_db().engine.url.render_as_string(hide_password=True)}")


@db_group.command("check")
def check() -> None:
    """Fail when the models and the migrated database differ (drift)."""
    differences = database.drift(current_app.config["DATABASE_URL"])
    if differences:
        for diff in differences:
            click.echo(f"  {diff}", err=True)
        raise click.ClickException("模型与迁移不一致：请用 alembic revision --autogenerate 生成迁移并审阅")
    click.echo("模型与数据库结构一致")

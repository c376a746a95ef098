"""``ybt export TABLE --format csv|parquet --out FILE [--as-of DATE]``."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import click
from flask.cli import with_appcontext

from app.db import get_db
from app.issues import IssueError
from app.services import audit
from app.services.export import TABLES, export_table

#: Tables whose rows hold personal data in full: ID numbers, phones, addresses, ID-derived tag attributes.
PERSONAL_TABLES = frozenset({"persons", "households", "houses", "tags"})


@click.command("export")
@with_appcontext
@click.argument("table", type=click.Choice(TABLES))
@click.option("--format", "fmt", type=click.Choice(["csv", "parquet"]), default="csv", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, help="YYYY-MM-DD：导出该日的状态")
@click.option("--purpose", default=None, help="用途（导出含个人信息的表时必填，记入访问审计）")
def export_command(table: str, fmt: str, out: Path, as_of: datetime | None, purpose: str | None) -> None:
    """Export a base table (current state, or as of a date) for backups, other systems and checks.

    Tables holding personal data (full ID numbers, phones, addresses) need ``--purpose``, recorded in the audit."""
    on: date | None = as_of.date() if as_of else None
    if table in PERSONAL_TABLES:
        try:
            purpose = audit.require_purpose(purpose, "导出")
        except IssueError as exc:
            raise click.ClickException(exc.issues[0].message + "：请加 --purpose \"…\"") from exc
    try:
        n = export_table(get_db().engine, table, fmt, out, on)
    except OSError as exc:  # a folder that is a file, no permission, a full disk
        raise click.ClickException(f"无法写入 {out}：{exc.strerror or exc}") from exc
    audit.record(None, "export", f"{table} {fmt} → {out.name}", records=n, username="cli", purpose=purpose,
                 detail={"as_of": on.isoformat() if on else None})
    click.echo(f"已导出 {table} {n} 行 → {out}" + (f"（截至 {on}）" if on else ""))

"""``ybt audit list`` (who read what) and ``ybt audit purge`` (the retention period)."""

from __future__ import annotations

import json

import click
from flask import current_app
from flask.cli import AppGroup

from app.cli.common import fail_on_issues
from app.db import get_db
from app.services import audit


@click.group("audit", cls=AppGroup)
def audit_group() -> None:
    """The read audit."""


@audit_group.command("list")
@click.option("--user", "username", default=None, help="只看该用户名（API 令牌为 api:<前缀>）")
@click.option("--since", default=None, help="起始日期 YYYY-MM-DD（本地时间）")
@click.option("--until", default=None, help="截止日期 YYYY-MM-DD（含当天）")
@click.option("--kind", default=None, help="记录类型：" + "、".join(audit.KINDS))
@click.option("--limit", default=200, type=click.IntRange(1, 100_000), show_default=True)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def list_command(username: str | None, since: str | None, until: str | None, kind: str | None, limit: int, fmt: str) -> None:
    """Audit rows, newest first."""
    with fail_on_issues():
        filters = audit.parse_filters(username, kind, since, until)
    with get_db().session() as session:
        rows, total = audit.events(session, filters, limit=limit)
        items = [audit.as_dict(r) for r in rows]
    if fmt == "json":
        click.echo(json.dumps({"total": total, "events": items}, ensure_ascii=False, indent=1))
        return
    for e in items:
        purpose = f" 用途：{e['purpose']}" if e["purpose"] else ""
        click.echo(f"{e['at']}  {e['user']:<16} {e['kind_label']:<8} {e['target']}  {e['records']}条{purpose}")
    click.echo(f"共 {total} 条" + (f"，显示最新 {len(items)} 条" if total > len(items) else ""))


@audit_group.command("purge")
@click.option("--days", default=None, type=click.IntRange(0, 36_500), help="保留天数（默认 YBT_AUDIT_RETENTION_DAYS）")
def purge_command(days: int | None) -> None:
    """Remove audit rows older than the retention period."""
    keep = int(current_app.config["YBT_AUDIT_RETENTION_DAYS"]) if days is None else days
    with get_db().transaction() as session:
        removed = audit.purge(session, keep)
    click.echo(f"已删除 {removed} 条超过 {keep} 天的审计记录" if keep else "保留期为 0：全部保留，未删除")


@click.group("api-token", cls=AppGroup)
def api_token_group() -> None:
    """Tokens of department systems for the data-sharing API."""


@api_token_group.command("create")
@click.option("--department", required=True, help="部门代码，如 mca")
@click.option("--label", default="", help="用途说明，如 民政业务系统")
def api_token_create(department: str, label: str) -> None:
    """Create a token and print it once (only its hash is stored)."""
    from app.services import api_tokens

    with fail_on_issues(), get_db().transaction() as session:
        row, token = api_tokens.create_token(session, department, label, created_by="cli")
        audit.record(None, "api-token", f"create {row.prefix} for {department}", username="cli", session=session)
    click.echo(token)


@api_token_group.command("list")
def api_token_list() -> None:
    """Tokens (prefix, department, created, last used, revoked)."""
    from app.clock import display
    from app.services import api_tokens

    with get_db().session() as session:
        for t in api_tokens.tokens(session):
            state = f"已吊销 {display(t.revoked_at)}" if t.revoked_at else "有效"
            click.echo(f"#{t.id}  {t.prefix}…  {t.department:<8} {t.label}  创建 {display(t.created_at)}  "
                       f"最近使用 {display(t.last_used_at) or '—'}  {state}")


@api_token_group.command("revoke")
@click.argument("token_id", type=click.IntRange(1, 2**31 - 1))
def api_token_revoke(token_id: int) -> None:
    """Revoke a token at once."""
    from app.services import api_tokens

    with fail_on_issues(), get_db().transaction() as session:
        row = api_tokens.revoke_token(session, token_id)
        audit.record(None, "api-token", f"revoke {row.prefix}", username="cli", session=session)
    click.echo(f"已吊销令牌 #{token_id}")

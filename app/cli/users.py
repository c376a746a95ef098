"""``ybt users create`` and ``ybt users demo-logins``."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from app.cli.common import fail_on_issues
from app.db import get_db
from app.models import User
from app.models.user import ROLES
from app.services.users import create_user


@click.group("users", cls=AppGroup)
def users_group() -> None:
    """User accounts."""


@users_group.command("create")
@click.argument("username")
@click.option("--name", "display_name", required=True, help="显示名")
@click.option("--role", type=click.Choice(sorted(ROLES)), required=True)
@click.option("--area", "area_code", required=True, help="管辖区划代码")
@click.option("--department", default=None, help="部门代码（部门用户）")
@click.password_option()
def create(username: str, display_name: str, role: str, area_code: str, department: str | None, password: str) -> None:
    """Create a user account."""
    with fail_on_issues(), get_db().transaction() as session:
        user = create_user(session, username, password, display_name, role, area_code, department)
        user.must_change_password = True  # an initial password: changed at the first login
    click.echo(f"已创建用户 {username}（{ROLES[role]}）；首次登录须修改密码")


@users_group.command("demo-logins")
def demo_logins() -> None:
    """Print the demo accounts created by seed-demo."""
    from app.seed.users import DEMO_PASSWORD

    with get_db().session() as session:
        users = session.execute(select(User).where(User.username.startswith("demo_")).order_by(User.id)).scalars().all()
    if not users:
        click.echo("没有演示账号：先运行 ybt seed-demo")
        return
    click.echo(f"演示账号（密码均为 {DEMO_PASSWORD}）：")
    for user in users:
        click.echo(f"  {user.username:<24} {ROLES[user.role]:<12} {user.display_name}")

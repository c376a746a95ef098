"""Helpers shared by CLI commands: issues printed in Chinese, exit code 1, nothing half-written."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click

from app.issues import IssueError


@contextmanager
def fail_on_issues(limit: int = 50) -> Iterator[None]:
    try:
        yield
    except IssueError as exc:
        for issue in exc.issues[:limit]:
            click.echo(f"  [{issue.code}] {issue}", err=True)
        if len(exc.issues) > limit:
            click.echo(f"  …另有 {len(exc.issues) - limit} 个问题", err=True)
        raise click.ClickException(f"操作未执行：发现 {len(exc.issues)} 个问题，数据未作任何改动") from None

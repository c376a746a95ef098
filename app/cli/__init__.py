"""The ``ybt`` command line: a Flask CLI group, so ``flask --app app …`` works as well.

Commands live next to what they manage; this module only lists them.
"""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import FlaskGroup

from app.cli import areas, audit, catalogue, db, export, quality, reports, seed, serve, users
from app.cli.imports import flowback_group, import_group
from app.cli.indicators import indicator_group

COMMANDS: tuple[click.Command, ...] = (
    db.db_group,
    areas.areas_group,
    users.users_group,
    export.export_command,
    seed.seed_demo_command,
    reports.report_group,
    reports.registry_group,
    import_group, flowback_group,
    serve.serve_command,
    quality.rules_group,
    quality.completeness_command,
    indicator_group,
    catalogue.burden_command,  # its module also adds `ybt report draft` and `ybt report catalogue`
    audit.audit_group, audit.api_token_group,
)


def init_app(app: Flask) -> None:
    for command in COMMANDS:
        app.cli.add_command(command)


def _create_app() -> Flask:
    from app import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=True, add_version_option=False)
def main() -> None:
    """一表通 command line (ybt)."""

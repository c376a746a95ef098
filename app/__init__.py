"""一表通 (YiBiaoTong): one canonical base-data store; every department report is a projection of it."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the Flask app: configuration, database, registries, views and CLI."""
    # YBT_INSTANCE_PATH: another instance folder (config.py, the SQLite file), e.g. a throw-away one
    app = Flask(__name__, instance_relative_config=True, instance_path=os.environ.get("YBT_INSTANCE_PATH") or None)
    from app import config, db, registry

    config.load_config(app, test_config)
    db.init_app(app)
    registry.init_app(app)
    from app.reporting import frames

    frames.init_app(app)

    from app import cli, views

    views.init_app(app)
    cli.init_app(app)
    return app

"""Web views: thin blueprints that parse requests, call services and render templates."""

from __future__ import annotations

from flask import Blueprint, Flask

from app.views import admin, api, auth, csrf, errors, home, reports, security, tasks, village, workbook
from app.views import imports as imports_views

BLUEPRINTS: tuple[Blueprint, ...] = (auth.bp, home.bp, api.bp, reports.bp, village.bp, tasks.bp, workbook.bp)
BLUEPRINTS += (imports_views.bp, admin.bp)


def init_app(app: Flask) -> None:
    """Register the blueprints, CSRF check, error handlers and session-cookie settings."""
    security.install_converters(app)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]  # readable Chinese in API responses
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    security.init_app(app)
    csrf.init_app(app)
    errors.init_app(app)

"""Web views: thin blueprints that parse requests, call services and render templates."""

from __future__ import annotations

from flask import Blueprint, Flask

from app.views import (
    admin,
    api,
    auth,
    catalogue,
    csrf,
    designer,
    errors,
    home,
    nav,
    reports,
    security,
    tasks,
    village,
    workbook,
)
from app.views import imports as imports_views
from app.views import indicators as indicators_views
from app.views import quality as quality_views
from app.views.params import BoundedIntConverter

BLUEPRINTS: tuple[Blueprint, ...] = (auth.bp, home.bp, api.bp, reports.bp, village.bp, tasks.bp, workbook.bp)
BLUEPRINTS += (imports_views.bp, admin.bp)
BLUEPRINTS += (quality_views.bp,)
BLUEPRINTS += (indicators_views.bp, designer.bp)
BLUEPRINTS += (catalogue.bp,)  # 报表目录, 减负监测, reverse mapping (issue 11)


def init_app(app: Flask) -> None:
    """Register the blueprints, CSRF check, error handlers and session-cookie settings."""
    app.url_map.converters["int"] = BoundedIntConverter  # before the routes are added
    app.json.ensure_ascii = False  # type: ignore[attr-defined]  # readable Chinese in API responses
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    security.init_app(app)
    csrf.init_app(app)
    errors.init_app(app)
    nav.init_app(app)

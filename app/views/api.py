"""A small JSON API; errors use the shape of ``app.views.errors``."""

from __future__ import annotations

from dataclasses import asdict

from flask import Blueprint, Response, g, jsonify

from app.db import get_session
from app.services import dashboard
from app.views.auth import login_required

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.get("/me")
@login_required
def me() -> Response:
    return jsonify(dashboard.whoami(get_session(), g.user).to_dict())


@bp.get("/areas/<code>/summary")
@login_required
def area_summary(code: str) -> Response:
    area, counts = dashboard.area_summary(get_session(), g.user, code)
    return jsonify({"area": asdict(area), "counts": counts.to_dict()})

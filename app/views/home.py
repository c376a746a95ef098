"""The landing page: what each role sees first after logging in."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Blueprint, current_app, g, render_template
from sqlmodel import Session
from werkzeug.wrappers import Response

from app.db import get_session
from app.issues import Issue, PermissionDenied
from app.models import User
from app.services import dashboard, reports
from app.services.scope import require_admin
from app.views.auth import login_required

bp = Blueprint("home", __name__)

# Role → (the service that gathers the page's data, the template that shows it).
LANDINGS: dict[str, tuple[Callable[[Session, User], Any], str]] = {
    "village_cadre": (dashboard.village_dashboard, "home/village.html"),
    "township_staff": (dashboard.township_dashboard, "home/township.html"),
    "department": (dashboard.department_dashboard, "home/department.html"),
    "admin": (lambda session, actor: require_admin(actor), "home/admin.html"),  # actions only
}


@bp.get("/")
@login_required
def index() -> str:
    landing = LANDINGS.get(g.user.role)
    if landing is None:
        raise PermissionDenied(Issue("unknown-role", f"账号角色“{g.user.role}”没有对应的首页，请联系管理员"))
    gather, template = landing
    session = get_session()
    data = gather(session, g.user)
    # a broken registry file does not stop the app: its definitions are left out and admins see why
    problems = reports.registry_for(current_app, session).errors if g.user.role == "admin" else []
    return render_template(template, data=data, registry_problems=problems)


@bp.get("/admin/reference")
@login_required
def reference() -> str:
    """The read-only dictionaries (areas, users, code lists, tag types), off the admin's landing page."""
    return render_template("home/reference.html", data=dashboard.admin_dashboard(get_session(), g.user))


@bp.get("/favicon.ico")
def favicon() -> Response:
    """The icon, from memory: browsers ask for it on every page and often drop the request when the page
    moves on — a file handle left open by such a request would leak."""
    global _FAVICON
    if _FAVICON is None:
        _FAVICON = (Path(current_app.static_folder or "") / "favicon.svg").read_bytes()
    return Response(_FAVICON, mimetype="image/svg+xml", headers={"Cache-Control": "public, max-age=86400"})


_FAVICON: bytes | None = None

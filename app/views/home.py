"""The landing page: what each role sees first after logging in."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, g, render_template
from sqlmodel import Session

from app.db import get_session
from app.issues import Issue, PermissionDenied
from app.models import User
from app.services import dashboard
from app.views.auth import login_required

bp = Blueprint("home", __name__)

# Role → (the service that gathers the page's data, the template that shows it).
LANDINGS: dict[str, tuple[Callable[[Session, User], Any], str]] = {
    "village_cadre": (dashboard.village_dashboard, "home/village.html"),
    "township_staff": (dashboard.township_dashboard, "home/township.html"),
    "department": (dashboard.department_dashboard, "home/department.html"),
    "admin": (dashboard.admin_dashboard, "home/admin.html"),
}


@bp.get("/")
@login_required
def index() -> str:
    landing = LANDINGS.get(g.user.role)
    if landing is None:
        raise PermissionDenied(Issue("unknown-role", f"账号角色“{g.user.role}”没有对应的首页，请联系管理员"))
    gather, template = landing
    return render_template(template, data=gather(get_session(), g.user))

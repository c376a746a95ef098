"""Tag types and observation items as data (admin): list, add and edit them in the browser."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.db import get_session
from app.issues import IssueError
from app.models import ObservationItem, TagType
from app.services import extensions
from app.services.codelists import code_lists
from app.services.scope import require_admin
from app.views.auth import login_required

bp = Blueprint("extensions", __name__, url_prefix="/admin/extensions")
ATTR_ROWS = 3  # blank attribute rows offered below the existing ones


def _admin() -> None:
    require_admin(g.user)


def _options() -> dict[str, Any]:
    lists = code_lists(get_session())
    return {"departments": lists.get("department", {}), "list_names": sorted(n for n in lists if not n.startswith("_")),
            "attr_types": extensions.ATTR_TYPES, "subjects": extensions.SUBJECTS,
            "item_subjects": extensions.ITEM_SUBJECTS, "period_types": extensions.PERIOD_TYPES}


@bp.get("/")
@login_required
def index() -> str:
    _admin()
    session = get_session()
    tag_types = session.execute(select(TagType).order_by(TagType.sort_order, TagType.code)).scalars().all()
    items = session.execute(select(ObservationItem).order_by(ObservationItem.code)).scalars().all()
    return render_template("extensions/index.html", tag_types=tag_types, items=items, **_options())


def _tag_form() -> dict[str, Any]:
    f = request.form
    rows = [{"name": n, "label": lab, "type": t, "code_list": c, "required": r == "1", "unit": u}
            for n, lab, t, c, r, u in zip(f.getlist("attr_name"), f.getlist("attr_label"), f.getlist("attr_type"),
                                          f.getlist("attr_code_list"), f.getlist("attr_required"), f.getlist("attr_unit"),
                                          strict=False)]
    return {"code": f.get("code", "").strip(), "name": f.get("name", ""), "subject": f.get("subject", ""),
            "department": f.get("department", ""), "description": f.get("description", ""),
            "sensitive": f.get("sensitive") == "1", "attributes": rows}


@bp.route("/tag-types/new", methods=["GET", "POST"])
@bp.route("/tag-types/<type_code>", methods=["GET", "POST"])
@login_required
def tag_type(type_code: str | None = None) -> str | Response | tuple[str, int]:
    _admin()
    code = type_code  # not `code`: that URL part names an area everywhere else (the scope matrix relies on it)
    session = get_session()
    existing = session.get(TagType, code) if code else None
    if code and existing is None:
        abort(404)
    if request.method == "GET":
        data = ({"code": existing.code, "name": existing.name, "subject": existing.subject, "department": existing.department,
                 "description": existing.description, "sensitive": existing.sensitive, "attributes": list(existing.attributes)}
                if existing else {"subject": "person", "attributes": []})
        return render_template("extensions/tag_type.html", data=data, new=existing is None, issues=[], blank=ATTR_ROWS, **_options())
    data = _tag_form()
    if existing is not None:
        data["code"] = existing.code
    try:
        saved = extensions.save_tag_type(session, g.user, data, new=existing is None)
        session.commit()
    except IssueError as exc:
        session.rollback()
        return render_template("extensions/tag_type.html", data=data, new=existing is None, issues=exc.issues,
                               blank=0, **_options()), exc.status
    flash(f"已保存标签类型 {saved.code} {saved.name}：村级录入、Excel 一表、指标字典和台账导入即刻可用", "success")
    return redirect(url_for("extensions.index"))


@bp.route("/items/new", methods=["GET", "POST"])
@bp.route("/items/<item_code>", methods=["GET", "POST"])
@login_required
def item(item_code: str | None = None) -> str | Response | tuple[str, int]:
    _admin()
    code = item_code
    session = get_session()
    existing = session.get(ObservationItem, code) if code else None
    if code and existing is None:
        abort(404)
    if request.method == "GET":
        data = existing.model_dump() if existing else {"period_type": "Y", "subject": "area"}
        return render_template("extensions/item.html", data=data, new=existing is None, issues=[], **_options())
    data = {k: request.form.get(k, "") for k in ("code", "name", "unit", "period_type", "subject", "department", "description")}
    if existing is not None:
        data["code"] = existing.code
    try:
        saved = extensions.save_observation_item(session, g.user, data, new=existing is None)
        session.commit()
    except IssueError as exc:
        session.rollback()
        return render_template("extensions/item.html", data=data, new=existing is None, issues=exc.issues, **_options()), exc.status
    flash(f"已保存台账指标 {saved.code} {saved.name}", "success")
    return redirect(url_for("extensions.index"))

"""Organisation pages: the area's list, register, show with history, edit, close (注销).

The forms are generated from ``Organisation``'s columns (``views/forms.py``); the service checks the
统一社会信用代码 (GB 32100) and its uniqueness. Closing is the end state.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import g, render_template, request, url_for
from werkzeug.wrappers import Response

from app.clock import today
from app.models import Organisation
from app.services import organisations
from app.services.codelists import code_lists
from app.views.auth import login_required
from app.views.forms import Form, FormField, model_form
from app.views.village.common import (
    PER_PAGE,
    _area_context,
    _display_rows,
    _effective_form,
    _history,
    _page_arg,
    _render_form,
    _session,
    _version,
    bp,
)
from app.views.village.submit import on_field, others_since, parse_date, parse_forms, save

ORGANISATION_MANAGED = frozenset({"area_code", "status"})
STATUS_FILTERS = [("1", "正常"), ("2", "已注销"), ("all", "全部")]


def _organisation_form(org: Organisation | None = None) -> Form:
    form = model_form(_session(), Organisation, exclude=ORGANISATION_MANAGED)
    form["uscc"].help = "18位，GB 32100；个体户等暂无代码的可不填"
    return form.fill(org.model_dump()) if org else form


@bp.get("/<code>/organisations")
@login_required
def organisation_list(code: str) -> str:
    context = _area_context(code)
    q, kind, status = request.args.get("q", ""), request.args.get("kind", ""), request.args.get("status", "1")
    page = organisations.search_organisations(
        _session(), g.user, code, text=q, kind=kind or None,
        status=None if status == "all" else (status if status in ("1", "2") else "1"), page=_page_arg(), per_page=PER_PAGE)
    labels = code_lists(_session())
    return render_template("village/organisations.html", page=page, q=q, kind=kind, status=status, labels=labels,
                           kinds=list(labels.get("org_kind", {}).items()), status_filters=STATUS_FILTERS,
                           tab="organisations", **context)


@bp.route("/<code>/organisations/new", methods=["GET", "POST"])
@login_required
def organisation_new(code: str) -> Response | tuple[str, int]:
    context = _area_context(code)
    session = _session()
    form, eff = _organisation_form(), _effective_form()
    eff["valid_from"].help = "从哪一天起登记这个单位（成立或迁入的日期）"
    sections = [(None, form), ("生效", eff)]
    page = {"title": "登记单位", "area": context["area"], "back": url_for("village.organisation_list", code=code),
            "submit": "保存", "sections": sections}
    if request.method == "GET":
        return _render_form(**page)
    if (parsed := parse_forms(form, eff)) is None:
        return _render_form(422, **page)
    values, eff_values = parsed
    return save(page, lambda: organisations.create_organisation(session, g.user, {**values, "area_code": code},
                                                                effective=eff_values["valid_from"]),
                lambda org: f"已登记单位：{org.name}",
                lambda org: url_for("village.organisation_show", organisation_id=org.id))


@bp.get("/organisation/<int:organisation_id>")
@login_required
def organisation_show(organisation_id: int) -> str:
    session = _session()
    org = organisations.get_organisation(session, g.user, organisation_id)
    context = _area_context(org.area_code)
    return render_template("village/organisation.html", org=org, org_rows=_display_rows(_organisation_form(org)),
                           history=_history(session, "organisation", organisation_id, Organisation), **context)


def _others(organisation_id: int, seen: int) -> Callable[[], Any]:
    return others_since("organisation", organisation_id, Organisation, seen,
                        lambda: organisations.get_organisation(_session(), g.user, organisation_id))


@bp.route("/organisation/<int:organisation_id>/edit", methods=["GET", "POST"])
@login_required
def organisation_edit(organisation_id: int) -> Response | tuple[str, int]:
    session = _session()
    org = organisations.get_organisation(session, g.user, organisation_id)
    seen = _version("row_version", org.row_version)
    form, eff = _organisation_form(org), _effective_form()
    sections = [(None, form), ("生效", eff)]
    page = {"title": f"修改单位：{org.name}", "area": org.area_code, "sections": sections,
            "back": url_for("village.organisation_show", organisation_id=organisation_id), "submit": "保存修改",
            "hidden": {"row_version": seen}}
    if request.method == "GET":
        return _render_form(**page)
    if (parsed := parse_forms(form, eff)) is None:
        return _render_form(422, **page)
    values, eff_values = parsed
    return save(page, lambda: organisations.update_organisation(
        session, g.user, organisation_id, values, effective=eff_values["valid_from"], expected_version=seen),
        "已保存", url_for("village.organisation_show", organisation_id=organisation_id),
        others=_others(organisation_id, seen))


@bp.route("/organisation/<int:organisation_id>/close", methods=["GET", "POST"])
@login_required
def organisation_close(organisation_id: int) -> Response | tuple[str, int]:
    session = _session()
    org = organisations.get_organisation(session, g.user, organisation_id)
    seen = _version("row_version", org.row_version)
    when = Form([FormField("on", "注销日期", "date", required=True, value=today().isoformat(),
                           help="从这一天起单位不再计入统计")])
    sections = [(None, when)]
    page = {"title": f"注销单位：{org.name}", "area": org.area_code, "sections": sections,
            "back": url_for("village.organisation_show", organisation_id=organisation_id), "submit": "确认注销",
            "hidden": {"row_version": seen}, "note": "注销是最终状态：单位保留在历史记录中，但不能再修改。"}
    if request.method == "GET":
        return _render_form(**page)
    if (values := parse_date(when, "请填写注销日期")) is None:
        return _render_form(422, **page)
    return save(page, lambda: organisations.close_organisation(session, g.user, organisation_id, values["on"],
                                                               expected_version=seen),
                f"已注销（{values['on']}）", url_for("village.organisation_show", organisation_id=organisation_id),
                others=_others(organisation_id, seen), fix=on_field("valid_from"))

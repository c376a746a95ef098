"""Household pages: add, show, edit."""

from __future__ import annotations

from flask import g, render_template, request, url_for
from werkzeug.wrappers import Response

from app import clock
from app.issues import PermissionDenied
from app.models import Household
from app.services import audit, households, tags
from app.services.dashboard import area_info
from app.services.scope import unmasked_fields
from app.views.auth import client_address, login_required
from app.views.village.common import (
    _area_context,
    _attr_rows,
    _current_tags,
    _display_rows,
    _effective_form,
    _history,
    _house_labels,
    _household_form,
    _is_current,
    _labels,
    _render_form,
    _session,
    _version,
    bp,
)
from app.views.village.submit import others_since, parse_forms, save

# -- households -------------------------------------------------------------------------------------




@bp.route("/<code>/households/new", methods=["GET", "POST"])
@login_required
def household_new(code: str) -> Response | tuple[str, int]:
    context = _area_context(code)
    session = _session()
    form, eff = _household_form(), _effective_form()
    sections = [(None, form), ("生效", eff)]
    page = {"title": "新建户", "area": context["area"], "back": url_for("village.household_list", code=code),
            "submit": "保存", "sections": sections}
    if request.method == "GET":
        return _render_form(**page)
    if (parsed := parse_forms(form, eff)) is None:
        return _render_form(422, **page)
    values, eff_values = parsed
    return save(page, lambda: households.create_household(session, g.user, {**values, "area_code": code},
                                                          effective=eff_values["valid_from"]),
                lambda h: f"已新建户 {h.number}", lambda h: url_for("village.household_show", household_id=h.id))


@bp.get("/household/<int:household_id>")
@login_required
def household_show(household_id: int) -> str:
    session = _session()
    try:
        h = households.get_household(session, g.user, household_id)
    except PermissionDenied:
        audit.record(g.user, "household-view", f"household:{household_id}", detail={"refused": True},
                     address=client_address())
        raise
    members = households.members(session, g.user, household_id)
    audit.record(g.user, "household-view", f"household:{household_id} {h.number}", records=len(members),
                 address=client_address(), detail={"area": h.area_code, "unmasked": sorted(unmasked_fields(session, g.user))})
    all_tags = tags.tags_of(session, g.user, household_id=household_id)
    today = clock.today()
    member_tags = _current_tags(persons=[m.id for m in members])
    types = tags.tag_types(session)
    return render_template(
        "village/household.html", h=h, attr_rows={t.id: _attr_rows(types.get(t.tag_code), t.attrs) for t in all_tags}, household_rows=_display_rows(_household_form(h, masked=True)),
        members=members, member_tags=member_tags, houses=households.houses_of(session, g.user, household_id),
        house_labels=_house_labels(), current_tags=[t for t in all_tags if _is_current(t, today)],
        ended_tags=[t for t in all_tags if not _is_current(t, today)],
        tag_names={t.code: t for t in types.values()}, today=today,
        history=_history(session, "household", household_id, Household, all_tags),
        area=area_info(session, h.area_code), code=h.area_code, **_labels(),
    )


@bp.route("/household/<int:household_id>/edit", methods=["GET", "POST"])
@login_required
def household_edit(household_id: int) -> Response | tuple[str, int]:
    session = _session()
    h = households.get_household(session, g.user, household_id)
    seen = _version("row_version", h.row_version)
    form, eff = _household_form(h), _effective_form()
    sections = [(None, form), ("生效", eff)]
    page = {"title": f"修改户 {h.number}", "area": h.area_code, "sections": sections,
            "back": url_for("village.household_show", household_id=household_id), "submit": "保存修改",
            "hidden": {"row_version": seen}}
    if request.method == "GET":
        return _render_form(**page)
    if (parsed := parse_forms(form, eff)) is None:
        return _render_form(422, **page)
    values, eff_values = parsed
    return save(page, lambda: households.update_household(session, g.user, household_id, values,
                                                          effective=eff_values["valid_from"], expected_version=seen),
                "已保存", url_for("village.household_show", household_id=household_id),
                others=others_since("household", household_id, Household, seen,
                                    lambda: households.get_household(session, g.user, household_id)))

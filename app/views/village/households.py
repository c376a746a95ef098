"""Household pages: add, show, edit."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from app.issues import Conflict, IssueError, PermissionDenied
from app.models import Household
from app.services import audit, households, persons, tags
from app.services.dashboard import area_info
from app.services.scope import unmasked_fields
from app.views.auth import client_address, login_required
from app.views.village.common import (
    _apply_issues,
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
    _others_changes,
    _render_form,
    _session,
    _status_of,
    _version,
    bp,
)

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
    values, issues = form.parse(request.form)
    eff_values, eff_issues = eff.parse(request.form)
    if issues or eff_issues:
        form.add_issues(issues), eff.add_issues(eff_issues)
        return _render_form(422, **page)
    try:
        h = households.create_household(session, g.user, {**values, "area_code": code}, effective=eff_values["valid_from"])
        session.commit()
    except IssueError as exc:
        session.rollback()
        _apply_issues(exc, sections)
        return _render_form(_status_of(exc), **page)
    flash(f"已新建户 {h.number}", "success")
    return redirect(url_for("village.household_show", household_id=h.id))


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
    today = persons.today()
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
    values, issues = form.parse(request.form)
    eff_values, eff_issues = eff.parse(request.form)
    if issues or eff_issues:
        form.add_issues(issues), eff.add_issues(eff_issues)
        return _render_form(422, **page)
    try:
        households.update_household(session, g.user, household_id, values, effective=eff_values["valid_from"],
                                    expected_version=seen)
        session.commit()
    except IssueError as exc:
        session.rollback()
        _apply_issues(exc, sections)
        if isinstance(exc, Conflict):
            now = households.get_household(session, g.user, household_id).row_version
            page["others"] = _others_changes(session, "household", household_id, Household, seen, now)
        return _render_form(_status_of(exc), **page)
    flash("已保存", "success")
    return redirect(url_for("village.household_show", household_id=household_id))

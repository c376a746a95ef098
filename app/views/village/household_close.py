"""Closing a household (注销户): refused while living members still belong to it."""

from __future__ import annotations

from flask import flash, g, redirect, request, url_for
from werkzeug.wrappers import Response

from app.clock import today
from app.issues import Conflict, Issue, IssueError
from app.models import Household
from app.services import households
from app.views.auth import login_required
from app.views.forms import Form, FormField
from app.views.village.common import (
    _apply_issues,
    _others_changes,
    _render_form,
    _session,
    _status_of,
    _version,
    bp,
)


@bp.route("/household/<int:household_id>/close", methods=["GET", "POST"])
@login_required
def household_close(household_id: int) -> Response | tuple[str, int]:
    session = _session()
    h = households.get_household(session, g.user, household_id)
    seen = _version("row_version", h.row_version)
    when = Form([FormField("on", "注销日期", "date", required=True, value=today().isoformat(),
                           help="从这一天起该户不再计入统计")])
    sections = [(None, when)]
    page = {"title": f"注销户 {h.number}", "area": h.area_code, "sections": sections,
            "back": url_for("village.household_show", household_id=household_id), "submit": "确认注销",
            "hidden": {"row_version": seen},
            "note": "只有没有在世成员的户才能注销：请先为成员登记死亡、迁出或转户。注销后户保留在历史记录中。"}
    if request.method == "GET":
        return _render_form(**page)
    values, issues = when.parse(request.form)
    if not values.get("on") and not issues:
        issues.append(Issue("required", "请填写注销日期", {"field": "on"}))
    if issues:
        when.add_issues(issues)
        return _render_form(422, **page)
    try:
        households.end_household(session, g.user, household_id, values["on"], expected_version=seen)
        session.commit()
    except IssueError as exc:
        session.rollback()
        exc.issues = [i.at(field="on") if i.location.get("field") in ("valid_from", "status_date") else i for i in exc.issues]
        _apply_issues(exc, sections)
        if isinstance(exc, Conflict):
            now = households.get_household(session, g.user, household_id).row_version
            page["others"] = _others_changes(session, "household", household_id, Household, seen, now)
        return _render_form(_status_of(exc), **page)
    flash(f"户 {h.number} 已于 {values['on']} 注销", "success")
    return redirect(url_for("village.household_show", household_id=household_id))

"""Closing a household (注销户): refused while living members still belong to it."""

from __future__ import annotations

from flask import g, request, url_for
from werkzeug.wrappers import Response

from app.clock import today
from app.models import Household
from app.services import households
from app.views.auth import login_required
from app.views.forms import Form, FormField
from app.views.village.common import (
    _render_form,
    _session,
    _version,
    bp,
)
from app.views.village.submit import on_field, others_since, parse_date, save


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
    if (values := parse_date(when, "请填写注销日期")) is None:
        return _render_form(422, **page)
    return save(page, lambda: households.end_household(session, g.user, household_id, values["on"], expected_version=seen),
                f"户 {h.number} 已于 {values['on']} 注销", url_for("village.household_show", household_id=household_id),
                others=others_since("household", household_id, Household, seen,
                                    lambda: households.get_household(session, g.user, household_id)), fix=on_field("valid_from", "status_date"))

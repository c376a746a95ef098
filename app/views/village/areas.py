"""The area's pages: the chooser, the persons and households lists, the periodic values."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from app import clock
from app.issues import IssueError
from app.services import audit, history, households, observations, persons
from app.services.dashboard import township_dashboard
from app.views.auth import client_address, login_required
from app.views.forms import display
from app.views.village.common import (
    PER_PAGE,
    _area_context,
    _current_tags,
    _page_arg,
    _session,
    _status_of,
    _version,
    bp,
)

# -- the area: chooser, lists ---------------------------------------------------------------------


@bp.get("/")
@login_required
def index() -> Response | str:
    """A village cadre or grid worker goes to their area; township staff and admins choose a village."""
    if g.user.role == "village_cadre":
        return redirect(url_for("village.household_list", code=g.user.area_code))
    data = township_dashboard(_session(), g.user)
    return render_template("village/index.html", data=data)


@bp.get("/<code>/")
@login_required
def area_home(code: str) -> Response:
    return redirect(url_for("village.household_list", code=code))




@bp.get("/<code>/households")
@login_required
def household_list(code: str) -> str:
    context = _area_context(code)
    q, tag = request.args.get("q", ""), request.args.get("tag", "")
    page = households.search_households(_session(), g.user, code, text=q, tag=tag or None, page=_page_arg(), per_page=PER_PAGE)
    row_tags = _current_tags(households=[r.household.id for r in page.rows])
    audit.record(g.user, "household-search", f"area:{code}", records=len(page.rows), address=client_address(),
                 detail={"q": q[:100], "tag": tag[:40], "total": page.total, "page": page.page})
    return render_template("village/households.html", page=page, q=q, tag=tag, row_tags=row_tags, tab="households", **context)


@bp.get("/<code>/persons")
@login_required
def person_list(code: str) -> str:
    context = _area_context(code)
    args = {k: request.args.get(k, "") for k in ("q", "tag", "living", "residence")}
    page = persons.search_persons(_session(), g.user, code, text=args["q"], tag=args["tag"] or None,
                                  living_status=args["living"] or None, residence_type=args["residence"] or None,
                                  page=_page_arg(), per_page=PER_PAGE)
    numbers = households.numbers_of(_session(), {p.household_id for p in page.rows if p.household_id})
    row_tags = _current_tags(persons=[p.id for p in page.rows])
    audit.record(g.user, "person-search", f"area:{code}", records=len(page.rows), address=client_address(),
                 detail={**{k: v[:100] for k, v in args.items() if v}, "total": page.total, "page": page.page})
    return render_template("village/persons.html", page=page, args=args, numbers=numbers, row_tags=row_tags,
                           today=clock.today(), tab="persons", **context)




# -- periodic values -----------------------------------------------------------------------------


@bp.route("/<code>/observations", methods=["GET", "POST"])
@login_required
def observation_list(code: str) -> Response | tuple[str, int]:
    """The area's periodic values for the period containing the chosen month; all saved at once."""
    context = _area_context(code)
    session = _session()
    today = clock.today()
    try:
        year = int(request.values.get("year", today.year))
        month = int(request.values.get("month", today.month))
        if not (2000 <= year <= today.year + 1 and 1 <= month <= 12):
            raise ValueError
    except ValueError:
        year, month = today.year, today.month
    rows = observations.area_values(session, g.user, code, year, month)
    typed: dict[str, str] = {}
    problems: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        batch = None
        changed = 0
        for row in rows:
            raw = (request.form.get(f"v-{row.item.code}") or "").strip()
            typed[row.item.code] = raw
            seen = _version(f"rv-{row.item.code}", 0)
            if raw == "" or (row.value is not None and raw == display(row.value) and seen == row.row_version):
                continue
            try:
                batch = batch or history.open_batch(session, g.user, "web")
                observations.record_observation(session, g.user, row.item.code, code, row.period, raw, batch=batch,
                                                expected_version=seen)
                changed += 1
            except IssueError as exc:
                problems[row.item.code] = "；".join(i.message for i in exc.issues)
                status = max(status, _status_of(exc))
        if problems:
            session.rollback()
            flash("未保存：请按提示修改后再保存（本次填写的数值均未保存）。", "error")
        else:
            session.commit()
            flash(f"已保存 {changed} 项" if changed else "没有修改", "success")
            return redirect(url_for("village.observation_list", code=code, year=year, month=month))
    years = list(range(today.year, today.year - 6, -1))
    return render_template("village/observations.html", rows=rows, year=year, month=month, years=years, typed=typed,
                           problems=problems, tab="observations", display=display, **context), status

"""House pages: the area's list, register, show with history, edit, safety appraisal, demolition.

The forms are generated from ``House``'s columns (``views/forms.py``); the household living in the
house is typed as its 户号. Demolition is the end state: the house then shows as 已拆除 and offers no
more changes. Every save sends the ``row_version`` the page was loaded with.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import g, render_template, request, url_for
from werkzeug.wrappers import Response

from app.clock import today
from app.issues import Issue, IssueError
from app.models import House, Household
from app.services import households, houses
from app.services.codelists import code_lists
from app.services.scope import mask_values
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
from app.views.village.submit import on_field, others_since, parse_date, save

# Fields with their own action (拆除) or set from the page (the area; the household by its 户号).
HOUSE_MANAGED = frozenset({"area_code", "status", "household_id"})
GRADE_FILTERS = [("", "全部"), ("A", "A级"), ("B", "B级"), ("C", "C级"), ("D", "D级"), ("unknown", "未鉴定")]
STATUS_FILTERS = [("1", "在用"), ("2", "已拆除"), ("all", "全部")]


def _house_form(house: House | None = None) -> Form:
    session = _session()
    form = model_form(session, House, exclude=HOUSE_MANAGED)
    form.fields.append(FormField("household_number", "居住户户号", "text", max_length=30,
                                 help="住在这栋房屋里的户（须为本村的户）；不填表示无人居住"))
    if house is not None:
        form.fill(house.model_dump())
        if house.household_id:
            form["household_number"].value = households.numbers_of(session, {house.household_id}).get(house.household_id, "")
    return form


def _household_id(values: dict[str, Any]) -> tuple[dict[str, Any], list[Issue]]:
    """The posted 户号 as the house's ``household_id`` (blank: nobody lives there)."""
    values = dict(values)
    number = values.pop("household_number", None)
    if not number:
        return {**values, "household_id": None}, []
    try:
        household = households.household_by_number(_session(), g.user, number)
    except IssueError as exc:
        return values, list(exc.issues)
    return {**values, "household_id": household.id}, []


def _grade_form(house: House) -> Form:
    form = model_form(_session(), House, include=["safety_grade"])
    form["safety_grade"].required = True
    form["safety_grade"].help = "以房屋安全鉴定报告的结论为准"
    return form.fill({"safety_grade": house.safety_grade})


def _date_form(label: str, help_text: str) -> Form:
    return Form([FormField("on", label, "date", required=True, help=help_text, value=today().isoformat())])


@bp.get("/<code>/houses")
@login_required
def house_list(code: str) -> str:
    context = _area_context(code)
    q, grade = request.args.get("q", ""), request.args.get("grade", "")
    status = request.args.get("status", "1")
    page = houses.search_houses(_session(), g.user, code, text=q, grade=grade or None,
                                status=None if status == "all" else (status if status in ("1", "2") else "1"),
                                page=_page_arg(), per_page=PER_PAGE)
    numbers = households.numbers_of(_session(), {h.household_id for h in page.rows if h.household_id})
    addresses = {h.id: _address(h) for h in page.rows}
    return render_template("village/houses.html", page=page, q=q, grade=grade, status=status, numbers=numbers, addresses=addresses,
                           grade_filters=GRADE_FILTERS, status_filters=STATUS_FILTERS, labels=code_lists(_session()),
                           tab="houses", **context)


@bp.route("/<code>/houses/new", methods=["GET", "POST"])
@login_required
def house_new(code: str) -> Response | tuple[str, int]:
    context = _area_context(code)
    session = _session()
    form, eff = _house_form(), _effective_form()
    eff["valid_from"].help = "从哪一天起登记这栋房屋（建成或纳入管理的日期）"
    number = request.values.get("household", "")
    if number and request.method == "GET":
        form["household_number"].value = number
    sections = [(None, form), ("生效", eff)]
    page = {"title": "登记房屋", "area": context["area"], "back": url_for("village.house_list", code=code),
            "submit": "保存", "sections": sections}
    if request.method == "GET":
        return _render_form(**page)
    values, issues = form.parse(request.form)
    eff_values, eff_issues = eff.parse(request.form)
    values, link_issues = _household_id(values)
    if issues or eff_issues or link_issues:
        form.add_issues(issues + [i.at(field="household_number") for i in link_issues]), eff.add_issues(eff_issues)
        return _render_form(422, **page)
    return save(page, lambda: houses.create_house(session, g.user, {**values, "area_code": code},
                                                  effective=eff_values["valid_from"]),
                lambda house: f"已登记房屋：{house.address}", lambda house: url_for("village.house_show", house_id=house.id),
                fix=_renamed)


def _renamed(exc: IssueError) -> IssueError:
    """Issues about ``household_id`` shown at the 户号 field the user typed."""
    exc.issues = [i.at(field="household_number") if i.location.get("field") == "household_id" else i for i in exc.issues]
    return exc


@bp.get("/house/<int:house_id>")
@login_required
def house_show(house_id: int) -> str:
    session = _session()
    house = houses.get_house(session, g.user, house_id)
    household = session.get(Household, house.household_id) if house.household_id else None
    context = _area_context(house.area_code)
    form = _house_form(house)
    form["address"].value = _address(house)
    return render_template(
        "village/house.html", house=house, household=household, house_rows=_display_rows(form)[:-1], address=_address(house),
        history=_with_numbers(_history(session, "house", house_id, House)), **context,
    )


def _address(house: House) -> str:
    """The house's address as this user may see it (masked for a department without the address grant)."""
    return mask_values(_session(), g.user, {"address": house.address})["address"]


def _with_numbers(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """History lines of the 居住户 show its 户号, not the internal id."""
    label = House.__table__.columns["household_id"].info["label"]
    ids = {int(v) for r in rows for lab, *values in r["lines"] if lab == label for v in values if v.isdigit()}
    numbers = households.numbers_of(_session(), ids)
    for r in rows:
        r["lines"] = [(lab, *[numbers.get(int(v), v) if lab == label and v.isdigit() else v for v in values])
                      for lab, *values in r["lines"]]
    return rows


@bp.route("/house/<int:house_id>/edit", methods=["GET", "POST"])
@login_required
def house_edit(house_id: int) -> Response | tuple[str, int]:
    session = _session()
    house = houses.get_house(session, g.user, house_id)
    seen = _version("row_version", house.row_version)
    form, eff = _house_form(house), _effective_form()
    sections = [(None, form), ("生效", eff)]
    page = {"title": f"修改房屋：{house.address}", "area": house.area_code, "sections": sections,
            "back": url_for("village.house_show", house_id=house_id), "submit": "保存修改", "hidden": {"row_version": seen}}
    if request.method == "GET":
        return _render_form(**page)
    values, issues = form.parse(request.form)
    eff_values, eff_issues = eff.parse(request.form)
    values, link_issues = _household_id(values)
    if issues or eff_issues or link_issues:
        form.add_issues(issues + [i.at(field="household_number") for i in link_issues]), eff.add_issues(eff_issues)
        return _render_form(422, **page)
    return save(page, lambda: houses.update_house(session, g.user, house_id, values, effective=eff_values["valid_from"],
                                                  expected_version=seen),
                "已保存", url_for("village.house_show", house_id=house_id), others=_others(house_id, seen), fix=_renamed)


def _others(house_id: int, seen: int) -> Callable[[], Any]:
    return others_since("house", house_id, House, seen, lambda: houses.get_house(_session(), g.user, house_id))


@bp.route("/house/<int:house_id>/appraise", methods=["GET", "POST"])
@login_required
def house_appraise(house_id: int) -> Response | tuple[str, int]:
    """A safety appraisal (安全鉴定): the new grade from the appraisal day on."""
    session = _session()
    house = houses.get_house(session, g.user, house_id)
    seen = _version("row_version", house.row_version)
    form, when = _grade_form(house), _date_form("鉴定日期", "新的安全等级从这一天起生效")
    sections = [(None, form), ("生效", when)]
    page = {"title": f"房屋安全鉴定：{house.address}", "area": house.area_code, "sections": sections,
            "back": url_for("village.house_show", house_id=house_id), "submit": "保存鉴定结果",
            "hidden": {"row_version": seen}}
    if request.method == "GET":
        return _render_form(**page)
    values, issues = form.parse(request.form)
    when_values, when_issues = when.parse(request.form)
    if not values.get("safety_grade") and not issues:
        issues.append(Issue("required", "请选择安全等级", {"field": "safety_grade"}))
    if not when_values.get("on") and not when_issues:
        when_issues.append(Issue("required", "请填写鉴定日期", {"field": "on"}))
    if issues or when_issues:
        form.add_issues(issues), when.add_issues(when_issues)
        return _render_form(422, **page)
    return save(page, lambda: houses.appraise(session, g.user, house_id, values["safety_grade"], when_values["on"],
                                              expected_version=seen),
                lambda change: "已记录安全鉴定结果" if change.fields else "安全等级未变化",
                url_for("village.house_show", house_id=house_id), others=_others(house_id, seen), fix=on_field("valid_from"))


@bp.route("/house/<int:house_id>/demolish", methods=["GET", "POST"])
@login_required
def house_demolish(house_id: int) -> Response | tuple[str, int]:
    """Demolition (拆除): the end state; from that day the house is 注销 and not counted."""
    session = _session()
    house = houses.get_house(session, g.user, house_id)
    seen = _version("row_version", house.row_version)
    when = _date_form("拆除日期", "从这一天起房屋不再计入统计；拆除后不能再修改")
    sections = [(None, when)]
    page = {"title": f"登记拆除：{house.address}", "area": house.area_code, "sections": sections,
            "back": url_for("village.house_show", house_id=house_id), "submit": "确认拆除",
            "hidden": {"row_version": seen}, "note": "拆除是最终状态：房屋保留在历史记录中，但不能再修改。"}
    if request.method == "GET":
        return _render_form(**page)
    if (values := parse_date(when, "请填写拆除日期")) is None:
        return _render_form(422, **page)
    return save(page, lambda: houses.demolish_house(session, g.user, house_id, values["on"], expected_version=seen),
                f"已登记拆除（{values['on']}）", url_for("village.house_show", house_id=house_id),
                others=_others(house_id, seen), fix=on_field("valid_from"))

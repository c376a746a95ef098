"""Person pages: add, show, edit, end (death / moving out), move between households."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import g, render_template, request, url_for
from werkzeug.wrappers import Response

from app import clock
from app.issues import Issue, PermissionDenied, ValidationFailed
from app.models import Household, Person
from app.services import audit, households, persons, tags
from app.services.dashboard import area_info
from app.services.scope import unmasked_fields
from app.views.auth import client_address, login_required
from app.views.forms import Form, FormField, model_form
from app.views.village.common import (
    END_REASONS,
    _attr_rows,
    _confirmed,
    _display_rows,
    _effective_form,
    _fill_from_id,
    _history,
    _is_current,
    _labels,
    _person_form,
    _render_form,
    _session,
    _version,
    bp,
)
from app.views.village.submit import others_since, parse_forms, save

# -- persons -------------------------------------------------------------------------------------------




@bp.route("/household/<int:household_id>/members/new", methods=["GET", "POST"])
@login_required
def person_new(household_id: int) -> Response | tuple[str, int]:
    session = _session()
    h = households.get_household(session, g.user, household_id)
    form, eff = _person_form(), _effective_form()
    eff["valid_from"].help = "从哪一天起是本户成员（新生儿填出生日期）"
    sections = [(None, form), ("生效", eff)]
    page = {"title": f"户 {h.number} · 新增成员", "area": h.area_code, "sections": sections,
            "back": url_for("village.household_show", household_id=household_id), "submit": "保存", "id_fill": True}
    if request.method == "GET":
        return _render_form(**page)
    if (parsed := parse_forms(form, eff)) is None:
        return _render_form(422, **page)
    values, eff_values = parsed
    return save(page, lambda: persons.create_person(
        session, g.user, {**values, "household_id": household_id, "area_code": h.area_code},
        effective=eff_values["valid_from"], confirm_warnings=_confirmed()),
        lambda p: f"已新增成员 {p.name}", lambda p: url_for("village.person_show", person_id=p.id),
        after=lambda: _fill_from_id(form))


@bp.get("/person/<int:person_id>")
@login_required
def person_show(person_id: int) -> str:
    session = _session()
    try:
        p = persons.get_person(session, g.user, person_id)
    except PermissionDenied:
        audit.record(g.user, "person-view", f"person:{person_id}", detail={"refused": True}, address=client_address())
        raise
    audit.record(g.user, "person-view", f"person:{person_id} {p.name}", records=1, address=client_address(),
                 detail={"area": p.area_code, "unmasked": sorted(unmasked_fields(session, g.user))})
    all_tags = tags.tags_of(session, g.user, person_id=person_id)
    today = clock.today()
    h = session.get(Household, p.household_id) if p.household_id else None
    types = tags.tag_types(session)
    return render_template(
        "village/person.html", p=p, h=h, person_rows=_display_rows(_person_form(p, masked=True)),
        status_rows=_display_rows(model_form(session, Person, include=["living_status", "status_date", "moved_to"]).fill(p.model_dump())),
        current_tags=[t for t in all_tags if _is_current(t, today)], ended_tags=[t for t in all_tags if not _is_current(t, today)],
        tag_names=types, attr_rows={t.id: _attr_rows(types.get(t.tag_code), t.attrs) for t in all_tags}, today=today,
        history=_history(session, "person", person_id, Person, all_tags),
        area=area_info(session, p.area_code), code=p.area_code, **_labels(),
    )


@bp.route("/person/<int:person_id>/edit", methods=["GET", "POST"])
@login_required
def person_edit(person_id: int) -> Response | tuple[str, int]:
    session = _session()
    p = persons.get_person(session, g.user, person_id)
    seen = _version("row_version", p.row_version)
    form, eff = _person_form(p), _effective_form()
    sections = [(None, form), ("生效", eff)]
    page = {"title": f"修改 {p.name}", "area": p.area_code, "sections": sections,
            "back": url_for("village.person_show", person_id=person_id), "submit": "保存修改",
            "hidden": {"row_version": seen}, "id_fill": True}
    if request.method == "GET":
        return _render_form(**page)
    if (parsed := parse_forms(form, eff)) is None:
        return _render_form(422, **page)
    values, eff_values = parsed
    return save(page, lambda: persons.update_person(session, g.user, person_id, values, effective=eff_values["valid_from"],
                                                    expected_version=seen, confirm_warnings=_confirmed()),
                "已保存", url_for("village.person_show", person_id=person_id), after=lambda: _fill_from_id(form),
                others=_others(person_id, seen))


def _others(person_id: int, seen: int) -> Callable[[], Any]:
    return others_since("person", person_id, Person, seen, lambda: persons.get_person(_session(), g.user, person_id))


@bp.route("/person/<int:person_id>/end", methods=["GET", "POST"])
@login_required
def person_end(person_id: int) -> Response | tuple[str, int]:
    """死亡 / 迁出登记: date and reason (and 迁往地); the person's current tags end the same day."""
    session = _session()
    p = persons.get_person(session, g.user, person_id)
    seen = _version("row_version", p.row_version)
    reason = FormField("reason", "登记类型", "select", required=True, options=END_REASONS, value="death")
    form = Form([reason, *model_form(session, Person, include=["status_date", "moved_to"]).fields])
    form["status_date"].required = True
    form["status_date"].value = clock.today().isoformat()
    form["moved_to"].help = "迁出时必填，如：浙江省杭州市西湖区"
    sections = [(None, form)]
    page = {"title": f"{p.name} · 死亡或迁出登记", "area": p.area_code, "sections": sections,
            "back": url_for("village.person_show", person_id=person_id), "submit": "登记",
            "confirm": f"确定为{p.name}登记死亡或迁出吗？登记后其有效标签同日结束，不能撤销。",
            "hidden": {"row_version": seen}, "note": "登记后该人员的有效标签同日结束；记录保留在历史中，不会删除。"}
    if request.method == "GET":
        return _render_form(**page)
    values, issues = form.parse(request.form)
    if not values.get("status_date") and not issues:
        issues.append(Issue("required", "请填写死亡或迁出日期", {"field": "status_date"}))
    if issues:
        form.add_issues(issues)
        return _render_form(422, **page)
    return save(page, lambda: persons.end_person(session, g.user, person_id, values["reason"] or "", values["status_date"],
                                                 moved_to=values.get("moved_to"), expected_version=seen),
                "已登记", url_for("village.person_show", person_id=person_id), others=_others(person_id, seen))


@bp.route("/person/<int:person_id>/move", methods=["GET", "POST"])
@login_required
def person_move(person_id: int) -> Response | tuple[str, int]:
    """转户: into another household (by 户号), with the new relation to its head, from a date."""
    session = _session()
    p = persons.get_person(session, g.user, person_id)
    seen = _version("row_version", p.row_version)
    number = FormField("household_number", "迁入户的户号", "text", required=True, help="本村或辖区内另一户的户号")
    form = Form([number, *model_form(session, Person, include=["relation"]).fields])
    form["relation"].required = True
    eff = _effective_form()
    sections = [(None, form), ("生效", eff)]
    page = {"title": f"{p.name} · 转户", "area": p.area_code, "sections": sections,
            "back": url_for("village.person_show", person_id=person_id), "submit": "转户",
            "hidden": {"row_version": seen}}
    if request.method == "GET":
        return _render_form(**page)
    values, issues = form.parse(request.form)
    eff_values, eff_issues = eff.parse(request.form)
    if not values.get("household_number"):
        issues.append(Issue("required", "请填写迁入户的户号", {"field": "household_number"}))
    if not values.get("relation"):
        issues.append(Issue("required", "请选择在新户中的与户主关系", {"field": "relation"}))
    if issues or eff_issues:
        form.add_issues(issues), eff.add_issues(eff_issues)
        return _render_form(422, **page)
    def move() -> Household:
        target = households.household_by_number(session, g.user, values["household_number"])
        if target.id == p.household_id:
            raise ValidationFailed(Issue("same-household", "该人员已在此户", {"field": "household_number"}))
        persons.move_person(session, g.user, person_id, target.id, eff_values["valid_from"], relation=values["relation"],
                            expected_version=seen, confirm_warnings=_confirmed())
        return target
    return save(page, move, lambda target: f"已转入户 {target.number}", url_for("village.person_show", person_id=person_id),
                others=_others(person_id, seen))

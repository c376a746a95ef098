"""The village cadre's web entry: households, persons, tags and periodic values of one area.

Pages are under ``/village/``: an area's lists (``/village/<code>/households``, ``/persons``,
``/observations``; the code is a village or a grid), and the records (``/village/household/<id>``,
``/village/person/<id>`` with their edit / end / move / tag pages). Township staff and grid workers use
the same pages within their scope; the services check it. Every form is generated from the model
(``views/forms.py``); a save sends the ``row_version`` it was loaded with, so a stale form is refused
with what the other editor changed, and the user's typed values stay in the form.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from sqlmodel import Session
from werkzeug.wrappers import Response

from app.db import get_session
from app.issues import Conflict, Issue, IssueError, ValidationFailed
from app.models import Household, Person, Tag
from app.models.history import SOURCES
from app.services import history, households, observations, persons, tags
from app.services.codelists import code_lists
from app.services.dashboard import area_info, township_dashboard
from app.services.scope import BASE_DATA_WRITERS, require_read
from app.validators.idcard import check_id_number
from app.views.auth import login_required
from app.views.forms import Form, FormField, attribute_form, display, labelled_changes, model_form

bp = Blueprint("village", __name__, url_prefix="/village")

# Person fields with their own action (转户, 死亡/迁出登记) instead of a typed value.
PERSON_MANAGED = frozenset({"household_id", "area_code", "living_status", "status_date", "moved_to"})
HOUSEHOLD_MANAGED = frozenset({"area_code", "status", "status_date"})
PER_PAGE = 50
END_REASONS = [("death", "死亡"), ("moved_out", "迁出")]


@bp.after_request
def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"  # personal data: never kept in a shared cache
    return response


# -- helpers -----------------------------------------------------------------------------------


def _session() -> Session:
    return get_session()


def _confirmed() -> bool:
    return request.form.get("confirm_warnings") == "1"


def _version(name: str, default: int) -> int:
    """The row version a form was loaded with (a tampered value counts as stale, never as a crash)."""
    raw = request.form.get(name)
    if raw is None or raw == "":
        return default
    return int(raw) if raw.isdigit() else -1


def _date_arg(name: str, default: date | None = None) -> date | None:
    raw = (request.form.get(name) or "").strip()
    if not raw:
        return default
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return None


def _effective_form(value: date | None = None) -> Form:
    """The 生效日期 (the model's ``valid_from``) asked with every change of a versioned record."""
    form = model_form(_session(), Person, include=["valid_from"])
    form["valid_from"].help = "变更从哪一天起生效；更正以前的错误时填原来的日期"
    return form.fill({"valid_from": value or persons.today()})


def _page_arg() -> int:
    try:
        return max(1, int(request.args.get("page", "1")))
    except ValueError:
        return 1


def _history(session: Session, entity: str, entity_id: int, model: Any, tag_rows: list[Tag] = ()) -> list[dict[str, Any]]:
    """Who changed what, when, from which source — the record's own entries and those of its tags."""
    types = tags.tag_types(session)
    type_names = {t.code: t.name for t in types.values()}
    rows = [{**e, "what": "本记录", "lines": labelled_changes(session, model, e["changes"])}
            for e in history.record_history(session, entity, entity_id)]
    for tag in tag_rows:
        for e in history.record_history(session, "tag", tag.id):
            changes = {k: v for k, v in e["changes"].items() if k not in ("tag_code", "subject")}
            if isinstance(changes.get("attrs"), list):
                changes["attrs"] = [_attrs_text(types.get(tag.tag_code), v) if isinstance(v, dict) else v
                                    for v in changes["attrs"]]
            rows.append({**e, "what": f"标签：{type_names.get(tag.tag_code, tag.tag_code)}",
                         "lines": labelled_changes(session, None, changes)})
    rows.sort(key=lambda r: (r["at"], r["batch_id"]), reverse=True)
    for r in rows:
        r["source_label"] = SOURCES.get(r["source"], r["source"])
        r["action_label"] = {"create": "新增", "update": "修改", "end": "结束"}.get(r["action"], r["action"])
    return rows


def _others_changes(session: Session, entity: str, entity_id: int, model: Any, seen: int, now: int) -> list[dict[str, Any]]:
    """The change-log entries saved since the version ``seen`` (for a refused, stale save)."""
    entries = history.record_history(session, entity, entity_id)[: max(0, now - seen)]
    return [{**e, "lines": labelled_changes(session, model, e["changes"])} for e in entries]


def _render_form(status: int = 200, **context: Any) -> tuple[str, int]:
    if isinstance(context.get("area"), str):  # an area code: looked up only when a page is shown
        context["area"] = area_info(_session(), context["area"])
    context.setdefault("sections", [])
    context.setdefault("hidden", {})
    context.setdefault("others", [])
    return render_template("village/form.html", **context), status


def _apply_issues(exc: IssueError, sections: list[tuple[str | None, Form]]) -> None:
    """Show each issue at its field in whichever section has it; the rest in the first section."""
    rest = list(exc.issues)
    for _title, form in sections:
        names = set(form.names())
        mine = [i for i in rest if i.location.get("field") in names]
        form.add_issues(mine)
        rest = [i for i in rest if i not in mine]
    sections[0][1].add_issues(rest)


def _fill_from_id(form: Form) -> None:
    """After a refused save, show the birth date and sex the server read from a valid ID number."""
    result = check_id_number(form["id_number"].value)
    if result.ok:
        if not form["birth_date"].value:
            form["birth_date"].value = display(result.birth_date)
        if not form["sex"].value:
            form["sex"].value = result.sex or ""


def _status_of(exc: IssueError) -> int:
    return exc.status


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


def _area_context(code: str) -> dict[str, Any]:
    session = _session()
    require_read(g.user, code)
    lists = code_lists(session)
    return {
        "area": area_info(session, code), "code": code,
        "tag_types": list(tags.tag_types(session).values()),
        "living_labels": lists.get("living_status", {}), "residence_labels": lists.get("residence_type", {}),
        "relation_labels": lists.get("relation", {}), "sex_labels": lists.get("sex", {}),
    }


@bp.get("/<code>/households")
@login_required
def household_list(code: str) -> str:
    context = _area_context(code)
    q, tag = request.args.get("q", ""), request.args.get("tag", "")
    page = households.search_households(_session(), g.user, code, text=q, tag=tag or None, page=_page_arg(), per_page=PER_PAGE)
    row_tags = _current_tags(households=[r.household.id for r in page.rows])
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
    return render_template("village/persons.html", page=page, args=args, numbers=numbers, row_tags=row_tags,
                           today=persons.today(), tab="persons", **context)


def _current_tags(*, persons: list[int] = (), households: list[int] = ()) -> dict[int, list[str]]:
    session = _session()
    names = {t.code: t.name for t in tags.tag_types(session).values()}
    found = tags.current_tags_of_many(session, person_ids=list(persons), household_ids=list(households))
    return {subject: [names.get(c, c) for c in codes] for subject, codes in found.items()}


# -- households -------------------------------------------------------------------------------------


def _household_form(household: Household | None = None) -> Form:
    form = model_form(_session(), Household, exclude=HOUSEHOLD_MANAGED)
    return form.fill(household.model_dump()) if household else form


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
    h = households.get_household(session, g.user, household_id)
    members = households.members(session, g.user, household_id)
    all_tags = tags.tags_of(session, g.user, household_id=household_id)
    today = persons.today()
    member_tags = _current_tags(persons=[m.id for m in members])
    return render_template(
        "village/household.html", h=h, household_rows=_display_rows(_household_form(h)),
        members=members, member_tags=member_tags, houses=households.houses_of(session, g.user, household_id),
        house_labels=_house_labels(), current_tags=[t for t in all_tags if _is_current(t, today)],
        ended_tags=[t for t in all_tags if not _is_current(t, today)],
        tag_names={t.code: t for t in tags.tag_types(session).values()}, today=today,
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


# -- persons -------------------------------------------------------------------------------------------


def _person_form(person: Person | None = None) -> Form:
    form = model_form(_session(), Person, exclude=PERSON_MANAGED)
    return form.fill(person.model_dump()) if person else form


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
    values, issues = form.parse(request.form)
    eff_values, eff_issues = eff.parse(request.form)
    if issues or eff_issues:
        form.add_issues(issues), eff.add_issues(eff_issues)
        return _render_form(422, **page)
    try:
        p = persons.create_person(session, g.user, {**values, "household_id": household_id, "area_code": h.area_code},
                                  effective=eff_values["valid_from"], confirm_warnings=_confirmed())
        session.commit()
    except IssueError as exc:
        session.rollback()
        _apply_issues(exc, sections)
        _fill_from_id(form)
        return _render_form(_status_of(exc), **page)
    flash(f"已新增成员 {p.name}", "success")
    return redirect(url_for("village.person_show", person_id=p.id))


@bp.get("/person/<int:person_id>")
@login_required
def person_show(person_id: int) -> str:
    session = _session()
    p = persons.get_person(session, g.user, person_id)
    all_tags = tags.tags_of(session, g.user, person_id=person_id)
    today = persons.today()
    h = session.get(Household, p.household_id) if p.household_id else None
    types = tags.tag_types(session)
    return render_template(
        "village/person.html", p=p, h=h, person_rows=_display_rows(_person_form(p)),
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
    values, issues = form.parse(request.form)
    eff_values, eff_issues = eff.parse(request.form)
    if issues or eff_issues:
        form.add_issues(issues), eff.add_issues(eff_issues)
        return _render_form(422, **page)
    try:
        persons.update_person(session, g.user, person_id, values, effective=eff_values["valid_from"],
                              expected_version=seen, confirm_warnings=_confirmed())
        session.commit()
    except IssueError as exc:
        session.rollback()
        _apply_issues(exc, sections)
        _fill_from_id(form)
        if isinstance(exc, Conflict):
            now = persons.get_person(session, g.user, person_id).row_version
            page["others"] = _others_changes(session, "person", person_id, Person, seen, now)
        return _render_form(_status_of(exc), **page)
    flash("已保存", "success")
    return redirect(url_for("village.person_show", person_id=person_id))


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
    form["status_date"].value = persons.today().isoformat()
    form["moved_to"].help = "迁出时必填，如：浙江省杭州市西湖区"
    sections = [(None, form)]
    page = {"title": f"{p.name} · 死亡或迁出登记", "area": p.area_code, "sections": sections,
            "back": url_for("village.person_show", person_id=person_id), "submit": "登记",
            "hidden": {"row_version": seen}, "note": "登记后该人员的有效标签同日结束；记录保留在历史中，不会删除。"}
    if request.method == "GET":
        return _render_form(**page)
    values, issues = form.parse(request.form)
    if not values.get("status_date") and not issues:
        issues.append(Issue("required", "请填写死亡或迁出日期", {"field": "status_date"}))
    if issues:
        form.add_issues(issues)
        return _render_form(422, **page)
    try:
        persons.end_person(session, g.user, person_id, values["reason"] or "", values["status_date"],
                           moved_to=values.get("moved_to"), expected_version=seen)
        session.commit()
    except IssueError as exc:
        session.rollback()
        _apply_issues(exc, sections)
        if isinstance(exc, Conflict):
            now = persons.get_person(session, g.user, person_id).row_version
            page["others"] = _others_changes(session, "person", person_id, Person, seen, now)
        return _render_form(_status_of(exc), **page)
    flash("已登记", "success")
    return redirect(url_for("village.person_show", person_id=person_id))


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
    try:
        target = households.household_by_number(session, g.user, values["household_number"])
        if target.id == p.household_id:
            raise ValidationFailed(Issue("same-household", "该人员已在此户", {"field": "household_number"}))
        persons.move_person(session, g.user, person_id, target.id, eff_values["valid_from"], relation=values["relation"],
                            expected_version=seen, confirm_warnings=_confirmed())
        session.commit()
    except IssueError as exc:
        session.rollback()
        _apply_issues(exc, sections)
        if isinstance(exc, Conflict):
            now = persons.get_person(session, g.user, person_id).row_version
            page["others"] = _others_changes(session, "person", person_id, Person, seen, now)
        return _render_form(_status_of(exc), **page)
    flash(f"已转入户 {target.number}", "success")
    return redirect(url_for("village.person_show", person_id=person_id))


# -- tags --------------------------------------------------------------------------------------------


@bp.route("/<any(person, household):subject>/<int:subject_id>/tags/new", methods=["GET", "POST"])
@login_required
def tag_new(subject: str, subject_id: int) -> Response | str | tuple[str, int]:
    """Add a tag: first choose the tag type, then its attribute form (generated from the schema)."""
    session = _session()
    record = persons.get_person(session, g.user, subject_id) if subject == "person" else \
        households.get_household(session, g.user, subject_id)
    back = url_for(f"village.{subject}_show", **{f"{subject}_id": subject_id})
    title_name = record.name if subject == "person" else f"户 {record.number}"
    types = [t for t in tags.tag_types(session).values() if t.subject == subject]
    code = request.values.get("type", "")
    tag_type = next((t for t in types if t.code == code), None)
    if tag_type is None:
        return render_template("village/tag_choose.html", types=types, subject=subject, subject_id=subject_id, back=back,
                               title=f"{title_name} · 添加标签", area=area_info(session, record.area_code))
    attrs = attribute_form(session, tag_type.attributes)
    period = Form([FormField("valid_from", "开始日期", "date", required=True, value=persons.today().isoformat()),
                   FormField("valid_to", "结束日期", "date", help="不填表示持续有效；填写时为最后一天的次日"),
                   FormField("evidence", "证明材料 / 依据", "text", max_length=500, help="如：民政局批复文号")])
    sections = [(f"{tag_type.name}的属性", attrs), ("有效期", period)] if attrs.fields else [("有效期", period)]
    page = {"title": f"{title_name} · 添加标签：{tag_type.name}", "area": record.area_code,
            "sections": sections, "back": back, "submit": "添加标签", "hidden": {"type": tag_type.code},
            "note": tag_type.description or None}
    if request.method == "GET":
        return _render_form(**page)
    attr_values, issues = attrs.parse(request.form)
    period_values, period_issues = period.parse(request.form)
    if not period_values.get("valid_from") and not period_issues:
        period_issues.append(Issue("required", "请填写开始日期", {"field": "valid_from"}))
    if issues or period_issues:
        attrs.add_issues(issues), period.add_issues(period_issues)
        return _render_form(422, **page)
    try:
        tags.grant_tag(session, g.user, tag_type.code, subject_id, period_values["valid_from"],
                       attrs={k: v for k, v in attr_values.items() if v is not None}, evidence=period_values.get("evidence"),
                       valid_to=period_values.get("valid_to"), confirm_warnings=_confirmed())
        session.commit()
    except IssueError as exc:
        session.rollback()
        _apply_issues(exc, sections)
        return _render_form(_status_of(exc), **page)
    flash(f"已添加标签：{tag_type.name}", "success")
    return redirect(back)


@bp.post("/tag/<int:tag_id>/end")
@login_required
def tag_end(tag_id: int) -> Response:
    session = _session()
    back = request.form.get("back") or url_for("village.index")
    if not back.startswith("/village/"):
        back = url_for("village.index")
    on = _date_arg("on", persons.today())
    try:
        if on is None:
            raise ValidationFailed(Issue("bad-date", "结束日期无效", {"field": "on"}))
        tag = tags.end_tag(session, g.user, tag_id, on, reason=request.form.get("reason", ""))
        session.commit()
    except IssueError as exc:
        session.rollback()
        for issue in exc.issues:
            flash(f"标签未结束：{issue.message}", "error")
        return redirect(back)
    flash(f"标签已于 {tag.valid_to} 结束", "success")
    return redirect(back)


# -- periodic values -----------------------------------------------------------------------------


@bp.route("/<code>/observations", methods=["GET", "POST"])
@login_required
def observation_list(code: str) -> Response | tuple[str, int]:
    """The area's periodic values for the period containing the chosen month; all saved at once."""
    context = _area_context(code)
    session = _session()
    today = persons.today()
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


# -- small shared bits ------------------------------------------------------------------------------


def _is_current(tag: Tag, today: date) -> bool:
    return tag.valid_from <= today and (tag.valid_to is None or tag.valid_to > today)


def _display_rows(form: Form) -> list[tuple[str, str, str | None]]:
    """(label, shown value, unit) of a filled form, code values shown by their labels."""
    rows = []
    for f in form.fields:
        shown = dict(f.options).get(f.value, f.value) if f.kind == "select" else f.value
        rows.append((f.label, shown or "—", f.unit if shown else None))
    return rows


def _attr_rows(tag_type: Any, attrs: dict[str, Any]) -> list[tuple[str, str]]:
    if tag_type is None or not attrs:
        return []
    form = attribute_form(_session(), tag_type.attributes).fill(attrs)
    return [(label, value + (f" {unit}" if unit else "")) for label, value, unit in _display_rows(form) if value != "—"]


def _attrs_text(tag_type: Any, attrs: dict[str, Any]) -> str | None:
    """Tag attributes as the cadre typed them: labels and code labels, e.g. 低保类别：农村低保。"""
    rows = _attr_rows(tag_type, attrs)
    return "，".join(f"{label}：{value}" for label, value in rows) if rows else None


def _labels() -> dict[str, Any]:
    lists = code_lists(_session())
    return {"can_write": g.user.role in BASE_DATA_WRITERS,"living_labels": lists.get("living_status", {}), "residence_labels": lists.get("residence_type", {}),
            "relation_labels": lists.get("relation", {}), "sex_labels": lists.get("sex", {})}


def _house_labels() -> dict[str, dict[str, str]]:
    return code_lists(_session())

"""Shared parts of the village pages: the blueprint, request helpers, forms and history rows."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, g, render_template, request
from sqlmodel import Session
from werkzeug.wrappers import Response

from app.db import get_session
from app.issues import IssueError
from app.models import Household, Person, Tag
from app.models.history import SOURCES
from app.services import history, persons, tags
from app.services.codelists import code_lists
from app.services.dashboard import area_info
from app.services.scope import (
    BASE_DATA_WRITERS,
    ID_DERIVED,
    hidden_tags,
    mask_values,
    may_see_tag_attributes,
    needs_to_know,
    require_read,
    unmasked_fields,
)
from app.validators.idcard import check_id_number
from app.views.forms import Form, attribute_form, display, labelled_changes, model_form
from app.views.params import page_arg

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
    return page_arg(request.args)


def _history(session: Session, entity: str, entity_id: int, model: Any, tag_rows: list[Tag] = ()) -> list[dict[str, Any]]:
    """Who changed what, when, from which source — the record's own entries and those of its tags.

    Not shown to departments: past values include full ID numbers and phones (need-to-know)."""
    if needs_to_know(g.user):
        return []
    types = tags.tag_types(session)
    type_names = {t.code: t.name for t in types.values()}
    rows = [{**e, "what": "本记录", "lines": labelled_changes(session, model, e["changes"])}
            for e in history.record_history(session, entity, entity_id)]
    for tag in tag_rows:
        for e in history.record_history(session, "tag", tag.id):
            if "replaced_by" in e["changes"]:  # an attribute edit: shown once, by the tag continuing it
                continue
            if "replaces" in e["changes"]:
                e = {**e, "action": "update"}
            changes = {k: v for k, v in e["changes"].items() if k not in ("tag_code", "subject", "replaces")}
            if isinstance(changes.get("attrs"), list):
                changes["attrs"] = [_attrs_text(types.get(tag.tag_code), v) if isinstance(v, dict) else v
                                    for v in changes["attrs"]]
            rows.append({**e, "what": f"标签：{type_names.get(tag.tag_code, tag.tag_code)}",
                         "lines": labelled_changes(session, None, changes)})
    rows.sort(key=lambda r: (r["at"], r["batch_id"]), reverse=True)
    for r in rows:
        r["source_label"] = SOURCES.get(r["source"], r["source"])
        r["action_label"] = {"create": "新增", "update": "修改", "end": "结束"}.get(r["action"], r["action"])
        if "seed" in r["changes"]:  # the seed's creation marker ({"seed": [null, true]}): no field changed
            r["action_label"], r["lines"] = "初始登记", [line for line in r["lines"] if line[0] != "seed"]
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


def _current_tags(*, persons: list[int] = (), households: list[int] = ()) -> dict[int, list[str]]:
    session = _session()
    names = {t.code: t.name for t in tags.tag_types(session).values()}
    found = tags.current_tags_of_many(session, person_ids=list(persons), household_ids=list(households))
    hidden = hidden_tags(session, g.user)
    return {subject: [names.get(c, c) for c in codes if c not in hidden] for subject, codes in found.items()}


def _household_form(household: Household | None = None, *, masked: bool = False) -> Form:
    form = model_form(_session(), Household, exclude=HOUSEHOLD_MANAGED)
    if household is None:
        return form
    values = household.model_dump()
    return form.fill(mask_values(_session(), g.user, values) if masked else values)


def _person_form(person: Person | None = None, *, masked: bool = False) -> Form:
    """The person's fields; ``masked`` (for showing, never for editing) masks what the user may not see."""
    form = model_form(_session(), Person, exclude=PERSON_MANAGED)
    if person is None:
        return form
    values = person.model_dump()
    return form.fill(mask_values(_session(), g.user, values) if masked else values)



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
    if not may_see_tag_attributes(_session(), g.user, tag_type.department):  # another department's tag: no grant
        return [("属性", "未授权查看（另一部门的标签）")]
    if "id_number" not in unmasked_fields(_session(), g.user):  # 残疾证号 contains the ID number
        from app.reporting.safe import mask_id_number

        attrs = {k: (mask_id_number(v) if k in ID_DERIVED and v else v) for k, v in attrs.items()}
    form = attribute_form(_session(), tag_type.attributes).fill(attrs)
    return [(label, value + (f" {unit}" if unit else "")) for label, value, unit in _display_rows(form) if value != "—"]


def _attrs_text(tag_type: Any, attrs: dict[str, Any]) -> str | None:
    """Tag attributes as the cadre typed them: labels and code labels, e.g. 低保类别：农村低保。"""
    rows = _attr_rows(tag_type, attrs)
    return "，".join(f"{label}：{value}" for label, value in rows) if rows else None


def _labels() -> dict[str, Any]:
    lists = code_lists(_session())
    return {"can_write": g.user.role in BASE_DATA_WRITERS, "living_labels": lists.get("living_status", {}),
            "residence_labels": lists.get("residence_type", {}), "relation_labels": lists.get("relation", {}),
            "sex_labels": lists.get("sex", {})}


def _house_labels() -> dict[str, dict[str, str]]:
    return code_lists(_session())


def _area_context(code: str) -> dict[str, Any]:
    session = _session()
    require_read(g.user, code)
    return {"area": area_info(session, code), "code": code, "tag_types": list(tags.tag_types(session).values()),
            **_labels()}

"""Tags of a person or household: add with attributes, end."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from app.issues import Issue, IssueError, ValidationFailed
from app.models import Tag
from app.services import households, persons, tags
from app.services.dashboard import area_info
from app.views.auth import login_required
from app.views.forms import Form, FormField, attribute_form
from app.views.village.common import (
    _apply_issues,
    _confirmed,
    _date_arg,
    _others_changes,
    _render_form,
    _session,
    _status_of,
    _version,
    bp,
)
from app.views.village.submit import parse_forms, save

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


def _safe_back(raw: str | None, default: str) -> str:
    """Only a page of this site's village entry or to-do list (never an outside address)."""
    return raw if raw and (raw.startswith("/village/") or raw.startswith("/imports/")) and "//" not in raw else default


@bp.route("/tag/<int:tag_id>/edit", methods=["GET", "POST"])
@login_required
def tag_edit(tag_id: int) -> Response | str | tuple[str, int]:
    """Change a tag's attributes (e.g. 低保类别, or a 待补充 attribute) from a chosen day, in one save."""
    session = _session()
    tag, tag_type, subject = tags.get_tag(session, g.user, tag_id)
    kind = tag_type.subject
    subject_page = url_for(f"village.{kind}_show", **{f"{kind}_id": subject.id})
    back = _safe_back(request.values.get("back"), subject_page)
    title_name = subject.name if kind == "person" else f"户 {subject.number}"
    seen = _version("row_version", tag.row_version)
    attrs = attribute_form(session, tag_type.attributes).fill(tag.attrs or {})
    pending = set(tag.pending_attrs or ())
    for f in attrs.fields:
        if f.name in pending:
            f.help = "待补充：导入时缺少，请补填"
    default_day = tag.valid_from if pending else max(tag.valid_from, persons.today())
    when = Form([FormField("valid_from", "生效日期", "date", required=True, value=default_day.isoformat(),
                           help=f"新属性从哪一天起生效（{tag.valid_from} 起，不晚于今天）；更正原来填错的属性时填标签开始日期 {tag.valid_from}"),
                 FormField("evidence", "证明材料 / 依据", "text", max_length=500, value=tag.evidence or "",
                           help="如：民政局批复文号")])
    sections = [(f"{tag_type.name}的属性", attrs), ("生效", when)]
    period = f"自 {tag.valid_from}" + (f" 至 {tag.valid_to}（不含）" if tag.valid_to else "")
    page = {"title": f"{title_name} · 修改标签：{tag_type.name}", "area": subject.area_code, "sections": sections,
            "back": back, "submit": "保存修改", "hidden": {"row_version": seen, "back": back},
            "note": f"该标签{period}。生效日期之前的报表仍按原属性统计，之后按新属性统计；原值保留在变更历史中。"}
    if request.method == "GET":
        return _render_form(**page)
    if (parsed := parse_forms(attrs, when)) is None:
        return _render_form(422, **page)
    attr_values, when_values = parsed
    if when_values.get("valid_from") is None:
        when.add_issues([Issue("required", "请填写生效日期", {"field": "valid_from"})])
        return _render_form(422, **page)
    return save(page, lambda: tags.edit_tag_attrs(session, g.user, tag_id, attr_values, when_values["valid_from"],
                                                  expected_version=seen, evidence=when_values.get("evidence")),
                f"已修改标签：{tag_type.name}", back,
                others=lambda: _others_changes(session, "tag", tag_id, None, seen, session.get(Tag, tag_id).row_version))

"""Collection tasks in the browser: issue, the village's pre-filled page, review, progress, report."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date
from typing import Any
from urllib.parse import quote

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, send_file, url_for
from sqlmodel import Session
from werkzeug.wrappers import Response

from app.db import get_db, get_session
from app.issues import Issue, IssueError, ValidationFailed
from app.models import CollectionTask
from app.models.task import TASK_ACTIONS, TASK_STATUSES
from app.registry.vocabulary import REPORT_KINDS
from app.services import audit, reports, tasks
from app.services.scope import effective_unmasked
from app.views.auth import client_address, login_required
from app.views.report_html import sheet_html
from app.views.reports import MIME

bp = Blueprint("tasks", __name__, url_prefix="/tasks")

FIELD_LABELS = {"report": "报表", "areas": "下发范围", "reference_date": "数据截至日期", "deadline": "截止日期", "note": "说明",
                "comment": "退回原因"}


@bp.app_context_processor
def _landing_helpers() -> dict[str, Any]:
    """``open_tasks()`` for the landing pages: what the logged-in user still has to do."""

    def open_tasks() -> list[tasks.TaskSummary]:
        user = g.get("user")
        if user is None:
            return []
        try:
            return tasks.open_tasks_for(get_session(), user)
        except IssueError:
            return []

    return {"open_tasks": open_tasks, "task_statuses": TASK_STATUSES}


@bp.after_request
def _no_store(response: Response) -> Response:
    """Task pages show personal data: keep them out of caches."""
    response.headers["Cache-Control"] = "no-store"
    return response


def _registry() -> Any:
    return reports.registry_for(current_app, get_session())


def _labelled(issues: list[Issue]) -> list[Issue]:
    return [i.at(field=FIELD_LABELS[i.location["field"]]) if i.location.get("field") in FIELD_LABELS else i for i in issues]


def _date(name: str, issues: list[Issue]) -> date | None:
    raw = request.form.get(name, "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        issues.append(Issue("bad-date", f"日期“{raw}”无法识别", {"field": name}, hint="请按 YYYY-MM-DD 填写，例如 2025-06-30"))
        return None


# ------------------------------------------------------------------------------- list and issue


@bp.get("/")
@login_required
def index() -> str:
    session = get_session()
    return render_template("tasks/index.html", summaries=tasks.list_tasks(session, g.user),
                           can_issue=g.user.role in tasks.ISSUERS, statuses=TASK_STATUSES, today=tasks.today())


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new() -> str | Response | tuple[str, int]:
    session = get_session()
    registry = _registry()
    tasks.require_issuer(g.user)
    issues: list[Issue] = []
    if request.method == "POST":
        form_issues: list[Issue] = []
        req = tasks.IssueRequest(
            report_id=request.form.get("report", "").strip(),
            areas=[a for a in request.form.getlist("areas") if a],
            reference_date=_date("reference_date", form_issues),
            deadline=_date("deadline", form_issues),
            note=request.form.get("note", ""),
        )
        try:
            if form_issues:
                raise ValidationFailed(form_issues)
            task = tasks.issue_task(session, registry, g.user, req)
            session.commit()
        except IssueError as exc:
            session.rollback()
            issues = _labelled(exc.issues)
            return _new_page(registry, issues), exc.status
        flash(f"已向 {len(request.form.getlist('areas'))} 个区划下发采集任务 #{task.id}。", "success")
        return redirect(url_for("tasks.show", task_id=task.id))
    return _new_page(registry, issues)


def _new_page(registry: Any, issues: list[Issue]) -> str:
    session = get_session()
    specs = tasks.task_specs(registry, g.user)
    return render_template("tasks/new.html", specs=specs, areas=tasks.issuable_areas(session, g.user), issues=issues,
                           kinds=REPORT_KINDS, form=request.form, today=tasks.today().isoformat())


# ------------------------------------------------------------------------------- progress


@bp.get("/<int:task_id>")
@login_required
def show(task_id: int) -> str | Response:
    session = get_session()
    task = tasks.get_task(session, g.user, task_id)
    villages = tasks.visible_villages(session, g.user, task)
    if g.user.role == "village_cadre" and len(villages) == 1 and not tasks.is_issuer_side(g.user, task):
        return redirect(url_for("tasks.village", task_id=task.id, code=villages[0].village_code))
    return _show_page(task, villages)


def _show_page(task: CollectionTask, villages: list[Any], issues: list[Issue] | None = None) -> str:
    session = get_session()
    names = tasks.area_names(session, [v.village_code for v in villages] + [task.area_code])
    return render_template(
        "tasks/show.html", task=task, villages=villages, names=names, counts=tasks.progress_counts(villages),
        statuses=TASK_STATUSES, actions=TASK_ACTIONS, events=tasks.events(session, task), issues=issues or [],
        issuer=tasks.is_issuer_side(g.user, task), reviewer=lambda code: tasks.is_reviewer(g.user, code),
        today=tasks.today(),
    )


# ------------------------------------------------------------------------------- a village's page


@bp.get("/<int:task_id>/villages/<code>")
@login_required
def village(task_id: int, code: str) -> str:
    return _village_page(task_id, code)


def _village_page(task_id: int, code: str, *, issues: list[Issue] | None = None, failed: tuple[str, int] | None = None,
                  posted: dict[str, str] | None = None) -> str:
    session = get_session()
    task = tasks.get_task(session, g.user, task_id)
    row = tasks.get_village(session, g.user, task, code)
    sections = tasks.coverage(get_db(), session, _registry(), task, code, g.user)
    field_errors: dict[str, list[Issue]] = {}
    general: list[Issue] = []
    for issue in issues or []:
        name = issue.location.get("field")
        if failed and name:
            field_errors.setdefault(name, []).append(issue)
        else:
            general.append(issue)
    only_warnings = bool(issues) and all(i.severity == "warning" for i in issues or [])
    part = _part_preview(task, row.part) if row.part else None
    events = tasks.events(session, task, code)
    # a returned village reads why at the top, not at the bottom of the history
    returned = next(((e, who) for e, who in reversed(events) if e.action == "returned"), None) if row.status == "returned" else None
    return render_template(
        "tasks/village.html", task=task, row=row, name=tasks.area_names(session, [code]).get(code, code),
        sections=sections, statuses=TASK_STATUSES, actions=TASK_ACTIONS, events=events, returned=returned,
        keeper=tasks.is_village_keeper(g.user, code), reviewer=tasks.is_reviewer(g.user, code),
        issuer=tasks.is_issuer_side(g.user, task), editable=row.status in tasks.EDITABLE_STATUSES,
        failed=failed, field_errors=field_errors, posted=posted or {}, issues=general, part=part,
        only_warnings=only_warnings,
        effective=min(task.reference_date, tasks.today()),
    )


def _part_preview(task: CollectionTask, part: dict[str, Any]) -> dict[str, Any]:
    """The stored part as label → value pairs (summary) or a row count (roster), for the reviewer."""
    spec = _registry().get(task.report_id, task.report_version)
    if part.get("kind") == "values":
        return {"kind": "values", "items": [(" / ".join(_leaf_path(spec, leaf.key)), _number(part["values"].get(leaf.key)))
                                            for leaf in spec.leaves()]}
    return {"kind": "rows", "count": len(part.get("rows", []))}


def _number(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _leaf_path(spec: Any, key: str) -> list[str]:
    def walk(nodes: Any, trail: list[str]) -> list[str] | None:
        for node in nodes:
            if node.children:
                found = walk(node.children, [*trail, node.label])
                if found:
                    return found
            elif node.key == key:
                return [*trail, node.label]
        return None

    return walk(spec.columns, []) or [key]


@bp.post("/<int:task_id>/villages/<code>/records/<entity>/<int:record_id>")
@login_required
def save(task_id: int, code: str, entity: str, record_id: int) -> Response | tuple[str, int]:
    session = get_session()
    task = tasks.get_task(session, g.user, task_id)
    form = {k: v for k, v in request.form.items() if k not in ("csrf_token", "row_version", "confirm_warnings")}
    version = request.form.get("row_version", "").strip()
    try:
        change = tasks.save_record(session, _registry(), get_db(), g.user, task, code, entity, record_id, form,
                                   int(version) if version.isdigit() else None,
                                   confirm_warnings=request.form.get("confirm_warnings") == "1")
        session.commit()
    except IssueError as exc:
        session.rollback()
        return _village_page(task_id, code, issues=exc.issues, failed=(entity, record_id), posted=form), exc.status
    flash("已保存修改。" if change.fields else "没有需要保存的修改。", "success" if change.fields else "info")
    return redirect(url_for("tasks.village", task_id=task_id, code=code) + f"#{entity}-{record_id}")


@bp.post("/<int:task_id>/villages/<code>/submit")
@login_required
def submit(task_id: int, code: str) -> Response | tuple[str, int]:
    return _transition(task_id, code, lambda s, t: tasks.submit(get_db(), s, _registry(), g.user, t, code, request.form.get("note", "")),
                       lambda s: "已确认并提交，等待乡镇（街道）审核。", lambda: url_for("tasks.village", task_id=task_id, code=code))


@bp.post("/<int:task_id>/villages/<code>/approve")
@login_required
def approve(task_id: int, code: str) -> Response | tuple[str, int]:
    return _transition(task_id, code, lambda s, t: tasks.approve(s, g.user, t, code, request.form.get("comment", "")),
                       lambda s: f"{tasks.area_names(s, [code]).get(code, code)}：审核通过，已确认。", lambda: _back(task_id, code))


@bp.post("/<int:task_id>/villages/<code>/return")
@login_required
def return_(task_id: int, code: str) -> Response | tuple[str, int]:
    return _transition(task_id, code, lambda s, t: tasks.return_village(s, g.user, t, code, request.form.get("comment", "")),
                       lambda s: f"{tasks.area_names(s, [code]).get(code, code)}：已退回。", lambda: _back(task_id, code))


def _transition(task_id: int, code: str, act: Callable[[Session, CollectionTask], object], done: Callable[[Session], str],
                target: Callable[[], str]) -> Response | tuple[str, int]:
    """One status change of a village: committed and confirmed by a flash, or the page again with the issues."""
    session = get_session()
    task = tasks.get_task(session, g.user, task_id)
    try:
        act(session, task)
        session.commit()
    except IssueError as exc:
        session.rollback()
        return _village_page(task_id, code, issues=_labelled(exc.issues)), exc.status
    flash(done(session), "success")
    return redirect(target())


def _back(task_id: int, code: str) -> str:
    target = request.form.get("next", "")
    if target == "task":
        return url_for("tasks.show", task_id=task_id)
    return url_for("tasks.village", task_id=task_id, code=code)


# ------------------------------------------------------------------------------- the report


@bp.get("/<int:task_id>/report")
@login_required
def report(task_id: int) -> str:
    session = get_session()
    task = tasks.get_task(session, g.user, task_id)
    assembled = tasks.generate(get_db(), session, _registry(), g.user, task)
    sheets = [sheet_html(s, 500) for s in assembled.report.sheets]
    preview = {"report": assembled.report, "sheets": sheets, "more_sheets": 0, "masked": any(s["masked"] for s in sheets)}
    return render_template("tasks/report.html", task=task, preview=preview, assembled=assembled, unmasked=_unmasked(session, task),
                           names=tasks.area_names(session, assembled.confirmed + assembled.unconfirmed),
                           formats=reports.FORMATS)


def _unmasked(session: Session, task: CollectionTask) -> tuple[str, ...]:
    """The personal fields the task's report prints in full (its projection's authorised ``unmasked``)."""
    return effective_unmasked(session, _registry().get(task.report_id, task.report_version))


@bp.get("/<int:task_id>/report/download")
@login_required
def download(task_id: int) -> Response:
    session = get_session()
    task = tasks.get_task(session, g.user, task_id)
    fmt = request.args.get("format", "xlsx")
    if fmt not in reports.FORMATS:
        raise ValidationFailed(Issue("bad-format", f"不支持的格式“{fmt}”", {"field": "format"},
                                     hint="可选：" + "、".join(reports.FORMATS)))
    unmasked = _unmasked(session, task)
    purpose = audit.require_purpose(request.args.get("purpose"), "报表") if unmasked else None
    assembled = tasks.generate(get_db(), session, _registry(), g.user, task)
    buffer = io.BytesIO()
    reports.write_report(assembled.report, fmt, buffer)
    reports.log_download(session, g.user, assembled.report, fmt)
    session.commit()
    audit.record(g.user, "download", f"task:{task.id} {task.report_id}@{task.report_version} {fmt}",
                 records=sum(len(s.rows) for s in assembled.report.sheets), purpose=purpose, address=client_address(),
                 detail={"area": task.area_code, "unmasked": list(unmasked)})
    buffer.seek(0)
    response = send_file(buffer, mimetype=MIME[fmt], as_attachment=True, download_name=f"task-{task.id}.{fmt}")
    name = f"{assembled.report.title}_采集任务{task.id}"
    response.headers["Content-Disposition"] = (f"attachment; filename=\"task-{task.id}.{fmt}\"; "
                                               f"filename*=UTF-8''{quote(name, safe='')}.{fmt}")
    return response

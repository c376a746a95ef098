"""Department reports in the browser: choose area and date, preview, download; admins publish
new projection versions (validated, previewed on live data) without a restart."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, send_file, url_for
from werkzeug.wrappers import Response

from app.db import get_db, get_session
from app.issues import Issue, IssueError, ValidationFailed
from app.models.base import utcnow
from app.registry.vocabulary import FREQUENCIES, REPORT_KINDS
from app.reporting.table import Report
from app.services import reports
from app.services.codelists import labels
from app.services.scope import require_admin
from app.views.auth import login_required
from app.views.report_html import sheet_html

bp = Blueprint("reports", __name__, url_prefix="/reports")

PREVIEW_ROWS = 200
MIME = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
    "json": "application/json; charset=utf-8",
}


def _request_from_args(report_id: str) -> reports.RunRequest:
    args = request.values
    version = args.get("version", "")
    as_of = args.get("as_of", "").strip()
    try:
        on = date.fromisoformat(as_of) if as_of else None
    except ValueError:
        raise ValidationFailed(Issue("bad-date", f"日期“{as_of}”格式应为 YYYY-MM-DD", {"field": "as_of"})) from None
    return reports.RunRequest(report_id, int(version) if version.isdigit() else None, args.get("area") or None, on,
                              args.get("period", "").strip() or None)


@bp.get("/")
@login_required
def index() -> str:
    session = get_session()
    specs = reports.visible_reports(reports.registry_for(current_app, session), g.user)
    departments = labels(session, "department")
    return render_template("reports/index.html", specs=specs, kinds=REPORT_KINDS, frequencies=FREQUENCIES,
                           departments=departments)


@bp.get("/<report_id>")
@login_required
def show(report_id: str) -> str:
    session = get_session()
    registry = reports.registry_for(current_app, session)
    spec = registry.get(report_id, None)
    reports.require_run(g.user, spec)
    req = _request_from_args(report_id)
    preview: dict[str, Any] | None = None
    issues: list[Issue] = []
    if request.args.get("preview"):
        try:
            report = reports.build_report(get_db(), session, registry, g.user, req)
            preview = _preview(report)
        except IssueError as exc:
            issues = exc.issues
    return render_template(
        "reports/show.html", spec=registry.get(report_id, req.version), versions=sorted(registry.reports[report_id], reverse=True),
        areas=reports.area_choices(session, g.user), req=req, preview=preview, issues=issues, kinds=REPORT_KINDS,
        today=utcnow().date().isoformat(), formats=reports.FORMATS,
    )


@bp.get("/<report_id>/download")
@login_required
def download(report_id: str) -> Response:
    fmt = request.args.get("format", "xlsx")
    if fmt not in reports.FORMATS:
        raise ValidationFailed(Issue("bad-format", f"不支持的格式“{fmt}”", hint="可选：xlsx、csv、json"))
    session = get_session()
    registry = reports.registry_for(current_app, session)
    report = reports.build_report(get_db(), session, registry, g.user, _request_from_args(report_id))
    buffer = io.BytesIO()
    reports.write_report(report, fmt, buffer)
    reports.log_download(session, g.user, report, fmt)
    session.commit()
    buffer.seek(0)
    name = f"{report.title}_{report.meta['参考日期']}.{fmt}"
    return send_file(buffer, mimetype=MIME[fmt], as_attachment=True, download_name=name)


@bp.get("/downloads")
@login_required
def download_log() -> str:
    return render_template("reports/downloads.html", entries=reports.downloads(get_session(), g.user))


# ---------------------------------------------------------------------------------- admin


@bp.route("/manage", methods=["GET", "POST"])
@login_required
def manage() -> str | Response:
    """Upload or edit a projection: check (errors with path and hint), preview on live data, publish."""
    require_admin(g.user)
    session = get_session()
    registry = reports.registry_for(current_app, session)
    text = request.form.get("source", "")
    if request.method == "GET":
        base = request.args.get("from")
        if base:
            spec = registry.get(base)
            text = _bumped(spec.text, spec.version)
        return render_template("reports/manage.html", source=text, issues=[], preview=None, spec=None,
                               areas=reports.area_choices(session, g.user), req=None)
    upload = request.files.get("file")
    if upload and upload.filename:
        raw = upload.read(1_000_001)
        if len(raw) > 1_000_000:
            raise ValidationFailed(Issue("file-too-large", "报表定义文件不能超过 1 MB", {"file": upload.filename}))
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValidationFailed(Issue("bad-encoding", "报表定义文件须为 UTF-8 编码的 YAML", {"file": upload.filename})) from None
    spec, issues = reports.validate_projection(text, registry)
    errors = [i for i in issues if i.severity == "error"]
    preview = None
    req = _request_from_args(spec.id if spec else "")
    if spec is not None and not errors:
        if request.form.get("action") == "publish":
            published = reports.publish(session, registry, g.user, text, note=request.form.get("note", ""))
            session.commit()
            flash(f"已发布 {published.ref}：{published.title}", "success")
            return redirect(url_for("reports.show", report_id=published.id))
        try:
            preview = _preview(reports.build_from_spec(get_db(), session, registry, g.user, spec, req))
        except IssueError as exc:
            issues = [*issues, *exc.issues]
    return render_template("reports/manage.html", source=text, issues=issues, preview=preview, spec=spec,
                           areas=reports.area_choices(session, g.user), req=req)


def _bumped(text: str, version: int) -> str:
    """The projection's text with its version raised by one, as the starting point of an edit."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("version:"):
            lines[i] = f"version: {version + 1}"
            break
    return "\n".join(lines) + "\n"


def _preview(report: Report) -> dict[str, Any]:
    sheets = [sheet_html(s, PREVIEW_ROWS) for s in report.sheets[:5]]
    return {"report": report, "sheets": sheets, "more_sheets": max(0, len(report.sheets) - 5)}

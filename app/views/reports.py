"""Department reports in the browser: choose area and date, preview, download; admins publish
new projection versions (validated, previewed on live data) without a restart."""

from __future__ import annotations

import io
import re
from datetime import date
from typing import Any
from urllib.parse import quote

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, send_file, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from app import clock
from app.db import get_db, get_session
from app.issues import Issue, IssueError, ValidationFailed
from app.models import Area, ReportDefinition, User
from app.registry.loader import Registry
from app.registry.schema import ReportSpec
from app.registry.vocabulary import FREQUENCIES, REPORT_KINDS
from app.reporting.table import Report
from app.services import audit, reports
from app.services import catalogue as catalogue_service
from app.services.codelists import labels
from app.services.scope import effective_unmasked, require_admin
from app.views.auth import client_address, login_required
from app.views.errors import wants_json
from app.views.report_html import plain_title, sheet_html

bp = Blueprint("reports", __name__, url_prefix="/reports")

PREVIEW_ROWS = 200
MAX_SOURCE_BYTES = 1_000_000
MIME = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
    "json": "application/json; charset=utf-8",
}
_UNSAFE_FILENAME = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')
_VERSION_LINE = re.compile(r"^version\s*:.*$", re.M)
# the form's fields as the page names them (issues point at them)
FIELD_LABELS = {"area": "区划", "as_of": "截至日期", "period": "报告期", "version": "版本", "format": "格式", "purpose": "用途"}

bp.add_app_template_filter(plain_title, "plain_title")


@bp.app_template_global("period_choices")
def _period_choices(frequency: str, today: str | date) -> list[tuple[str, str]]:
    """The report-period picker's choices (``reports.period_choices``) for the page's date."""
    on = today if isinstance(today, date) else date.fromisoformat(str(today))
    return reports.period_choices(on, frequency)


@bp.after_request
def _no_store(response: Response) -> Response:
    """Previews and downloads carry personal data: keep them out of browser and proxy caches."""
    response.headers["Cache-Control"] = "no-store"
    return response


def _request_from_args(report_id: str) -> reports.RunRequest:
    """Area, date / period and version from the query string (or form); bad input → a Chinese issue."""
    args = request.values
    issues: list[Issue] = []
    version = args.get("version", "").strip()
    if version and not version.isdigit():
        issues.append(Issue("bad-version", f"版本“{version}”应为正整数", {"field": "version"}))
    as_of = args.get("as_of", "").strip()
    on = None
    if as_of:
        try:
            on = date.fromisoformat(as_of)
        except ValueError:
            issues.append(Issue("bad-date", f"日期“{as_of}”无法识别", {"field": "as_of"},
                                hint="请按 YYYY-MM-DD 填写一个真实存在的日期，例如 2025-06-30"))
        if on is not None and not date(1950, 1, 1) <= on <= date(2100, 12, 31):
            issues.append(Issue("date-out-of-range", f"参考日期 {on} 超出 1950—2100 年的合理范围", {"field": "as_of"}))
    period = args.get("period", "").strip() or None
    if period:
        try:
            reports.parse_period(period)
        except IssueError as exc:
            issues += exc.issues
    if issues:
        raise ValidationFailed(issues)
    return reports.RunRequest(report_id, int(version) if version else None, args.get("area", "").strip() or None, on,
                              period)


def _labelled(issues: list[Issue]) -> list[Issue]:
    """Issues about the run form's fields, located by the labels the user sees (``字段 报告期``)."""
    return [i.at(field=FIELD_LABELS[i.location["field"]]) if i.location.get("field") in FIELD_LABELS else i
            for i in issues]


def _empty_request(report_id: str) -> reports.RunRequest:
    """The request when the query string could not be read (the form shows the raw texts again)."""
    args = request.values
    return reports.RunRequest(report_id, area_code=args.get("area") or None, period=args.get("period") or None)


# ---------------------------------------------------------------------------------- catalogue


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
def show(report_id: str) -> str | tuple[str, int]:
    session = get_session()
    registry = reports.registry_for(current_app, session)
    latest = registry.get(report_id)
    reports.require_run(g.user, latest)  # another department's report: 403 before anything else
    spec, req, preview, issues, status = latest, _empty_request(report_id), None, [], 200
    try:
        req = _request_from_args(report_id)
        spec = registry.get(report_id, req.version)
        if request.args.get("preview"):
            preview = _preview(reports.build_report(get_db(), session, registry, g.user, req))
            if spec.kind == "area_summary":  # a click on a number explains it (views/quality.py)
                preview["explain_url"] = url_for("quality.explain", report_id=spec.id, version=spec.version)
    except IssueError as exc:
        issues, status = _labelled(exc.issues), exc.status
    return _show_page(registry, spec, req, preview, issues), status


def _show_page(registry: Registry, spec: ReportSpec, req: reports.RunRequest, preview: dict[str, Any] | None,
               issues: list[Issue]) -> str:
    return render_template(
        "reports/show.html", spec=spec, versions=sorted(registry.reports[spec.id], reverse=True),
        areas=reports.area_choices(get_session(), g.user), req=req, preview=preview, issues=issues, kinds=REPORT_KINDS,
        today=clock.today().isoformat(), formats=reports.FORMATS,
    )


@bp.get("/<report_id>/download")
@login_required
def download(report_id: str) -> Response | tuple[str, int]:
    session = get_session()
    registry = reports.registry_for(current_app, session)
    latest = registry.get(report_id)
    reports.require_run(g.user, latest)
    spec, req = latest, _empty_request(report_id)
    try:
        fmt = request.args.get("format", "xlsx")
        if fmt not in reports.FORMATS:
            raise ValidationFailed(Issue("bad-format", f"不支持的格式“{fmt}”", {"field": "format"},
                                         hint="可选：" + "、".join(reports.FORMATS)))
        req = _request_from_args(report_id)
        spec = registry.get(report_id, req.version)
        unmasked = list(effective_unmasked(session, spec))
        purpose = audit.require_purpose(request.args.get("purpose"), "报表") if unmasked else None
        report = reports.build_report(get_db(), session, registry, g.user, req)
        buffer = io.BytesIO()
        reports.write_report(report, fmt, buffer)
    except IssueError as exc:
        session.rollback()
        if wants_json():
            raise
        # back to the report's form, with the problem next to the fields
        return _show_page(registry, spec, req, None, _labelled(exc.issues)), exc.status
    reports.log_download(session, g.user, report, fmt)
    session.commit()
    audit.record(g.user, "download", f"{spec.ref} {fmt}", records=sum(len(s.rows) for s in report.sheets),
                 purpose=purpose, address=client_address(),
                 detail={"area": req.area_code, "unmasked": unmasked})
    buffer.seek(0)
    response = send_file(buffer, mimetype=MIME[fmt], as_attachment=True, download_name=f"{report_id}.{fmt}")
    response.headers["Content-Disposition"] = _disposition(report, req, fmt)
    return response


def _disposition(report: Report, req: reports.RunRequest, fmt: str) -> str:
    """``attachment`` with a Chinese file name (RFC 6266 ``filename*``) and a plain ASCII fallback."""
    when = req.period or report.meta.get("参考日期", "")
    name = _UNSAFE_FILENAME.sub("_", f"{report.title}_{when}").strip(" ._") or req.report_id
    ascii_name = _UNSAFE_FILENAME.sub("_", f"{req.report_id}_{when}")
    return f"attachment; filename=\"{ascii_name}.{fmt}\"; filename*=UTF-8''{quote(name, safe='')}.{fmt}"


@bp.get("/downloads")
@login_required
def download_log() -> str:
    session = get_session()
    entries = reports.downloads(session, g.user)
    user_ids = {e.user_id for e in entries if e.user_id is not None}
    users = {u.id: u for u in session.execute(select(User).where(User.id.in_(user_ids))).scalars()} if user_ids else {}
    codes = {e.area_code for e in entries}
    areas = {a.code: a.name for a in session.execute(select(Area).where(Area.code.in_(codes))).scalars()} if codes else {}
    registry = reports.registry_for(current_app, session)
    titles = {spec.ref: f"{spec.plain_title} v{spec.version}" for versions in registry.reports.values() for spec in versions.values()}
    return render_template("reports/downloads.html", entries=entries, users=users, areas=areas, titles=titles)


# ---------------------------------------------------------------------------------- admin


@bp.route("/manage", methods=["GET", "POST"])
@login_required
def manage() -> str | Response | tuple[str, int]:
    """Upload or edit a projection: check (errors with path and hint), preview on live data, publish."""
    require_admin(g.user)
    session = get_session()
    registry = reports.registry_for(current_app, session)
    today = clock.today()
    if request.method == "GET":
        text = ""
        base = request.args.get("from")
        if base:
            spec = registry.get(base)
            text = _bumped(spec.text, max(registry.reports[base]))
        return _manage_page(text, [], None, None, reports.RunRequest(""), today)

    text = request.form.get("source", "")
    issues: list[Issue] = []
    source = "编辑框"
    upload = request.files.get("file")
    if upload and upload.filename:
        uploaded, issues = _read_upload(upload.filename, upload.read(MAX_SOURCE_BYTES + 1))
        text, source = (uploaded, upload.filename) if uploaded is not None else (text, source)
    text = text.replace("\r\n", "\n")  # browsers send a textarea's lines with CRLF
    spec: ReportSpec | None = None
    if not issues:
        if not text.strip():
            issues = [Issue("empty-file", "报表定义为空", hint="上传 .yaml 文件，或在下方编辑框中粘贴定义")]
        else:
            spec, issues = reports.validate_projection(text, registry, source, session=session)
    try:
        req = _request_from_args(spec.id if spec else "")
    except IssueError as exc:
        req, issues = _empty_request(spec.id if spec else ""), [*issues, *_labelled(exc.issues)]
    if spec is None or _errors(issues):
        return _manage_page(text, issues, spec, None, req, today), 422

    if request.form.get("action") == "publish":
        try:
            published = reports.publish(session, registry, g.user, text, note=request.form.get("note", "").strip())
            session.commit()
        except IssueError as exc:
            session.rollback()
            return _manage_page(text, [*issues, *exc.issues], spec, None, req, today), exc.status
        flash(f"已发布 {published.ref}：{plain_title(published.title)}。旧版本仍可在“版本”中选择。", "success")
        return redirect(url_for("reports.show", report_id=published.id, version=published.version))

    clash = _version_clash(registry, spec)
    if clash is not None:
        issues = [*issues, clash]
    sheet = catalogue_service.admission(spec, registry)  # 报表准入: shown before anything goes live
    issues = [*issues, *(i for i in sheet.issues if i.severity == "error")]
    preview = None
    try:
        preview = _preview(reports.build_from_spec(get_db(), session, registry, g.user, spec, req))
    except IssueError as exc:
        issues = [*issues, *_labelled(exc.issues)]
    refused = any(i.severity == "error" for i in sheet.issues)  # e.g. no 有效期至: cannot be admitted
    return _manage_page(text, issues, spec, preview, req, today, admission=sheet), 422 if refused else 200


def _manage_page(text: str, issues: list[Issue], spec: ReportSpec | None, preview: dict[str, Any] | None,
                 req: reports.RunRequest, today: date, draft: Any = None, admission: Any = None) -> str:
    session = get_session()
    published = list(session.execute(select(ReportDefinition).order_by(ReportDefinition.id.desc()).limit(50)).scalars())
    user_ids = {d.published_by for d in published if d.published_by is not None}
    users = {u.id: u for u in session.execute(select(User).where(User.id.in_(user_ids))).scalars()} if user_ids else {}
    return render_template("reports/manage.html", source=text, issues=issues, preview=preview, spec=spec,
                           can_publish=spec is not None and not _errors(issues), areas=reports.area_choices(session, g.user),
                           req=req, today=today.isoformat(), published=published, users=users, draft=draft,
                           admission=admission)


def _read_upload(filename: str, raw: bytes) -> tuple[str | None, list[Issue]]:
    if len(raw) > MAX_SOURCE_BYTES:
        return None, [Issue("file-too-large", "报表定义文件不能超过 1 MB", {"file": filename})]
    try:
        return raw.decode("utf-8-sig"), []
    except UnicodeDecodeError:
        return None, [Issue("bad-encoding", "报表定义文件须为 UTF-8 编码的 YAML", {"file": filename},
                            hint="用文本编辑器另存为 UTF-8 编码后重新上传")]


def _errors(issues: list[Issue]) -> list[Issue]:
    return [i for i in issues if i.severity == "error"]


def _version_clash(registry: Registry, spec: ReportSpec) -> Issue | None:
    """The check button tells about a version number publishing would refuse (same rule as ``publish``)."""
    existing = registry.reports.get(spec.id, {})
    if spec.version in existing:
        return Issue("version-exists", f"报表“{spec.id}”第{spec.version}版已存在，不能覆盖", {"path": "version"},
                     hint=f"请把 version 改为 {max(existing) + 1}")
    if existing and spec.version < max(existing):
        return Issue("version-too-low", f"新版本号应大于现有最高版本 {max(existing)}", {"path": "version"},
                     hint=f"请把 version 改为 {max(existing) + 1}")
    return None


def _bumped(text: str, version: int) -> str:
    """The projection's text with its version raised by one, as the starting point of an edit."""
    bumped, count = _VERSION_LINE.subn(f"version: {version + 1}", text, count=1)
    if not count:
        bumped = f"version: {version + 1}\n{text}"
    return bumped if bumped.endswith("\n") else bumped + "\n"


def _preview(report: Report) -> dict[str, Any]:
    sheets = [sheet_html(s, PREVIEW_ROWS) for s in report.sheets[:5]]
    return {"report": report, "sheets": sheets, "more_sheets": max(0, len(report.sheets) - 5),
            "masked": any(s["masked"] for s in sheets)}

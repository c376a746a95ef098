"""报表目录 (the catalogue of every report), 减负监测 (burden monitoring) and the reverse mapping of a
department's Excel form into a draft projection opened in the report-definition editor."""

from __future__ import annotations

import io

from flask import Blueprint, current_app, g, jsonify, render_template, request, send_file
from werkzeug.wrappers import Response

from app import clock
from app.db import get_db, get_session
from app.issues import Issue, IssueError, PermissionDenied, ValidationFailed
from app.registry.draft import check_department, draft_form, draft_id, to_yaml
from app.registry.indicator_list import all_indicators
from app.registry.vocabulary import FREQUENCIES
from app.services import burden as burden_service
from app.services import catalogue as catalogue_service
from app.services import reports
from app.services.codelists import labels
from app.services.scope import require_admin
from app.views.auth import login_required
from app.views.reports import MIME, _manage_page, _preview

bp = Blueprint("catalogue", __name__)

MAX_FORM_BYTES = 10 * 1024 * 1024


def _require_catalogue_reader() -> None:
    """The catalogue is for the admin and the departments (who own the reports)."""
    if g.user.role not in ("admin", "department"):
        raise PermissionDenied(Issue("catalogue-only", "报表目录仅供管理员和部门用户查看"))


@bp.get("/catalogue")
@login_required
def catalogue() -> str | Response:
    _require_catalogue_reader()
    session = get_session()
    entries = catalogue_service.catalogue(session, reports.registry_for(current_app, session))
    departments = labels(session, "department")
    if request.args.get("format") == "xlsx":
        return send_file(io.BytesIO(catalogue_service.catalogue_xlsx(entries, departments)), mimetype=MIME["xlsx"],
                         as_attachment=True, download_name="catalogue.xlsx")
    return render_template("catalogue/index.html", entries=entries, departments=departments, frequencies=FREQUENCIES,
                           status_labels=catalogue_service.STATUS_LABELS, display=clock.display,
                           soon_days=catalogue_service.SOON_DAYS)


@bp.get("/burden")
@login_required
def burden() -> str | Response | tuple[str, int]:
    require_admin(g.user)
    session = get_session()
    period = request.args.get("period", "").strip() or str(clock.today().year)
    try:
        result = burden_service.compute(session, reports.registry_for(current_app, session), period)
    except IssueError as exc:
        return render_template("catalogue/burden.html", result=None, period=period, issues=exc.issues,
                               labels=burden_service.SOURCE_LABELS, sources=burden_service.VILLAGE_SOURCES), exc.status
    if request.args.get("format") == "xlsx":
        return send_file(io.BytesIO(burden_service.burden_xlsx(result)), mimetype=MIME["xlsx"], as_attachment=True,
                         download_name=f"burden_{period}.xlsx")
    if request.args.get("format") == "json":  # the page's charts read this too (no inline data: CSP)
        return jsonify({"burden": result.as_dict(), **burden_service.charts(result)})
    top = max([r.cells for r in result.reports] + [1])
    return render_template("catalogue/burden.html", result=result, data=result.as_dict(), period=period, issues=[],
                           labels=burden_service.SOURCE_LABELS, sources=burden_service.VILLAGE_SOURCES, top=top)


@bp.post("/catalogue/draft")
@login_required
def draft() -> str | tuple[str, int]:
    """Upload a department's form → its draft projection in the report-definition editor, with the
    column mapping (matched / 需新建指标) and, for a filled copy, the file's own totals."""
    require_admin(g.user)
    session = get_session()
    registry = reports.registry_for(current_app, session)
    upload = request.files.get("form")
    department = request.form.get("department", "").strip() or None
    try:
        if upload is None or not upload.filename:
            raise ValidationFailed(Issue("no-file", "请选择部门的报表文件（.xlsx 或 .xls）", {"field": "form"}))
        data = upload.read(MAX_FORM_BYTES + 1)
        if len(data) > MAX_FORM_BYTES:
            raise ValidationFailed(Issue("file-too-large", "报表文件不能超过 10 MB", {"file": upload.filename}))
        check_department(department)
        result = draft_form(data, upload.filename, all_indicators(registry), department)
    except IssueError as exc:
        return _manage_page("", exc.issues, None, None, reports.RunRequest(""), clock.today()), exc.status
    text = to_yaml(result, draft_id(result, upload.filename))
    spec, issues = reports.validate_projection(text, registry, upload.filename)
    req = reports.RunRequest(spec.id if spec else "")
    preview = None
    if spec is not None and result.filled and spec.kind == "area_summary" and not _errors(issues):
        # a filled copy: generate the draft for the whole county today, its 合计 beside the file's
        try:
            report = reports.build_from_spec(get_db(), session, registry, g.user, spec, req)
            total = next((r.values for r in report.sheets[0].rows if r.kind == "total"), None)
            if total is not None:
                for col, leaf in zip(result.columns, spec.leaves(), strict=True):
                    col.generated_total = total.get(leaf.key)
            preview = _preview(report)
        except IssueError as exc:
            issues = [*issues, *exc.issues]
    return _manage_page(text, [*result.issues, *issues], spec, preview, req, clock.today(), draft=result,
                        admission=catalogue_service.admission(spec, registry) if spec else None)


def _errors(issues: list[Issue]) -> bool:
    return any(i.severity == "error" for i in issues)

"""The village Excel round trip in the browser: download the workbook, upload it, preview, apply or discard."""

from __future__ import annotations

import io
from urllib.parse import quote

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, send_file, url_for
from werkzeug.wrappers import Response

from app.db import get_session
from app.issues import Issue, IssueError, ValidationFailed
from app.models import WorkbookUpload
from app.models.workbook import UPLOAD_STATUSES
from app.services import workbook
from app.services.scope import require_write
from app.services.workbook.plan import ENTITY_LABELS
from app.views.auth import login_required

bp = Blueprint("workbook", __name__, url_prefix="/village")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHOWN_ROWS = 500  # per preview section; the counts are always complete


@bp.after_request
def _no_store(response: Response) -> Response:
    """Workbooks and previews carry personal data: keep them out of caches."""
    response.headers["Cache-Control"] = "no-store"
    return response


def _area(code: str) -> dict[str, str]:
    area = workbook.village_of(get_session(), g.user, code)
    return {"code": area.code, "name": area.name}


def _index_page(code: str, issues: list[Issue] | None = None) -> str:
    session = get_session()
    area = _area(code)
    uploads = [
        {"id": u.id, "file_name": u.file_name, "uploaded_at": u.uploaded_at, "status": u.status,
         "status_label": UPLOAD_STATUSES.get(u.status, u.status)}
        for u in workbook.pending_uploads(session, g.user, code)
    ]
    return render_template("workbook/index.html", area=area, uploads=uploads, issues=issues or [],
                           max_mb=current_app.config["YBT_MAX_UPLOAD_MB"])


@bp.get("/<code>/workbook")
@login_required
def index(code: str) -> str:
    require_write(g.user, code)
    return _index_page(code)


@bp.get("/<code>/workbook/download")
@login_required
def download(code: str) -> Response:
    session = get_session()
    require_write(g.user, code)
    result = workbook.download_workbook(session, g.user, code)
    session.commit()
    response = send_file(io.BytesIO(result.content), mimetype=XLSX, as_attachment=True, download_name="workbook.xlsx")
    response.headers["Content-Disposition"] = f"attachment; filename=\"workbook.xlsx\"; filename*=UTF-8''{quote(result.file_name)}"
    return response


@bp.post("/<code>/workbook/uploads")
@login_required
def upload(code: str) -> Response | tuple[str, int]:
    session = get_session()
    file = request.files.get("file")
    try:
        if file is None or not file.filename:
            raise ValidationFailed(Issue("no-file", "请选择要上传的一表文件（.xlsx）", {"field": "文件"}))
        max_bytes = int(current_app.config["YBT_MAX_UPLOAD_MB"]) * 1024 * 1024
        stored = workbook.store_upload(session, g.user, code, file.filename, file.read(), max_bytes=max_bytes)
        session.commit()
    except IssueError as exc:
        session.rollback()
        return _index_page(code, exc.issues), exc.status
    return redirect(url_for("workbook.show", code=code, upload_id=stored.id))


def _preview_page(code: str, stored: WorkbookUpload, issues: list[Issue] | None = None,
                  choices: dict[str, str] | None = None) -> str:
    session = get_session()
    preview = workbook.preview(session, g.user, stored) if stored.status == "pending" else None
    return render_template(
        "workbook/preview.html", area=_area(code), upload={
            "id": stored.id, "file_name": stored.file_name, "uploaded_at": stored.uploaded_at, "status": stored.status,
            "status_label": UPLOAD_STATUSES.get(stored.status, stored.status), "batch_id": stored.batch_id,
            "decided_at": stored.decided_at},
        preview=preview, issues=issues or [], choices=choices or {}, kinds=workbook.KIND_LABELS, shown=SHOWN_ROWS,
        entity_labels=ENTITY_LABELS,
    )


@bp.get("/<code>/workbook/uploads/<int:upload_id>")
@login_required
def show(code: str, upload_id: int) -> str:
    stored = workbook.get_upload(get_session(), g.user, code, upload_id)
    return _preview_page(code, stored)


def _choices() -> dict[str, str]:
    prefix = "choice-"
    return {k[len(prefix):]: v for k, v in request.form.items() if k.startswith(prefix) and v in (workbook.TAKE, workbook.KEEP)}


@bp.post("/<code>/workbook/uploads/<int:upload_id>/apply")
@login_required
def apply(code: str, upload_id: int) -> Response | tuple[str, int]:
    session = get_session()
    stored = workbook.get_upload(session, g.user, code, upload_id)
    choices = _choices()
    try:
        batch, preview = workbook.apply(session, g.user, stored, digest=request.form.get("digest", ""), choices=choices)
        session.commit()
    except IssueError as exc:
        session.rollback()
        stored = workbook.get_upload(session, g.user, code, upload_id)
        return _preview_page(code, stored, exc.issues, choices), exc.status
    taken = sum(1 for r in preview.of("conflict") if choices.get(r.key) == workbook.TAKE)
    flash(f"已写入：新增 {preview.counts['new']} 条、修改 {preview.counts['changed']} 条、注销或结束 {preview.counts['ended']} 条"
          f"{f'，采用表中值的冲突 {taken} 条' if taken else ''}（变更批次 #{batch.id}）。", "success")
    return redirect(url_for("workbook.show", code=code, upload_id=upload_id))


@bp.post("/<code>/workbook/uploads/<int:upload_id>/discard")
@login_required
def discard(code: str, upload_id: int) -> Response:
    session = get_session()
    stored = workbook.get_upload(session, g.user, code, upload_id)
    workbook.discard(session, g.user, stored)
    session.commit()
    flash("已放弃这份上传，系统中的数据未作任何修改。", "info")
    return redirect(url_for("workbook.index", code=code))

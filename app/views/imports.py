"""Import pages for cadres and township staff: upload a ledger (dry run first), review the preview,
apply, work the conflict queue, download the rejected rows; upload flow-back lists and confirm or
dismiss their alerts.

Previewing an upload and applying a preview run as background jobs (app/services/import_jobs.py): the
request stores the job and redirects to its progress page (/imports/jobs/N, polled as JSON by
static/js/import-job.js), which moves on to the import when the job is done; the cadre can leave and
find the job again under "我的导入". The upload size is capped by YBT_MAX_UPLOAD_MB (MAX_CONTENT_LENGTH).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.db import get_session
from app.issues import Issue, IssueError, ValidationFailed
from app.models import Area, User
from app.models.imports import IMPORT_KINDS, IMPORT_STATUSES, JOB_KINDS, JOB_STATES, POLICIES
from app.services import audit, import_jobs, imports
from app.services.codelists import code_lists
from app.services.fields import label as field_label
from app.services.ledger_import import flowback
from app.services.ledger_import.outcomes import MODELS
from app.services.scope import BASE_DATA_WRITERS, scope_of
from app.views.auth import client_address, login_required
from app.views.params import MAX_ID, int_arg

bp = Blueprint("imports", __name__, url_prefix="/imports")
TODO_ROWS = 500

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ACCEPT = ".xlsx,.xls,.xlsm,.csv"
CHANGE_ROWS = 300


@bp.after_request
def _no_store(response: Response) -> Response:
    """Previews, queues and rejects carry personal data: keep them out of caches."""
    response.headers["Cache-Control"] = "no-store"
    return response


def _villages(user: User) -> list[Area]:
    """Villages (and grids) the user may import into."""
    session = get_session()
    prefix = scope_of(user).prefix
    query = select(Area).where(Area.level.in_((5, 6)), Area.valid_to.is_(None))
    if prefix:
        query = query.where(Area.code.startswith(prefix))
    return list(session.execute(query.order_by(Area.code)).scalars())


def _safe_next(target: str | None) -> str | None:
    """Only our own pages as a redirect target."""
    return target if target and target.startswith("/imports") and not target.startswith("//") else None


def _flash_issues(exc: IssueError) -> None:
    get_session().rollback()
    for issue in exc.issues[:10]:
        flash(str(issue), "error")


def _upload() -> tuple[bytes, str]:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ValidationFailed(Issue("file-required", "请选择要上传的文件", {"field": "文件"}))
    return upload.read(), upload.filename


def _users(ids: set[int | None]) -> dict[int, str]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return dict(get_session().execute(select(User.id, User.display_name).where(User.id.in_(ids))).all())


def _index(issues: list[Issue]) -> str:
    session = get_session()
    batches = imports.list_imports(session, g.user, kind="ledger", limit=50)
    jobs = import_jobs.list_jobs(session, g.user, limit=20)
    return render_template("imports/index.html", villages=_villages(g.user), policies=POLICIES, batches=batches,
                           statuses=IMPORT_STATUSES, users=_users({b.actor_id for b in batches} | {j.actor_id for j in jobs}),
                           accept=ACCEPT, open_conflicts=imports.open_conflict_count(session, g.user),
                           can_import=g.user.role in BASE_DATA_WRITERS, issues=issues, jobs=jobs, job_kinds=JOB_KINDS,
                           job_states=JOB_STATES)


@bp.get("/")
@login_required
def index() -> str:
    return _index([])


@bp.post("/")
@login_required
def upload() -> Response | tuple[str, int]:
    session = get_session()
    try:
        content, name = _upload()
        area_code = request.form.get("area", "").strip() or g.user.area_code
        policy = request.form.get("policy", "queue")
        job = import_jobs.submit_preview(session, g.user, content, name, area_code=area_code, policy=policy)
    except IssueError as exc:
        session.rollback()
        return _index(exc.issues), exc.status
    del content
    return _after_submit(job.id)


def _after_submit(job_id: int) -> Response:
    """Run (or queue) the job; an inline job that is done goes straight to its import, else its progress page."""
    import_jobs.start(current_app._get_current_object(), job_id)  # type: ignore[attr-defined]
    session = get_session()
    session.expire_all()
    job = import_jobs.get_job(session, g.user, job_id)
    if job.state == "done" and job.import_id is not None:
        if job.kind == "apply":
            flash(job.message, "success")
        return redirect(url_for("imports.show", import_id=job.import_id))
    if job.state == "failed" and job.kind == "apply" and job.import_id is not None:
        flash(job.message, "error")
        return redirect(url_for("imports.show", import_id=job.import_id))
    return redirect(url_for("imports.job_page", job_id=job_id, follow=1))


@bp.get("/jobs/<int:job_id>")
@login_required
def job_page(job_id: int) -> str:
    job = import_jobs.get_job(get_session(), g.user, job_id)
    return render_template("imports/job.html", job=job, status=import_jobs.status(job), job_kinds=JOB_KINDS, job_states=JOB_STATES,
                           follow=request.args.get("follow") == "1")


@bp.get("/jobs/<int:job_id>/status")
@login_required
def job_status(job_id: int) -> Response:
    job = import_jobs.get_job(get_session(), g.user, job_id)
    out = import_jobs.status(job)
    out["state_label"] = JOB_STATES.get(job.state, job.state)
    out["result_url"] = url_for("imports.show", import_id=job.import_id) if job.state == "done" and job.import_id else None
    return jsonify(out)


EXTRA_LABELS = {"household_number": "户号", "area_name": "所在村", "tag_code": "标签", "head_name": "户主姓名",
                "head_id_number": "户主身份证号", "valid_to": "结束日期"}


def _field_texts() -> tuple[Callable[[str, str], str], Callable[[str, str, Any], Any]]:
    """Chinese field labels and code-list labels for the preview's old → new values."""
    lists = code_lists(get_session())

    def flabel(entity: str, name: str) -> str:
        model = MODELS.get(entity)
        if model is not None and name in model.__table__.c:
            return field_label(model, name)
        if entity == "tag" and name == "valid_from":
            return "开始日期"
        return EXTRA_LABELS.get(name, name)

    def fvalue(entity: str, name: str, value: Any) -> Any:
        model = MODELS.get(entity)
        if value is None or model is None or name not in model.__table__.c:
            return value
        code_list = model.__table__.c[name].info.get("code_list")
        label = lists.get(code_list, {}).get(str(value)) if code_list else None
        return f"{label}（{value}）" if label else value

    return flabel, fvalue


@bp.get("/<int:import_id>")
@login_required
def show(import_id: int) -> str:
    session = get_session()
    batch = imports.get_import(session, g.user, import_id)
    if batch.kind != "ledger":
        return redirect(url_for("imports.flowback_page", **{"import": batch.id}))  # type: ignore[return-value]
    changes, total = imports.import_changes(session, g.user, import_id, limit=CHANGE_ROWS)
    audit.record(g.user, "import-view", f"import:{import_id} {batch.file_name}"[:300], records=len(changes),
                 address=client_address(), detail={"area": batch.area_code, "status": batch.status})
    area = session.get(Area, batch.area_code) if batch.area_code else None
    flabel, fvalue = _field_texts()
    return render_template("imports/show.html", batch=batch, area=area, policies=POLICIES, statuses=IMPORT_STATUSES,
                           flabel=flabel, fvalue=fvalue,
                           changes=changes, changes_total=total, users=_users({batch.actor_id}),
                           conflicts=imports.conflicts(session, g.user, import_id=import_id, status="open", limit=20),
                           can_apply=batch.status in imports.APPLIABLE and g.user.role in BASE_DATA_WRITERS)


@bp.post("/<int:import_id>/apply")
@login_required
def apply(import_id: int) -> Response:
    session = get_session()
    try:
        job = import_jobs.submit_apply(session, g.user, import_id, policy=request.form.get("policy") or None)
    except IssueError as exc:
        _flash_issues(exc)
        return redirect(url_for("imports.show", import_id=import_id))
    return _after_submit(job.id)


@bp.post("/<int:import_id>/discard")
@login_required
def discard(import_id: int) -> Response:
    imports.discard_import(get_session(), g.user, import_id)
    flash("已放弃该导入，未写入任何数据", "info")
    return redirect(url_for("imports.index"))


@bp.get("/<int:import_id>/rejects.xlsx")
@login_required
def rejects(import_id: int) -> Response:
    session = get_session()
    batch = imports.get_import(session, g.user, import_id)
    data = imports.rejects_workbook(session, g.user, import_id)
    audit.record(g.user, "download", f"import:{import_id} rejected rows"[:300],
                 records=int((batch.counts or {}).get("rejected", 0)), address=client_address())

    stem = batch.file_name.rsplit(".", 1)[0]
    response = send_file(io.BytesIO(data), mimetype=XLSX, as_attachment=True, download_name=f"rejected-{import_id}.xlsx")
    response.headers["Content-Disposition"] = (f"attachment; filename=\"rejected-{import_id}.xlsx\"; "
                                               f"filename*=UTF-8''{quote(stem + '-未导入的行', safe='')}.xlsx")
    return response


# ------------------------------------------------------------------ conflict queue


@bp.get("/todo")
@login_required
def todo() -> str:
    """The village's to-do list: tags kept by an import with required attributes still 待补充."""
    from app.services import tags as tag_service

    session = get_session()
    rows = [(tag, tag_type, subject, {a["name"]: a.get("label", a["name"]) for a in tag_type.attributes})
            for tag, tag_type, subject in tag_service.pending_tags(session, g.user, limit=TODO_ROWS)]
    return render_template("imports/todo.html", rows=rows, limit=TODO_ROWS)


@bp.get("/conflicts")
@login_required
def conflicts() -> str:
    session = get_session()
    import_id = int_arg(request.args, "import")
    batch = imports.get_import(session, g.user, import_id) if import_id else None
    items = imports.conflicts(session, g.user, import_id=import_id)
    return render_template("imports/conflicts.html", items=items, batch=batch)


@bp.post("/conflicts")
@login_required
def resolve() -> Response:
    session = get_session()
    decision = request.form.get("decision", "")
    if request.form.get("all_of"):
        all_of = int_arg(request.form, "all_of")  # a tampered value selects nothing, never a crash
        ids = imports.open_conflict_ids(session, g.user, all_of) if all_of is not None else []
    else:
        ids = [int(i) for i in request.form.getlist("id") if i.isdigit() and int(i) <= MAX_ID]
    back = request.form.get("import")
    try:
        n = imports.resolve_conflicts(session, g.user, ids, decision)
    except IssueError as exc:
        _flash_issues(exc)
    else:
        flash(f"已处理 {n} 项：{'采用文件值' if decision == 'take' else '保留系统值'}", "success")
    return redirect(url_for("imports.conflicts", **({"import": back} if back else {})))


# ------------------------------------------------------------------ flow-back


def _flowback_page(issues: list[Issue], status: int = 200) -> tuple[str, int]:
    session = get_session()
    import_id = int_arg(request.args, "import")
    shown = request.args.get("status", "open")
    batch = imports.get_import(session, g.user, import_id) if import_id else None
    alerts = flowback.alerts(session, g.user, status=None if shown == "all" else shown, import_id=import_id)
    batches = imports.list_imports(session, g.user, kind="flowback", limit=20)
    return render_template("imports/flowback.html", kinds=flowback.KINDS, alert_kinds=flowback.ALERT_KINDS, alerts=alerts,
                           batch=batch, batches=batches, statuses=IMPORT_STATUSES, import_kinds=IMPORT_KINDS, shown=shown,
                           users=_users({a.resolved_by for a in alerts}), accept=ACCEPT, issues=issues), status


@bp.get("/flowback")
@login_required
def flowback_page() -> tuple[str, int]:
    return _flowback_page([])


@bp.post("/flowback")
@login_required
def flowback_upload() -> Response | tuple[str, int]:
    session = get_session()
    try:
        content, name = _upload()
        batch = flowback.reconcile(session, g.user, request.form.get("kind", ""), content, name, isolated=True)
        session.commit()
    except IssueError as exc:
        session.rollback()
        return _flowback_page(exc.issues, exc.status)
    c = batch.counts
    flash(f"{flowback.KINDS[batch.kind]}已核对：匹配 {c['matched']}，未匹配 {c['unmatched']}，信息不一致 {c['mismatched']}，"
          f"新提醒 {c['alerts']} 条", "success" if batch.status == "applied" else "error")
    return redirect(url_for("imports.flowback_page", **{"import": batch.id}))


@bp.post("/alerts/<int:alert_id>/confirm")
@login_required
def confirm_alert(alert_id: int) -> Response:
    session = get_session()
    try:
        alert = flowback.confirm(session, g.user, alert_id)
        session.commit()
    except IssueError as exc:
        session.rollback()
        _flash_issues(exc)
    else:
        flash(f"已确认：{alert.name}（{flowback.ALERT_KINDS[alert.kind]}），已按名单更新", "success")
    return redirect(_safe_next(request.form.get("next")) or url_for("imports.flowback_page"))


@bp.post("/alerts/<int:alert_id>/dismiss")
@login_required
def dismiss_alert(alert_id: int) -> Response:
    session = get_session()
    try:
        alert = flowback.dismiss(session, g.user, alert_id, request.form.get("reason", ""))
        session.commit()
    except IssueError as exc:
        session.rollback()
        _flash_issues(exc)
    else:
        flash(f"已忽略：{alert.name}（{flowback.ALERT_KINDS[alert.kind]}）", "info")
    return redirect(_safe_next(request.form.get("next")) or url_for("imports.flowback_page"))


"""Admin pages: accounts, department authorisations, API tokens and the read audit (admins only)."""

from __future__ import annotations

import io
from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, send_file, url_for
from openpyxl import Workbook
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.clock import display
from app.db import get_session
from app.issues import Issue, IssueError, ValidationFailed
from app.models import Area, DepartmentGrant
from app.models.base import utcnow
from app.models.user import ROLES
from app.services import accounts, api_tokens, audit
from app.services.codelists import labels
from app.services.scope import GRANTABLE_FIELDS, require_admin, sensitive_tags
from app.services.tags import tag_types
from app.views.auth import client_address, login_required

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@login_required
def _admins_only() -> None:
    require_admin(g.user)


def _choices() -> dict[str, Any]:
    session = get_session()
    areas = session.execute(select(Area).where(Area.level.between(3, 6), Area.valid_to.is_(None)).order_by(Area.code)).scalars()
    return {"roles": ROLES, "departments": labels(session, "department"), "areas": list(areas)}


def _account_values(form: Any) -> dict[str, Any]:
    return {k: (form.get(k) or "").strip() for k in ("username", "display_name", "role", "area_code", "department", "password")} | {
        "active": form.get("active") == "1"}


def _record(kind: str, target: str, **detail: Any) -> None:
    audit.record(g.user, kind, target, address=client_address(), detail=detail)


# -- accounts -----------------------------------------------------------------------------------------


@bp.get("/users")
def users() -> str:
    return render_template("admin/users.html", users=accounts.list_accounts(get_session(), g.user), display=display, **_choices())


@bp.route("/users/new", methods=["GET", "POST"])
def user_new() -> str | Response | tuple[str, int]:
    values: dict[str, Any] = {"active": True}
    if request.method == "POST":
        values = _account_values(request.form)
        session = get_session()
        try:
            if not values["username"] or not values["display_name"]:
                raise ValidationFailed(Issue("required", "请填写用户名和显示名", {"field": "username"}))
            user = accounts.admin_create(session, g.user, values)
            session.commit()
        except IssueError as exc:
            session.rollback()
            return render_template("admin/user_form.html", values=values, issues=exc.issues, user=None, **_choices()), exc.status
        _record("account", f"create {user.username}", role=user.role, area=user.area_code, department=user.department)
        flash(f"已创建账号 {user.username}；首次登录时须修改初始密码", "success")
        return redirect(url_for("admin.users"))
    return render_template("admin/user_form.html", values=values, issues=[], user=None, **_choices())


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def user_edit(user_id: int) -> str | Response | tuple[str, int]:
    session = get_session()
    user = accounts.get_account(session, g.user, user_id)
    values = {"username": user.username, "display_name": user.display_name, "role": user.role, "area_code": user.area_code,
              "department": user.department or "", "active": user.active}
    if request.method == "POST":
        action = request.form.get("action", "save")
        try:
            if action == "reset":
                accounts.admin_reset(session, g.user, user_id, request.form.get("password", ""))
                what = "reset password"
            else:
                values = _account_values(request.form) | {"username": user.username}
                accounts.admin_update(session, g.user, user_id, values)
                what = "update"
            session.commit()
        except IssueError as exc:
            session.rollback()
            return render_template("admin/user_form.html", values=values, issues=exc.issues, user=user, **_choices()), exc.status
        _record("account", f"{what} {user.username}", role=user.role, area=user.area_code, active=user.active)
        flash("已重置密码，该账号的登录已全部退出" if action == "reset" else "已保存", "success")
        return redirect(url_for("admin.users"))
    return render_template("admin/user_form.html", values=values, issues=[], user=user, **_choices())


# -- department authorisations ------------------------------------------------------------------------


@bp.route("/grants", methods=["GET", "POST"])
def grants() -> str | Response | tuple[str, int]:
    session = get_session()
    departments = labels(session, "department")
    types = tag_types(session)
    sensitive = sensitive_tags(session)
    issues: list[Issue] = []
    if request.method == "POST":
        if request.form.get("action") == "revoke":
            raw = request.form.get("grant_id", "")
            grant = session.get(DepartmentGrant, int(raw)) if raw.isdigit() and int(raw) < 2**31 else None
            if grant is None:
                raise IssueError(Issue("not-found", "授权不存在"))
            grant.revoked_at = utcnow()
            session.commit()
            _record("grant", f"revoke #{grant.id} {grant.department}")
            flash("已撤销授权", "success")
            return redirect(url_for("admin.grants"))
        department = request.form.get("department", "")
        fields = [f for f in request.form.getlist("fields") if f in GRANTABLE_FIELDS]
        codes = [c for c in request.form.getlist("tag_codes") if c in types and c not in sensitive]
        basis = request.form.get("legal_basis", "").strip()
        if department not in departments:
            issues.append(Issue("unknown-department", "请选择部门", {"field": "department"}))
        if not fields and not codes:
            issues.append(Issue("empty-grant", "请至少选择一个字段或标签", {"field": "fields"}))
        if len(basis) < 4:
            issues.append(Issue("no-legal-basis", "请填写法律依据或业务依据（如：《社会救助暂行办法》第××条）", {"field": "legal_basis"}))
        if not issues:
            grant = DepartmentGrant(department=department, fields=fields, tag_codes=codes, legal_basis=basis[:300],
                                    granted_by=g.user.username)
            session.add(grant)
            session.commit()
            _record("grant", f"grant #{grant.id} {department}", fields=fields, tag_codes=codes, legal_basis=basis[:300])
            flash("已登记授权", "success")
            return redirect(url_for("admin.grants"))
    rows = session.execute(select(DepartmentGrant).order_by(DepartmentGrant.id.desc())).scalars().all()
    return render_template("admin/grants.html", grants=rows, departments=departments, fields=GRANTABLE_FIELDS,
                           tag_types=[t for t in types.values() if t.code not in sensitive], issues=issues,
                           display=display), 422 if issues else 200


# -- API tokens -----------------------------------------------------------------------------------------


@bp.route("/tokens", methods=["GET", "POST"])
def tokens() -> str | Response | tuple[str, int]:
    session = get_session()
    new_token = None
    issues: list[Issue] = []
    if request.method == "POST":
        try:
            if request.form.get("action") == "revoke":
                raw = request.form.get("token_id", "")
                row = api_tokens.revoke_token(session, int(raw) if raw.isdigit() and len(raw) < 10 else 0)
                session.commit()
                _record("api-token", f"revoke {row.prefix}")
                flash("已吊销令牌", "success")
                return redirect(url_for("admin.tokens"))
            row, new_token = api_tokens.create_token(session, request.form.get("department", ""),
                                                     request.form.get("label", "").strip(), created_by=g.user.username)
            session.commit()
            _record("api-token", f"create {row.prefix} for {row.department}")
        except IssueError as exc:
            session.rollback()
            issues = exc.issues
    return render_template("admin/tokens.html", tokens=api_tokens.tokens(session), new_token=new_token, issues=issues,
                           departments=labels(session, "department"), display=display), 422 if issues else 200


# -- read audit -------------------------------------------------------------------------------------------


@bp.get("/audit")
def audit_log() -> str | Response | tuple[str, int]:
    args = {k: request.args.get(k, "").strip()[:60] for k in ("user", "kind", "since", "until")}
    session = get_session()
    try:
        filters = audit.parse_filters(args["user"], args["kind"], args["since"], args["until"])
    except ValidationFailed as exc:
        return render_template("admin/audit.html", rows=[], total=0, args=args, kinds=audit.KINDS, issues=exc.issues), 422
    if request.args.get("format") == "xlsx":
        rows, total = audit.events(session, filters, limit=100_000)
        _record("audit-export", "xlsx", **{k: v for k, v in args.items() if v})
        return _xlsx([audit.as_dict(r) for r in rows])
    rows, total = audit.events(session, filters, limit=500)
    return render_template("admin/audit.html", rows=[audit.as_dict(r) for r in rows], total=total, args=args,
                           kinds=audit.KINDS, issues=[])


def _xlsx(rows: list[dict[str, Any]]) -> Response:
    from app.reporting.safe import clean_text

    book = Workbook(write_only=True)
    sheet = book.create_sheet("审计记录")
    sheet.append(["时间", "用户", "类型", "对象", "记录数", "用途", "地址"])
    for r in rows:
        sheet.append([r["at"], clean_text(r["user"]), r["kind_label"], clean_text(r["target"]), r["records"],
                      clean_text(r["purpose"] or ""), r["address"]])
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    return send_file(buffer, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                     as_attachment=True, download_name="audit.xlsx")

"""Error pages, and the one JSON error shape: ``{"error": {"status": N, "issues": [Issue.to_dict(), ...]}}``."""

from __future__ import annotations

import sqlite3

from flask import Flask, Response, current_app, g, jsonify, render_template, request
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from app.issues import Issue, IssueError

# Status → (stable code, Chinese title) for errors raised by Flask itself (routing, size limits, crashes).
HTTP_ERRORS: dict[int, tuple[str, str]] = {
    400: ("bad-request", "请求有误"),
    401: ("not-logged-in", "请先登录"),
    403: ("forbidden", "无权访问"),
    404: ("not-found", "页面不存在"),
    405: ("method-not-allowed", "不支持该请求方式"),
    409: ("conflict", "数据已被他人修改"),
    413: ("too-large", "上传的文件过大"),
    422: ("invalid", "数据有误"),
    429: ("too-many-requests", "请求过于频繁"),
    500: ("internal-error", "系统内部错误"),
    503: ("busy", "系统正忙"),
}
HTTP_MESSAGES: dict[int, str] = {
    403: "您没有访问该页面的权限。",
    404: "您访问的页面不存在，可能已被删除或地址有误。",
    405: "该地址不支持这种请求方式。",
    500: "系统内部错误，请稍后重试；如果问题持续出现，请联系管理员。",
}


def wants_json() -> bool:
    """API paths, and clients that prefer JSON over HTML, get JSON errors."""
    if request.path.startswith("/api/"):
        return True
    return request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json"


def _area_name(code: str | None) -> str:
    from app.db import get_session
    from app.models import Area

    area = get_session().get(Area, code) if code else None
    return f"{area.name}（{code}）" if area is not None else str(code or "")


def _explain_scope(issue: Issue) -> Issue:
    """“Out of scope” says what the user may see instead — not the record's own area (that would tell an
    outsider whose it is) and not the same code twice."""
    user = g.get("user")
    if issue.code != "out-of-scope" or user is None:
        return issue
    try:
        mine = _area_name(user.area_code)
    except Exception:  # the explanation must never turn a 403 into a 500
        return issue
    return Issue(issue.code, "该记录超出您的管辖范围，无权查看", {}, issue.severity,
                 hint=f"您的账号可以查看{mine}及其下级区划的数据；需要查看其他区划请联系管理员")


def error_response(status: int, issues: list[Issue]) -> tuple[Response | str, int]:
    if status == 403:
        issues = [_explain_scope(i) for i in issues]
    if wants_json():
        return jsonify({"error": {"status": status, "issues": [i.to_dict() for i in issues]}}), status
    title = HTTP_ERRORS.get(status, ("", "请求无法完成"))[1]
    return render_template("errors/error.html", status=status, title=title, issues=issues), status


def handle_issue_error(exc: IssueError) -> tuple[Response | str, int]:
    return error_response(exc.status, exc.issues)


def handle_http_error(exc: HTTPException) -> tuple[Response | str, int] | Response:
    status = exc.code or 500
    if status >= 500:
        # the request's transaction may be broken (e.g. a failed statement on PostgreSQL)
        session = g.get("db_session")
        if session is not None:
            session.rollback()
    code, title = HTTP_ERRORS.get(status, (f"http-{status}", "请求无法完成"))
    if status == 413:
        message = f"上传的文件超过 {current_app.config['YBT_MAX_UPLOAD_MB']} MB 的上限，请拆分后再上传。"
    else:
        message = HTTP_MESSAGES.get(status, title)
    body, status = error_response(status, [Issue(code, message)])
    if status == 405 and getattr(exc, "valid_methods", None):
        response = current_app.make_response((body, status))
        response.headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
        return response
    return body, status


BUSY_RETRY_SECONDS = 30
_BUSY_WORDS = ("database is locked", "lock timeout", "could not obtain lock", "deadlock detected")


def handle_operational_error(exc: OperationalError | sqlite3.OperationalError) -> tuple[Response | str, int] | Response:
    """The database stayed busy past the wait (SQLite's one writer while a large ledger import
    applies; a PostgreSQL lock timeout or deadlock): a 503 in Chinese that says nothing was saved and
    when to retry, instead of a 500. Any other operational error is a 500 as before."""
    if not any(word in str(getattr(exc, "orig", None) or exc).lower() for word in _BUSY_WORDS):
        raise exc
    session = g.get("db_session")
    if session is not None:
        session.rollback()
    current_app.logger.warning("database busy: %s %s", request.method, request.path)
    body, status = error_response(503, [Issue(
        "database-busy", "系统正在写入其他数据（例如正在导入一份大的台账），这次操作没有保存，已有数据没有改动。",
        {}, hint=f"请等待约 {BUSY_RETRY_SECONDS} 秒后返回上一页再提交一次（返回后已填写的内容通常还在）")])
    response = current_app.make_response((body, status))
    response.headers["Retry-After"] = str(BUSY_RETRY_SECONDS)
    return response


def init_app(app: Flask) -> None:
    app.register_error_handler(IssueError, handle_issue_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(OperationalError, handle_operational_error)
    app.register_error_handler(sqlite3.OperationalError, handle_operational_error)

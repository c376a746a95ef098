"""CSRF protection without a dependency: one random token per session, required on every unsafe request.

Forms carry it in a hidden ``csrf_token`` field (``{{ csrf_token() }}`` in templates); scripts may send
it in the ``X-CSRF-Token`` header. Tests switch the check off with ``WTF_CSRF_ENABLED = False``.
"""

from __future__ import annotations

import hmac
import secrets

from flask import Flask, current_app, request, session

from app.issues import Issue, IssueError

FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def csrf_token() -> str:
    """This session's token, created on first use."""
    token = session.get(FIELD)
    if not token:
        token = secrets.token_urlsafe(32)
        session[FIELD] = token
    return token


def check_csrf() -> None:
    if request.method in SAFE_METHODS or not current_app.config.get("WTF_CSRF_ENABLED", True):
        return
    expected = session.get(FIELD)
    given = request.form.get(FIELD) or request.headers.get(HEADER)
    if not expected or not given or not hmac.compare_digest(str(expected), str(given)):
        raise IssueError(Issue("csrf-failed", "页面已过期或请求来源无法确认，请刷新页面后重试。"))


def init_app(app: Flask) -> None:
    app.before_request(check_csrf)
    app.jinja_env.globals["csrf_token"] = csrf_token

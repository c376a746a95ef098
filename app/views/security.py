"""Security headers, the session cookie's flags, and masking in templates.

Content-Security-Policy allows scripts and styles from this site only (no inline scripts: page scripts
live in app/static/js/ and take their data from ``data-*`` attributes); pages shown to a logged-in user
are never stored by browsers or proxies (``Cache-Control: no-store``) since most carry personal data.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, g, request
from werkzeug.wrappers import Response

from app.db import get_session
from app.services.scope import mask_values

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
       "base-uri 'self'; form-action 'self'; frame-ancestors 'none'")


def security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    if g.get("user") is not None or request.path.startswith("/api/"):
        headers["Cache-Control"] = "no-store"
    return response


def mask(value: Any, field: str) -> Any:
    """In templates: ``{{ mask(p.id_number, 'id_number') }}`` — the value as this user may see it."""
    user = g.get("user")
    if user is None or value is None:
        return value
    return mask_values(get_session(), user, {field: value})[field]


def out_of_range(exc: Exception) -> Any:
    """A number too large for the database (a tampered id or page in a query string or form): a 400 with
    the one error shape, and the request's transaction rolled back, instead of a 500."""
    from app.issues import Issue
    from app.views.errors import error_response

    session = g.get("db_session")
    if session is not None:
        session.rollback()
    return error_response(400, [Issue("out-of-range", "请求中的数字超出允许的范围，请检查后重试")])


#: How often one process asks the database whether the daily audit purge is due (one cheap query).
PURGE_CHECK_SECONDS = 3600


def purge_audit_when_due() -> None:
    """Audit retention applied on a schedule without cron: at most once an hour per process, at the start
    of a request (before the request opens its own database session, so the two never wait on each
    other), purge rows older than ``YBT_AUDIT_RETENTION_DAYS`` when no purge ran in the last day — shared
    across processes through the purge's own audit row. ``YBT_AUDIT_PURGE=cron`` leaves it to
    ``ybt audit purge``."""
    import time

    from flask import current_app

    app = current_app
    if app.config.get("YBT_AUDIT_PURGE", "request") != "request" or "db_session" in g:
        return
    state = app.extensions.setdefault("ybt_audit_purge", {"checked": float("-inf")})
    now = time.monotonic()
    if now - state["checked"] < PURGE_CHECK_SECONDS:
        return
    state["checked"] = now
    from app.db import get_db
    from app.services import audit

    try:
        with get_db().transaction() as session:
            audit.purge_if_due(session, int(app.config["YBT_AUDIT_RETENTION_DAYS"]))
    except Exception:  # never fail a user's request over housekeeping; the next check retries
        app.logger.exception("audit purge failed")
        state["checked"] = float("-inf")


def init_app(app: Flask) -> None:
    app.config.update(
        SESSION_COOKIE_NAME="ybt_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=bool(app.config.get("YBT_SECURE_COOKIES")),
    )
    app.after_request(security_headers)
    app.before_request_funcs.setdefault(None, []).insert(0, purge_audit_when_due)  # before the user is loaded
    from sqlalchemy.exc import DataError

    app.register_error_handler(OverflowError, out_of_range)
    app.register_error_handler(DataError, out_of_range)
    app.jinja_env.globals["mask"] = mask

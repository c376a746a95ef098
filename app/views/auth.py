"""Logging in and out, the current user in ``g.user``, and the ``login_required`` decorator."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from sqlalchemy import update
from werkzeug.wrappers import Response

from app import clock
from app.db import get_db, get_session
from app.issues import Issue, IssueError, PermissionDenied
from app.models import UserSession
from app.models.base import utcnow
from app.services import accounts, audit
from app.services.dashboard import Me, whoami
from app.views.errors import wants_json

bp = Blueprint("auth", __name__)

F = TypeVar("F", bound=Callable[..., Any])
BAD_LOGIN = "用户名或密码错误"


class LoginRequired(IssueError):
    status = 401


SESSION_KEY = "sid"
#: Endpoints a user who must change the password may still reach.
BEFORE_PASSWORD_CHANGE = frozenset({"auth.password", "auth.logout", "auth.login", "static"})


def client_address() -> str:
    """The peer address (behind a reverse proxy, configure werkzeug's ProxyFix so this is the client's)."""
    return (request.remote_addr or "")[:64]


@bp.before_app_request
def load_logged_in_user() -> Response | None:
    """The user of the server-side session named in the cookie; ended or timed-out sessions are refused."""
    g.user = None
    token = session.get(SESSION_KEY)
    if token is None or request.endpoint == "static":
        return None
    config = current_app.config
    db = get_session()
    user, row = accounts.session_user(db, token, idle=timedelta(minutes=int(config["YBT_SESSION_IDLE_MINUTES"])),
                                      absolute=timedelta(hours=int(config["YBT_SESSION_MAX_HOURS"])))
    if user is None:
        session.pop(SESSION_KEY, None)
        return None
    g.user = user
    if row is not None and (utcnow() - accounts._aware(row.last_seen_at)).total_seconds() > 30:
        with get_db().transaction() as own:  # its own short transaction: the request may only read
            own.execute(update(UserSession).where(UserSession.id == row.id).values(last_seen_at=utcnow()))
    if user.must_change_password and request.endpoint not in BEFORE_PASSWORD_CHANGE:
        if wants_json():
            raise PermissionDenied(Issue("must-change-password", "请先修改初始密码"))
        return redirect(url_for("auth.password"))
    return None


@bp.app_context_processor
def inject_me() -> dict[str, Me | None]:
    """The header's view of the logged-in user (a plain value, not the ORM row)."""
    if g.get("user") is None:
        return {"me": None}
    if "me" not in g:
        g.me = whoami(get_session(), g.user)
    return {"me": g.me}


def login_required(view: F) -> F:
    """Pages redirect to the login page; API calls get a 401 in the JSON error shape."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if g.user is None:
            if wants_json():
                raise LoginRequired(Issue("not-logged-in", "请先登录"))
            target = request.full_path if request.query_string else request.path
            return redirect(url_for("auth.login", next=target))
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def _safe_next(target: str | None) -> str:
    """Only same-site paths: never follow ``next`` to another host, nor a value with control characters."""
    if target and len(target) < 2000 and target.isprintable() and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("home.index")


@bp.route("/login", methods=("GET", "POST"))
def login() -> Response | str | tuple[str, int]:
    next_url = request.values.get("next", "")
    if request.method == "GET":
        if g.user is not None:
            return redirect(_safe_next(next_url))
        return render_template("auth/login.html", username="", error=None, next_url=next_url)

    username = request.form.get("username", "").strip()[:50]
    password = request.form.get("password", "")
    if not username or not password:
        return render_template("auth/login.html", username=username, error="请输入用户名和密码", next_url=next_url)
    db, address = get_session(), client_address()
    if accounts.throttled(db, username, address):
        error = "登录失败次数过多，请15分钟后再试（其他地点的登录不受影响）"
        return render_template("auth/login.html", username=username, error=error, next_url=next_url), 429
    user = accounts.login(db, username, password, address)
    if user is not None and current_app.config["YBT_ENV"] == "production" and accounts.holds_demo_password(user):
        db.rollback()
        error = "该账号仍使用演示密码，生产环境不允许登录；请管理员重置密码"
        return render_template("auth/login.html", username=username, error=error, next_url=next_url), 403
    if user is None:
        db.commit()  # the failure row counts for the throttle
        audit.record(None, "login-failed", username=username, address=address)
        return render_template("auth/login.html", username=username, error=BAD_LOGIN, next_url=next_url)
    token = accounts.start_session(db, user, address, request.headers.get("User-Agent", ""))
    db.commit()
    session.clear()
    session[SESSION_KEY] = token
    audit.record(user, "login", address=address)
    if user.must_change_password:
        return redirect(url_for("auth.password"))
    return redirect(_safe_next(next_url))


@bp.post("/logout")
def logout() -> Response:
    """Ends the server-side session: a copy of the cookie is refused from now on."""
    db = get_session()
    accounts.end_session(db, session.get(SESSION_KEY))
    db.commit()
    if g.user is not None:
        audit.record(g.user, "logout", address=client_address())
    session.clear()
    flash("您已退出登录", "info")
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=("GET", "POST"))
@login_required
def password() -> Response | str | tuple[str, int]:
    """Change one's own password (required after an initial or reset password); other sessions end."""
    if request.method == "GET":
        return render_template("auth/password.html", issues=[], must=g.user.must_change_password)
    db = get_session()
    try:
        accounts.change_password(db, g.user, request.form.get("current", ""), request.form.get("new", ""),
                                 request.form.get("repeat", ""))
        token = accounts.start_session(db, g.user, client_address(), request.headers.get("User-Agent", ""))
        db.commit()
    except IssueError as exc:
        db.rollback()
        return render_template("auth/password.html", issues=exc.issues, must=g.user.must_change_password), exc.status
    session.clear()
    session[SESSION_KEY] = token
    audit.record(g.user, "account", "修改本人密码", address=client_address())
    flash("密码已修改；其他设备上的登录已退出", "success")
    return redirect(url_for("home.index"))


def _timeouts() -> dict[str, timedelta]:
    config = current_app.config
    return {"idle": timedelta(minutes=int(config["YBT_SESSION_IDLE_MINUTES"])),
            "absolute": timedelta(hours=int(config["YBT_SESSION_MAX_HOURS"]))}


_BROWSERS = (("MicroMessenger", "微信"), ("DingTalk", "钉钉"), ("Edg/", "Edge"), ("Firefox/", "Firefox"),
             ("QQBrowser", "QQ浏览器"), ("Chrome/", "Chrome"), ("Safari/", "Safari"))
_SYSTEMS = (("iPhone", "iPhone"), ("iPad", "iPad"), ("Android", "Android"), ("Windows", "Windows"),
            ("Mac OS X", "macOS"), ("Linux", "Linux"))


@bp.app_template_filter("browser")
def browser_summary(agent: str | None) -> str:
    """A user agent as a person recognises it: "Chrome 120 · Windows", "微信 · Android" ("—" if none)."""
    if not agent:
        return "—"
    name = next((label for key, label in _BROWSERS if key in agent), "其他浏览器")
    version = re.search(r"(?:Chrome|Firefox|Edg)/(\d+)", agent) if name in ("Chrome", "Firefox", "Edge") else None
    system = next((label for key, label in _SYSTEMS if key in agent), "")
    return " · ".join(part for part in (f"{name} {version.group(1)}" if version else name, system) if part)


@bp.get("/sessions")
@login_required
def sessions() -> str:
    """我的会话: the user's active sessions (when made, last used, from where, which browser); any can be ended."""
    rows = accounts.active_sessions(get_session(), g.user, **_timeouts())
    token = session.get(SESSION_KEY)
    return render_template("auth/sessions.html", rows=rows, current={r.id for r in rows if accounts.is_current(r, token)},
                           display=clock.display)


@bp.post("/sessions/<int:session_id>/end")
@login_required
def end_session(session_id: int) -> Response:
    """End one of one's own sessions: a browser left logged in elsewhere is logged out at its next request."""
    db = get_session()
    row = accounts.end_own_session(db, g.user, session_id)
    db.commit()
    audit.record(g.user, "logout", f"session:{row.id}", address=client_address(),
                 detail={"ended_from": "我的会话", "session_address": row.address})
    if accounts.is_current(row, session.get(SESSION_KEY)):
        session.clear()
        flash("已结束本会话，请重新登录", "info")
        return redirect(url_for("auth.login"))
    flash(f"已结束来自 {row.address or '未知地址'} 的会话", "success")
    return redirect(url_for("auth.sessions"))

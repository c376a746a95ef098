"""Logging in and out, the current user in ``g.user``, and the ``login_required`` decorator."""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.wrappers import Response

from app.db import get_session
from app.issues import Issue, IssueError
from app.models import User
from app.services.dashboard import Me, whoami
from app.services.users import authenticate
from app.views.errors import wants_json

bp = Blueprint("auth", __name__)

F = TypeVar("F", bound=Callable[..., Any])
BAD_LOGIN = "用户名或密码错误"


class LoginRequired(IssueError):
    status = 401


class LoginThrottle:
    """Refuse a username for a while after repeated failed logins (per process, in memory)."""

    def __init__(self, limit: int = 5, window_seconds: int = 15 * 60, max_keys: int = 10_000):
        self.limit, self.window, self.max_keys = limit, window_seconds, max_keys
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> list[float]:
        return [t for t in self._failures.get(key, []) if now - t < self.window]

    def blocked(self, username: str) -> bool:
        with self._lock:
            return len(self._recent(username.lower(), time.monotonic())) >= self.limit

    def failed(self, username: str) -> None:
        now = time.monotonic()
        with self._lock:
            if len(self._failures) >= self.max_keys:  # bound the memory an attacker can make us use
                self._failures = {k: v for k, v in self._failures.items() if now - v[-1] < self.window}
            self._failures[username.lower()] = [*self._recent(username.lower(), now), now]

    def reset(self, username: str) -> None:
        with self._lock:
            self._failures.pop(username.lower(), None)


def _throttle() -> LoginThrottle:
    return current_app.extensions["ybt.login_throttle"]


@bp.before_app_request
def load_logged_in_user() -> None:
    g.user = None
    user_id = session.get("user_id")
    if user_id is None or request.endpoint == "static":
        return
    user = get_session().get(User, user_id)
    if user is None or not user.active:
        session.pop("user_id", None)
        return
    g.user = user


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
    """Only same-site paths: never follow ``next`` to another host."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
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

    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    if not username or not password:
        return render_template("auth/login.html", username=username, error="请输入用户名和密码", next_url=next_url)
    throttle = _throttle()
    if throttle.blocked(username):
        minutes = throttle.window // 60
        error = f"登录失败次数过多，请{minutes}分钟后再试"
        return render_template("auth/login.html", username=username, error=error, next_url=next_url), 429
    user = authenticate(get_session(), username, password)
    if user is None:
        throttle.failed(username)
        return render_template("auth/login.html", username=username, error=BAD_LOGIN, next_url=next_url)
    throttle.reset(username)
    session.clear()
    session["user_id"] = user.id
    return redirect(_safe_next(next_url))


@bp.post("/logout")
def logout() -> Response:
    session.clear()
    flash("您已退出登录", "info")
    return redirect(url_for("auth.login"))


def init_app(app: Flask) -> None:
    app.extensions["ybt.login_throttle"] = LoginThrottle()

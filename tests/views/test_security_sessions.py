"""Server-side sessions, the login throttle, password changes, admin account pages and security headers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update
from view_helpers import PASSWORD, VILLAGE_A, AuthActions

from app.db import get_db
from app.models import LoginFailure, User, UserSession
from app.models.base import utcnow

pytestmark = pytest.mark.usefixtures("users")
NEW_PASSWORD = "Fresh-garden-77"


def _cookie(client: FlaskClient) -> str:
    return client.get_cookie("ybt_session").value  # type: ignore[union-attr]


def test_copied_session_cookie_is_refused_after_logout(app: Flask, client: FlaskClient, auth: AuthActions) -> None:
    auth.login("cadre_a")
    stolen = _cookie(client)
    auth.logout()
    thief = app.test_client()
    thief.set_cookie("ybt_session", stolen)
    response = thief.get("/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert thief.get("/api/me").status_code == 401


def test_deactivation_and_password_change_end_sessions_at_once(app: Flask, client: FlaskClient, auth: AuthActions,
                                                               users: dict[str, int]) -> None:
    auth.login("cadre_a")
    other = app.test_client()
    AuthActions(other).login("cadre_a")
    assert other.get("/").status_code == 200
    response = client.post("/password", data={"current": PASSWORD, "new": NEW_PASSWORD, "repeat": NEW_PASSWORD})
    assert response.status_code == 302
    assert client.get("/").status_code == 200  # the changing browser gets a fresh session
    assert other.get("/").status_code == 302  # every other session ended

    admin = app.test_client()
    AuthActions(admin).login("admin")
    edit = admin.post(f"/admin/users/{users['cadre_a']}", data={
        "display_name": "甲", "role": "village_cadre", "area_code": VILLAGE_A, "department": ""})  # active unticked
    assert edit.status_code == 302
    assert client.get("/").status_code == 302


def test_idle_and_absolute_timeouts(app: Flask, client: FlaskClient, auth: AuthActions) -> None:
    auth.login("cadre_a")
    with get_db(app).transaction() as session:
        session.execute(update(UserSession).values(last_seen_at=utcnow() - timedelta(minutes=31)))
    assert client.get("/").status_code == 302
    auth.login("cadre_a")
    with get_db(app).transaction() as session:
        session.execute(update(UserSession).where(UserSession.ended_at.is_(None))
                        .values(created_at=utcnow() - timedelta(hours=13)))
    assert client.get("/").status_code == 302


def test_attacker_cannot_lock_the_owner_out(app: Flask, auth: AuthActions) -> None:
    attacker = app.test_client()
    for _ in range(40):
        attacker.post("/login", data={"username": "cadre_a", "password": "wrong-guess-1"},
                      environ_base={"REMOTE_ADDR": "203.0.113.9"})
    blocked = attacker.post("/login", data={"username": "cadre_a", "password": PASSWORD},
                            environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert blocked.status_code == 429  # the attacker's address is slowed down ...
    owner = app.test_client()
    ok = owner.post("/login", data={"username": "cadre_a", "password": PASSWORD}, environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert ok.status_code == 302  # ... the owner, elsewhere, logs in with the right password
    with get_db(app).session() as session:  # the count is in the database: every process sees it
        assert session.execute(select(func.count()).select_from(LoginFailure)).scalar_one() == 5  # then refused unchecked


def test_one_address_trying_many_accounts_is_slowed(app: Flask) -> None:
    """Spraying one guess over 30 accounts (none reaching 5 failures) slows that address for every account,
    the right password included; the owners elsewhere still log in."""
    attacker = app.test_client()
    spray = {"REMOTE_ADDR": "203.0.113.50"}
    answers = [attacker.post("/login", data={"username": f"user{i:02d}", "password": "Spring-2026!"}, environ_base=spray).status_code
               for i in range(30)]
    assert answers == [200] * 30  # each refused once, with the login page again
    assert attacker.post("/login", data={"username": "cadre_b", "password": PASSWORD}, environ_base=spray).status_code == 429
    owner = app.test_client()
    assert owner.post("/login", data={"username": "cadre_b", "password": PASSWORD},
                      environ_base={"REMOTE_ADDR": "198.51.100.8"}).status_code == 302


def test_unknown_names_cost_a_password_hash_too(app: Flask, auth: AuthActions, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.services import accounts

    checked: list[str] = []
    real = accounts.check_password_hash
    monkeypatch.setattr(accounts, "check_password_hash", lambda h, p: checked.append(h) or real(h, p))
    auth.login("nobody-here", "whatever-123")
    auth.login("cadre_a", "whatever-123")
    assert len(checked) == 2  # one hash check for the unknown name as for the known one


def test_admin_created_account_must_change_password(app: Flask, client: FlaskClient, auth: AuthActions) -> None:
    auth.login("admin")
    weak = client.post("/admin/users/new", data={"username": "newbie", "display_name": "新人", "role": "village_cadre",
                                                 "area_code": VILLAGE_A, "password": "short"})
    assert weak.status_code == 422 and "密码至少10位" in weak.get_data(as_text=True)
    made = client.post("/admin/users/new", data={"username": "newbie", "display_name": "新人", "role": "village_cadre",
                                                 "area_code": VILLAGE_A, "password": "Initial-pass-01"})
    assert made.status_code == 302
    auth.logout()
    assert auth.login("newbie", "Initial-pass-01").headers["Location"] == "/password"
    assert client.get("/village/339901100201/persons").headers["Location"] == "/password"  # nothing else first
    assert client.get("/api/me").status_code == 403
    same = client.post("/password", data={"current": "Initial-pass-01", "new": "newbie-pass-2026", "repeat": "newbie-pass-2026"})
    assert same.status_code == 422 and "不能包含用户名" in same.get_data(as_text=True)
    assert client.post("/password", data={"current": "Initial-pass-01", "new": NEW_PASSWORD, "repeat": NEW_PASSWORD}).status_code == 302
    assert client.get("/village/339901100201/persons").status_code == 200
    with get_db(app).session() as session:
        user = session.execute(select(User).where(User.username == "newbie")).scalar_one()
        assert user.must_change_password is False


def test_non_admin_cannot_reach_admin_pages(client: FlaskClient, auth: AuthActions) -> None:
    auth.login("mca")
    for path in ("/admin/users", "/admin/users/new", "/admin/grants", "/admin/tokens", "/admin/audit"):
        assert client.get(path).status_code == 403, path


def test_security_headers(client: FlaskClient, auth: AuthActions) -> None:
    login_page = client.get("/login")
    csp = login_page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert login_page.headers["X-Frame-Options"] == "DENY"
    assert login_page.headers["X-Content-Type-Options"] == "nosniff"
    assert login_page.headers["Referrer-Policy"] == "same-origin"
    auth.login("cadre_a")
    assert client.get("/").headers["Cache-Control"] == "no-store"


def test_secure_cookie_when_configured(app: Flask, auth: AuthActions) -> None:
    app.config["SESSION_COOKIE_SECURE"] = True
    assert "Secure" in auth.login("cadre_a").headers["Set-Cookie"]


def test_production_refuses_demo_password(app: Flask, auth: AuthActions, make_user) -> None:
    from app.seed.users import DEMO_PASSWORD

    make_user("demo_x", "village_cadre", VILLAGE_A, password=DEMO_PASSWORD)
    app.config["YBT_ENV"] = "production"
    response = auth.login("demo_x", DEMO_PASSWORD)
    assert response.status_code == 403 and "演示密码" in response.get_data(as_text=True)


def test_production_refuses_short_secret_key(db_url: str) -> None:
    from app import create_app
    from app.config import ConfigError

    with pytest.raises(ConfigError, match="shorter than 32"):
        create_app({"DATABASE_URL": db_url, "SECRET_KEY": "x" * 20, "YBT_ENV": "production"})


def test_templates_have_no_inline_scripts_or_handlers() -> None:
    """The Content-Security-Policy forbids inline scripts: every script is a file under app/static/js/."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "app" / "templates"
    offenders = []
    for path in root.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        if re.search(r"<script(?![^>]*\b(src=|type=\"application/json\"))[^>]*>", text) or re.search(r"\son[a-z]+\s*=", text):
            offenders.append(str(path.relative_to(root)))
    assert offenders == []


def test_next_with_cr_lf_is_ignored(auth: AuthActions) -> None:
    assert auth.login(next="/village/\r\nSet-Cookie: x=1").headers["Location"] == "/"


def test_utf16_flowback_list_without_bom_is_refused_in_chinese(client: FlaskClient, auth: AuthActions) -> None:
    import io

    auth.login("township")
    data = "姓名,身份证号\n王八,339901198001010011\n".encode("utf-16-le")
    response = client.post("/imports/flowback", data={"kind": "deaths", "file": (io.BytesIO(data), "名单.csv")},
                           content_type="multipart/form-data")
    assert 400 <= response.status_code < 500, response.status_code
    assert "编码" in response.get_data(as_text=True)  # a Chinese message naming the encoding

"""Logging in and out, the login-required redirect, session cookie flags, CSRF and throttling."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from view_helpers import PASSWORD, USERS, AuthActions

pytestmark = pytest.mark.usefixtures("users")


def test_login_page(client: FlaskClient) -> None:
    response = client.get("/login")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<html lang="zh-CN">' in html
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert 'name="csrf_token"' in html and "一表通" in html


@pytest.mark.parametrize("username", list(USERS))
def test_login_each_role_lands_on_home(client: FlaskClient, auth: AuthActions, username: str) -> None:
    response = auth.login(username)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200
    assert f"{username}的姓名" in home.get_data(as_text=True)  # header shows who is logged in


@pytest.mark.parametrize(("username", "password"), [("cadre_a", "wrong-password"), ("nobody", PASSWORD)])
def test_failed_login_never_says_which_part_was_wrong(client: FlaskClient, auth: AuthActions, username: str,
                                                      password: str) -> None:
    response = auth.login(username, password)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "用户名或密码错误" in html
    assert "不存在" not in html
    assert client.get("/").status_code == 302  # still logged out


def test_inactive_user_cannot_log_in(app: Flask, auth: AuthActions, users: dict[str, int]) -> None:
    from app.db import get_db
    from app.models import User

    with get_db(app).transaction() as session:
        user = session.get(User, users["cadre_a"])
        user.active = False
    assert "用户名或密码错误" in auth.login("cadre_a").get_data(as_text=True)


def test_pages_require_login(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/"


def test_login_follows_local_next_only(auth: AuthActions) -> None:
    assert auth.login(next="/api/me").headers["Location"] == "/api/me"


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil.example"])
def test_login_ignores_foreign_next(client: FlaskClient, auth: AuthActions, target: str) -> None:
    assert auth.login(next=target).headers["Location"] == "/"


def test_logout(client: FlaskClient, auth: AuthActions) -> None:
    auth.login()
    assert client.get("/").status_code == 200
    response = auth.logout()
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert "您已退出登录" in client.get("/login").get_data(as_text=True)
    assert client.get("/").status_code == 302
    assert client.get("/logout").status_code == 405  # logging out changes state: POST only


def test_session_cookie_is_httponly_and_samesite_lax(auth: AuthActions) -> None:
    cookie = auth.login().headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_post_without_csrf_token_is_refused(app: Flask, client: FlaskClient) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post("/login", data={"username": "cadre_a", "password": PASSWORD})
    assert response.status_code == 400
    assert "页面已过期" in response.get_data(as_text=True)

    json_response = client.post("/login", data={"username": "cadre_a", "password": PASSWORD},
                                headers={"Accept": "application/json"})
    assert json_response.status_code == 400
    assert json_response.get_json()["error"]["issues"][0]["code"] == "csrf-failed"

    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    wrong = client.post("/login", data={"username": "cadre_a", "password": PASSWORD, "csrf_token": token + "x"})
    assert wrong.status_code == 400
    ok = client.post("/login", data={"username": "cadre_a", "password": PASSWORD, "csrf_token": token})
    assert ok.status_code == 302


def test_repeated_failures_lock_the_username_for_a_while(auth: AuthActions) -> None:
    for _ in range(5):
        assert auth.login("cadre_a", "wrong-password").status_code == 200
    locked = auth.login("cadre_a")
    assert locked.status_code == 429
    assert "登录失败次数过多" in locked.get_data(as_text=True)
    assert auth.login("cadre_b").status_code == 302  # other users are not affected

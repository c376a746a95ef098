"""我的会话: a user sees their active sessions (made, last used, address, browser) and ends any of them;
the browser whose session was ended is logged out at its next request; nobody ends another's session."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from view_helpers import PASSWORD, AuthActions

from app.db import get_db
from app.models import User, UserSession

pytestmark = pytest.mark.usefixtures("users")
PHONE_UA = "Mozilla/5.0 (Linux; Android 14) 手机浏览器"
DESK_UA = "Mozilla/5.0 (Windows NT 10.0) Desktop"


def _login(app: Flask, username: str, agent: str, address: str) -> FlaskClient:
    browser = app.test_client()
    response = browser.post("/login", data={"username": username, "password": PASSWORD},
                            headers={"User-Agent": agent}, environ_base={"REMOTE_ADDR": address})
    assert response.status_code == 302
    return browser


def _session_ids(app: Flask, username: str) -> dict[str, int]:
    """user agent → id of the user's sessions not ended."""
    with get_db(app).session() as session:
        user = session.execute(select(User).where(User.username == username)).scalar_one()
        rows = session.execute(select(UserSession).where(UserSession.user_id == user.id, UserSession.ended_at.is_(None)))
        return {r.user_agent: r.id for r in rows.scalars()}


def test_user_sees_and_ends_a_session_elsewhere(app: Flask) -> None:
    desk = _login(app, "cadre_a", DESK_UA, "10.0.0.1")
    phone = _login(app, "cadre_a", PHONE_UA, "10.0.0.2")
    _login(app, "cadre_b", DESK_UA, "10.0.0.3")  # someone else's: never listed
    html = desk.get("/sessions").get_data(as_text=True)
    assert html.count('<tr id="session-') == 2
    assert PHONE_UA in html and "10.0.0.2" in html and "10.0.0.1" in html and "10.0.0.3" not in html
    assert html.count("当前会话") == 1 and "退出本会话" in html
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d", html)  # times shown in local time, never raw ISO

    ids = _session_ids(app, "cadre_a")
    ended = desk.post(f"/sessions/{ids[PHONE_UA]}/end")
    assert ended.status_code == 302 and "结束来自 10.0.0.2" in desk.get("/sessions").get_data(as_text=True)
    refused = phone.get("/village/")
    assert refused.status_code == 302 and refused.headers["Location"].startswith("/login")  # logged out at once
    assert desk.get("/village/").status_code in (200, 302) and desk.get("/sessions").status_code == 200
    assert set(_session_ids(app, "cadre_a")) == {DESK_UA}


def test_nobody_ends_anothers_session_and_ending_ones_own_logs_out(app: Flask, client: FlaskClient,
                                                                  auth: AuthActions) -> None:
    _login(app, "cadre_b", PHONE_UA, "10.0.0.9")
    victim = _session_ids(app, "cadre_b")[PHONE_UA]
    desk = _login(app, "cadre_a", DESK_UA, "10.0.0.1")
    assert desk.post(f"/sessions/{victim}/end").status_code == 404
    assert desk.post("/sessions/99999999999999999999/end").status_code == 404
    assert _session_ids(app, "cadre_b") == {PHONE_UA: victim}
    mine = _session_ids(app, "cadre_a")[DESK_UA]
    response = desk.post(f"/sessions/{mine}/end")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert desk.get("/sessions").status_code == 302  # the page itself now asks for a login
    assert desk.post(f"/sessions/{mine}/end").status_code == 302  # logged out: to the login page, nothing changed


def test_browsers_are_named_as_people_know_them() -> None:
    from app.views.auth import browser_summary

    chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/150.0.0.0 Safari/537.36"
    wechat = ("Mozilla/5.0 (Linux; Android 13; V2148A) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/116.0 Mobile "
              "Safari/537.36 MicroMessenger/8.0.47")
    edge = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36 Edg/120.0.2210.91"
    iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 Version/17.1 Mobile/15E148 Safari/604.1"
    assert browser_summary(chrome) == "Chrome 150 · Linux"
    assert browser_summary(wechat) == "微信 · Android"
    assert browser_summary(edge) == "Edge 120 · Windows"
    assert browser_summary(iphone) == "Safari · iPhone"
    assert browser_summary(DESK_UA) == "其他浏览器 · Windows" and browser_summary(None) == "—"

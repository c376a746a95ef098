"""Error pages in Chinese and the one JSON error shape."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from view_helpers import VILLAGE_A, VILLAGE_B, AuthActions


def assert_error_shape(body: dict[str, Any], status: int, code: str) -> None:
    assert set(body) == {"error"}
    assert body["error"]["status"] == status
    issues = body["error"]["issues"]
    assert [i["code"] for i in issues] == [code]
    assert set(issues[0]) >= {"code", "message", "location", "severity", "hint", "where"}


def test_api_me_requires_login(client: FlaskClient) -> None:
    response = client.get("/api/me")
    assert response.status_code == 401
    assert response.is_json
    assert_error_shape(response.get_json(), 401, "not-logged-in")
    assert response.get_json()["error"]["issues"][0]["message"] == "请先登录"


@pytest.mark.usefixtures("users")
def test_api_me(client: FlaskClient, auth: AuthActions) -> None:
    auth.login("mca")
    body = client.get("/api/me").get_json()
    assert body["username"] == "mca"
    assert body["role"] == "department" and body["role_label"] == "部门用户"
    assert body["area"]["code"] == "339901000000" and body["area"]["name"] == "云溪县"
    assert body["department"] == "mca" and body["department_label"] == "民政"


@pytest.mark.usefixtures("base_data")
def test_permission_denied_as_json(client: FlaskClient, auth: AuthActions) -> None:
    auth.login("cadre_a")
    assert client.get(f"/api/areas/{VILLAGE_A}/summary").status_code == 200
    response = client.get(f"/api/areas/{VILLAGE_B}/summary")
    assert response.status_code == 403
    assert_error_shape(response.get_json(), 403, "out-of-scope")
    assert "绿水村" not in response.get_data(as_text=True)
    issue = response.get_json()["error"]["issues"][0]
    assert VILLAGE_B not in issue["message"] + issue["where"]  # not the other village's code, twice
    assert "青山村" in issue["hint"] and VILLAGE_A in issue["hint"]  # what the user may see instead


def test_permission_denied_as_html(app: Flask, client: FlaskClient, auth: AuthActions, users: dict[str, int]) -> None:
    from app.db import get_db
    from app.models import User

    auth.login("cadre_a")
    with get_db(app).transaction() as session:  # a role that has no landing page
        session.get(User, users["cadre_a"]).role = "visitor"
    response = client.get("/")
    html = response.get_data(as_text=True)
    assert response.status_code == 403
    assert "无权访问" in html and "没有对应的首页" in html
    assert client.get("/", headers={"Accept": "application/json"}).get_json()["error"]["status"] == 403


def test_not_found_page_and_json(client: FlaskClient) -> None:
    page = client.get("/no-such-page")
    assert page.status_code == 404
    assert "页面不存在" in page.get_data(as_text=True)
    assert_error_shape(client.get("/api/no-such-thing").get_json(), 404, "not-found")
    assert_error_shape(client.get("/no-such-page", headers={"Accept": "application/json"}).get_json(), 404, "not-found")


def test_method_not_allowed_keeps_allow_header(client: FlaskClient) -> None:
    response = client.get("/logout")
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]
    assert "不支持该请求方式" in response.get_data(as_text=True)


def test_unexpected_error_gives_chinese_500_page(app: Flask, client: FlaskClient) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("boom")

    response = client.get("/boom")
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    assert "系统内部错误" in html and "boom" not in html
    assert_error_shape(client.get("/boom", headers={"Accept": "application/json"}).get_json(), 500, "internal-error")

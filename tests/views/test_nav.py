"""The role-aware navigation bar: every page shows each role the entries it may open, and they open."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from view_helpers import AuthActions

from app.views.nav import NAV

BAR = re.compile(r'<nav class="nav-bar"[^>]*>(.*?)</nav>', re.S)
COMPACT = re.compile(r'<details class="nav-compact">.*?<nav[^>]*>(.*?)</nav>', re.S)
LINK = re.compile(r'<a href="([^"]+)"[^>]*>([^<]+)</a>')

EXPECTED = {
    "cadre_a": ["首页", "户与人员", "房屋", "单位", "Excel 一表", "台账导入", "数据回流", "待补充", "采集任务", "部门报表", "校验规则",
                "完整性", "我的会话"],
    "township": ["首页", "户与人员", "台账导入", "数据回流", "待补充", "采集任务", "部门报表", "校验规则", "完整性", "我的会话"],
    "mca": ["首页", "采集任务", "部门报表", "校验规则", "完整性", "报表设计器", "指标字典", "报表目录", "数据接口", "我的会话"],
    "admin": ["首页", "户与人员", "台账导入", "数据回流", "待补充", "采集任务", "部门报表", "校验规则", "完整性", "减负监测", "报表定义",
              "报表设计器", "指标字典", "报表目录", "下载记录", "标签与台账项", "字典与账号", "账号管理", "部门授权", "访问审计", "接口令牌", "数据接口", "我的会话"],
}


def links(html: str, pattern: re.Pattern = BAR) -> list[tuple[str, str]]:
    match = pattern.search(html)
    assert match, "no navigation on the page"
    return LINK.findall(match.group(1))


@pytest.mark.parametrize("username", sorted(EXPECTED))
def test_each_role_sees_its_entries_and_every_entry_opens(client: FlaskClient, auth: AuthActions,
                                                          base_data: dict[str, int], username: str) -> None:
    assert auth.login(username).status_code == 302
    html = client.get("/").get_data(as_text=True)
    bar = links(html)
    assert [label for _href, label in bar] == EXPECTED[username]
    assert links(html, COMPACT) == bar  # the phone menu has the same entries
    for href, label in bar:
        response = client.get(href, follow_redirects=True)
        assert response.status_code == 200, (label, href, response.status_code)
        assert re.search(r'<nav class="nav-bar"', response.get_data(as_text=True)), f"{href} has no navigation bar"


GROUPS = {
    "cadre_a": ["导入与回流", "数据质量"],
    "mca": ["数据质量", "报表管理"],  # its one 系统管理 entry (数据接口) stays a plain link
    "admin": ["导入与回流", "数据质量", "报表管理", "系统管理"],
}
SUMMARY = re.compile(r'<details class="nav-group"><summary[^>]*>([^<]+)</summary>')


@pytest.mark.parametrize("username", sorted(GROUPS))
def test_groups_fold_into_drop_downs(client: FlaskClient, auth: AuthActions, base_data: dict[str, int], username: str) -> None:
    """On wide screens two or more entries of one group fold into a drop-down, so the bar stays one line."""
    auth.login(username)
    bar = BAR.search(client.get("/").get_data(as_text=True)).group(1)
    assert SUMMARY.findall(bar) == GROUPS[username]


def test_current_section_is_marked(client: FlaskClient, auth: AuthActions, base_data: dict[str, int]) -> None:
    auth.login("admin")
    html = client.get("/tasks/").get_data(as_text=True)
    assert re.findall(r'<a href="([^"]+)" aria-current="page">', BAR.search(html).group(1)) == ["/tasks/"]


def test_login_page_has_no_navigation(client: FlaskClient) -> None:
    assert "nav-bar" not in client.get("/login").get_data(as_text=True)


def test_every_entry_names_a_real_endpoint(app) -> None:
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert {e.endpoint for e in NAV} <= endpoints


def test_favicon(client: FlaskClient) -> None:
    response = client.get("/favicon.ico")  # what browsers ask for, whatever the page says
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert response.data.startswith(b"<svg")
    assert 'rel="icon" href="/favicon.ico"' in client.get("/login").get_data(as_text=True)


def test_current_group_is_marked(client: FlaskClient, auth: AuthActions, base_data: dict[str, int]) -> None:
    auth.login("admin")
    bar = BAR.search(client.get("/reports/manage").get_data(as_text=True)).group(1)
    assert re.findall(r'<summary class="is-current">([^<]+)</summary>', bar) == ["报表管理"]

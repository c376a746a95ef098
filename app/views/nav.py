"""The navigation bar: one explicit list of entries, each with its endpoint, Chinese label and roles.

Every stream adds its pages here (one line each). An entry with ``area=True`` links to the user's own
area (``code=`` the user's area code). base.html shows the entries as a bar on wide screens and as a
compact 菜单 (a ``<details>`` element: no script) on a phone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import Flask, g, request, url_for

from app import clock

ALL = ("village_cadre", "township_staff", "department", "admin")
WRITERS = ("village_cadre", "township_staff", "admin")


@dataclass(frozen=True)
class NavEntry:
    endpoint: str
    label: str
    roles: tuple[str, ...]
    area: bool = False  # the URL needs the user's own area code


NAV: tuple[NavEntry, ...] = (
    NavEntry("home.index", "首页", ALL),
    NavEntry("village.index", "户与人员", WRITERS),
    NavEntry("village.house_list", "房屋", ("village_cadre",), area=True),
    NavEntry("village.organisation_list", "单位", ("village_cadre",), area=True),
    NavEntry("workbook.index", "Excel 一表", ("village_cadre",), area=True),
    NavEntry("imports.index", "台账导入", WRITERS),
    NavEntry("imports.flowback_page", "数据回流", WRITERS),
    NavEntry("imports.todo", "待补充", WRITERS),
    NavEntry("tasks.index", "采集任务", ALL),
    NavEntry("reports.index", "部门报表", ALL),
    NavEntry("quality.rules_page", "校验规则", ALL),
    NavEntry("quality.completeness_page", "完整性", ALL),
    NavEntry("reports.manage", "报表定义", ("admin",)),
    NavEntry("designer.index", "报表设计器", ("department", "admin")),
    NavEntry("indicators.index", "指标字典", ("department", "admin")),
    NavEntry("reports.download_log", "下载记录", ("admin",)),
    NavEntry("catalogue.catalogue", "报表目录", ("department", "admin")),
    NavEntry("catalogue.burden", "减负监测", ("admin",)),
    NavEntry("home.reference", "字典与账号", ("admin",)),
    NavEntry("admin.users", "账号管理", ("admin",)),
    NavEntry("admin.grants", "部门授权", ("admin",)),
    NavEntry("admin.audit_log", "访问审计", ("admin",)),
    NavEntry("admin.tokens", "接口令牌", ("admin",)),
    NavEntry("api.docs", "数据接口", ("department", "admin")),
)


@dataclass(frozen=True)
class NavLink:
    label: str
    href: str
    current: bool


def _is_current(entry: NavEntry, endpoint: str) -> bool:
    if entry.endpoint == endpoint:
        return True
    if entry.endpoint in ("home.index", "home.reference", "imports.flowback_page", "catalogue.burden",
                          "quality.completeness_page", "admin.audit_log"):
        return False
    blueprint = entry.endpoint.split(".")[0]
    siblings = [e for e in NAV if e.endpoint.split(".")[0] == blueprint and e.endpoint == endpoint]
    return not siblings and endpoint.split(".")[0] == blueprint and entry.endpoint.endswith(".index")


def nav_links() -> list[NavLink]:
    """The entries the logged-in user may open, in order; the current section marked."""
    user = g.get("user")
    if user is None:
        return []
    endpoint = request.endpoint or ""
    links = []
    for entry in NAV:
        if user.role not in entry.roles:
            continue
        href = url_for(entry.endpoint, code=user.area_code) if entry.area else url_for(entry.endpoint)
        links.append(NavLink(entry.label, href, _is_current(entry, endpoint)))
    return links


def localtime(moment: datetime | str | None) -> str:
    """Jinja filter: a stored timestamp (UTC, a datetime or an ISO string) as local, readable time."""
    if isinstance(moment, str):
        try:
            moment = datetime.fromisoformat(moment)
        except ValueError:
            return moment
    return clock.display(moment)


def init_app(app: Flask) -> None:
    app.context_processor(lambda: {"nav_links": nav_links})
    app.add_template_filter(localtime, "localtime")
    from app.views.forms import display

    app.add_template_filter(display, "plain")  # 5, not 5.0; dates as YYYY-MM-DD

"""The navigation bar: one explicit list of entries, each with its endpoint, Chinese label and roles.

Every page of the app adds one line here. An entry with ``area=True`` links to the user's own area
(``code=`` the user's area code). Entries with the same ``group`` stand next to each other and, on wide
screens, fold into one drop-down (a ``<details>`` element) when the user sees two or more of them, so an
admin's 20-odd pages fit one line; on a phone base.html lists every entry in the compact 菜单.
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
    group: str = ""  # the drop-down this entry folds into on wide screens


IMPORT = "导入与回流"
QUALITY = "数据质量"
CATALOGUE = "报表管理"
SYSTEM = "系统管理"

NAV: tuple[NavEntry, ...] = (
    NavEntry("home.index", "首页", ALL),
    NavEntry("village.index", "户与人员", WRITERS),
    NavEntry("village.house_list", "房屋", ("village_cadre",), area=True),
    NavEntry("village.organisation_list", "单位", ("village_cadre",), area=True),
    NavEntry("workbook.index", "Excel 一表", ("village_cadre",), area=True),
    NavEntry("imports.index", "台账导入", WRITERS, group=IMPORT),
    NavEntry("imports.flowback_page", "数据回流", WRITERS, group=IMPORT),
    NavEntry("imports.todo", "待补充", WRITERS, group=IMPORT),
    NavEntry("tasks.index", "采集任务", ALL),
    NavEntry("reports.index", "部门报表", ALL),
    NavEntry("quality.rules_page", "校验规则", ALL, group=QUALITY),
    NavEntry("quality.completeness_page", "完整性", ALL, group=QUALITY),
    NavEntry("catalogue.burden", "减负监测", ("admin",), group=QUALITY),
    NavEntry("reports.manage", "报表定义", ("admin",), group=CATALOGUE),
    NavEntry("designer.index", "报表设计器", ("department", "admin"), group=CATALOGUE),
    NavEntry("indicators.index", "指标字典", ("department", "admin"), group=CATALOGUE),
    NavEntry("catalogue.catalogue", "报表目录", ("department", "admin"), group=CATALOGUE),
    NavEntry("reports.download_log", "下载记录", ("admin",), group=CATALOGUE),
    NavEntry("extensions.index", "标签与台账项", ("admin",), group=SYSTEM),
    NavEntry("home.reference", "字典与账号", ("admin",), group=SYSTEM),
    NavEntry("admin.users", "账号管理", ("admin",), group=SYSTEM),
    NavEntry("admin.grants", "部门授权", ("admin",), group=SYSTEM),
    NavEntry("admin.audit_log", "访问审计", ("admin",), group=SYSTEM),
    NavEntry("admin.tokens", "接口令牌", ("admin",), group=SYSTEM),
    NavEntry("api.docs", "数据接口", ("department", "admin"), group=SYSTEM),
    NavEntry("auth.sessions", "我的会话", ALL),
)


@dataclass(frozen=True)
class NavLink:
    label: str
    href: str
    current: bool
    group: str = ""


@dataclass(frozen=True)
class NavGroup:
    """A drop-down of two or more links; ``current`` when one of them is the page shown."""

    label: str
    links: tuple[NavLink, ...]

    @property
    def current(self) -> bool:
        return any(link.current for link in self.links)


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
        links.append(NavLink(entry.label, href, _is_current(entry, endpoint), entry.group))
    return links


def nav_items(links: list[NavLink]) -> list[NavLink | NavGroup]:
    """The bar's items: consecutive links of one group fold into a NavGroup; a lone one stays a link."""
    items: list[NavLink | NavGroup] = []
    run: list[NavLink] = []

    def flush() -> None:
        if len(run) > 1:
            items.append(NavGroup(run[0].group, tuple(run)))
        else:
            items.extend(run)
        run.clear()

    for link in links:
        if run and link.group != run[0].group:
            flush()
        if link.group:
            run.append(link)
        else:
            flush()
            items.append(link)
    flush()
    return items


def localtime(moment: datetime | str | None) -> str:
    """Jinja filter: a stored timestamp (UTC, a datetime or an ISO string) as local, readable time."""
    if isinstance(moment, str):
        try:
            moment = datetime.fromisoformat(moment)
        except ValueError:
            return moment
    return clock.display(moment)


def init_app(app: Flask) -> None:
    app.context_processor(lambda: {"nav_links": nav_links, "nav_items": nav_items})
    app.add_template_filter(localtime, "localtime")
    from app.views.forms import display

    app.add_template_filter(display, "plain")  # 5, not 5.0; dates as YYYY-MM-DD

"""Who may read and change what: every service call passes the acting user through here.

A user is scoped to an area (everything whose code starts with that area's prefix): a village cadre
to a village or a grid, township staff to a township, a department user to a county or township
(and to its department's tags), an admin to everything.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, true

from app.issues import Issue, PermissionDenied
from app.models import User
from app.models.area import LEVEL_PREFIX, level_of

# Roles that keep base data (persons, households, houses, organisations, observations).
BASE_DATA_WRITERS = {"village_cadre", "township_staff", "admin"}


@dataclass(frozen=True)
class Scope:
    role: str
    prefix: str
    department: str | None

    def covers(self, area_code: str | None) -> bool:
        return area_code is not None and area_code.startswith(self.prefix)

    def clause(self, column: ColumnElement) -> ColumnElement:
        """A SQL condition limiting ``column`` (an area code column) to this scope."""
        return true() if not self.prefix else column.startswith(self.prefix)


def scope_of(user: User) -> Scope:
    if user.role == "admin":
        return Scope("admin", "", user.department)
    return Scope(user.role, user.area_code[: LEVEL_PREFIX[level_of(user.area_code)]], user.department)


def require_active(user: User | None) -> User:
    if user is None or not user.active:
        raise PermissionDenied(Issue("not-logged-in", "请先登录"))
    return user


def require_read(user: User, area_code: str | None) -> None:
    """Refuse reading a record that lies outside the user's area."""
    require_active(user)
    if not scope_of(user).covers(area_code):
        raise PermissionDenied(
            Issue("out-of-scope", f"无权查看该记录：它属于区划 {area_code}，超出您的管辖范围", {"record": area_code})
        )


def require_write(user: User, area_code: str | None, *, tag_department: str | None = None) -> None:
    """Refuse a change outside the user's area, or by a role that does not keep this data.

    Department users keep only the tags their department owns (``tag_department``).
    """
    require_read(user, area_code)
    if user.role in BASE_DATA_WRITERS:
        return
    if user.role == "department" and tag_department is not None and tag_department == user.department:
        return
    raise PermissionDenied(Issue("read-only-role", "您的角色只能查看，不能修改该数据", {"record": area_code}))


def require_admin(user: User) -> None:
    require_active(user)
    if user.role != "admin":
        raise PermissionDenied(Issue("admin-only", "只有系统管理员可以执行此操作"))

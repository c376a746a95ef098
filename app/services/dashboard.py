"""What each role sees on its landing page: counts aggregated in SQL, limited to the actor's scope.

Every function takes the session and the acting user and returns plain dataclasses (never live ORM
objects), so templates and the JSON API render the same values.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlmodel import Session

from app.clock import today
from app.issues import Issue, NotFound
from app.models import Area, CodeItem, CodeList, Household, Person, Tag, TagType, User
from app.models.area import scope_prefix
from app.models.user import ROLES
from app.services.codelists import labels
from app.services.persons import ALIVE
from app.services.scope import require_active, require_admin, require_read, scope_of

ACTIVE_HOUSEHOLD = "1"  # code list record_status: 1 正常, 2 注销
DIBAO = "dibao"  # tag type of 低保 households
VILLAGE_LEVEL = 5
SUBJECT_LABELS = {"person": "人", "household": "户"}

# Population groups over the residence_type code list: 1 户籍在本地常住, 2 人户分离（户籍在本地、外出）,
# 3 常住外来人口, 4 流动人口. A person counts in each group their code belongs to.
RESIDENCE_GROUPS: tuple[tuple[str, str, frozenset[str]], ...] = (
    ("registered", "户籍人口", frozenset({"1", "2"})),
    ("resident", "常住人口", frozenset({"1", "3"})),
)

# A condition on an area-code column: the actor's scope, or one area and everything below it.
Within = Callable[[ColumnElement], ColumnElement]


@dataclass(frozen=True)
class AreaInfo:
    code: str
    name: str
    level: int
    level_label: str
    path: str  # names from the township down, e.g. "青山镇 › 青山村 › 第1网格"


@dataclass(frozen=True)
class Me:
    """The logged-in user as shown in the page header and by ``/api/me``."""

    username: str
    display_name: str
    role: str
    role_label: str
    area: AreaInfo
    department: str | None
    department_label: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Count:
    key: str
    label: str
    value: int


@dataclass(frozen=True)
class TagCount:
    code: str
    name: str
    subject_label: str
    department_label: str
    count: int


@dataclass(frozen=True)
class AreaCounts:
    households: int
    living_persons: int
    residence_groups: list[Count]  # 户籍人口, 常住人口
    residence_types: list[Count]  # one row per residence_type code
    dibao_households: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class VillageDashboard:
    area: AreaInfo
    counts: AreaCounts
    tags: list[TagCount]


@dataclass(frozen=True)
class VillageRow:
    code: str
    name: str
    households: int
    living_persons: int
    dibao_households: int


@dataclass(frozen=True)
class TownshipDashboard:
    area: AreaInfo
    villages: list[VillageRow]
    total: VillageRow


@dataclass(frozen=True)
class DepartmentDashboard:
    area: AreaInfo
    department: str | None
    department_label: str
    tags: list[TagCount]


@dataclass(frozen=True)
class CodeListRow:
    name: str
    title: str
    standard: str
    items: int


@dataclass(frozen=True)
class TagTypeRow:
    code: str
    name: str
    subject_label: str
    department_label: str
    attributes: str


@dataclass(frozen=True)
class AdminDashboard:
    areas_by_level: list[Count]
    users_by_role: list[Count]
    code_lists: list[CodeListRow]
    tag_types: list[TagTypeRow]


# -- identity --------------------------------------------------------------------------------------


def area_info(session: Session, code: str) -> AreaInfo:
    area = session.get(Area, code)
    if area is None:
        raise NotFound(Issue("unknown-area", f"区划 {code} 不存在", {"record": code}))
    names = [area.name]
    parent = area
    while parent.parent_code and parent.level > 4:
        parent = session.get(Area, parent.parent_code)
        if parent is None:
            break
        names.append(parent.name)
    level_label = labels(session, "area_level").get(str(area.level), str(area.level))
    return AreaInfo(area.code, area.name, area.level, level_label, " › ".join(reversed(names)))


def whoami(session: Session, actor: User) -> Me:
    require_active(actor)
    department_label = labels(session, "department").get(actor.department) if actor.department else None
    return Me(actor.username, actor.display_name, actor.role, ROLES.get(actor.role, actor.role),
              area_info(session, actor.area_code), actor.department, department_label)


# -- counts ----------------------------------------------------------------------------------------


def _on(model: type[Tag], day: date) -> ColumnElement:
    return and_(model.valid_from <= day, or_(model.valid_to.is_(None), model.valid_to > day))


def _scalar(session: Session, query: Select) -> int:
    return int(session.execute(query).scalar_one() or 0)


def area_counts(session: Session, within: Within) -> AreaCounts:
    """Households, living persons by residence type and 低保 households in the areas ``within`` selects."""
    households = _scalar(session, select(func.count(Household.id)).where(
        within(Household.area_code), Household.status == ACTIVE_HOUSEHOLD))
    by_type = dict(session.execute(
        select(Person.residence_type, func.count(Person.id))
        .where(within(Person.area_code), Person.living_status == ALIVE)
        .group_by(Person.residence_type)
    ).all())
    dibao = _scalar(session, select(func.count(Tag.household_id.distinct()))
                    .join(Household, Tag.household_id == Household.id)
                    .where(Tag.tag_code == DIBAO, _on(Tag, today()), within(Household.area_code),
                           Household.status == ACTIVE_HOUSEHOLD))
    type_labels = labels(session, "residence_type")
    types = [Count(code, label, by_type.get(code, 0)) for code, label in type_labels.items()]
    types += [Count(code, code, n) for code, n in by_type.items() if code not in type_labels]
    groups = [Count(key, label, sum(n for code, n in by_type.items() if code in codes)) for key, label, codes in RESIDENCE_GROUPS]
    return AreaCounts(households, sum(by_type.values()), groups, types, dibao)


def tag_counts(session: Session, within: Within, department: str | None = None) -> list[TagCount]:
    """Current tags per tag type (all types, zeros included), of living persons and active households."""
    subject_area = func.coalesce(Person.area_code, Household.area_code)
    counted = dict(session.execute(
        select(Tag.tag_code, func.count(Tag.id))
        .outerjoin(Person, and_(Tag.person_id == Person.id, Person.living_status == ALIVE))
        .outerjoin(Household, and_(Tag.household_id == Household.id, Household.status == ACTIVE_HOUSEHOLD))
        .where(_on(Tag, today()), subject_area.is_not(None), within(subject_area))
        .group_by(Tag.tag_code)
    ).all())
    query = select(TagType).order_by(TagType.sort_order, TagType.code)
    if department is not None:
        query = query.where(TagType.department == department)
    departments = labels(session, "department")
    return [
        TagCount(t.code, t.name, SUBJECT_LABELS.get(t.subject, t.subject), departments.get(t.department, t.department),
                 counted.get(t.code, 0))
        for t in session.execute(query).scalars()
    ]


def _by_village(session: Session, query: Select, code: ColumnElement) -> dict[str, int]:
    """Run a one-column count query per village (the first 12 digits, so grids roll up into their village)."""
    village = func.substr(code, 1, 12)
    return {v: int(n) for n, v in session.execute(query.add_columns(village).group_by(village))}


# -- landing pages ---------------------------------------------------------------------------------


def village_dashboard(session: Session, actor: User) -> VillageDashboard:
    """A village (or grid) cadre's area: households, population and current tags."""
    require_active(actor)
    within = scope_of(actor).clause
    return VillageDashboard(area_info(session, actor.area_code), area_counts(session, within), tag_counts(session, within))


def township_dashboard(session: Session, actor: User) -> TownshipDashboard:
    """One row per current village in the actor's scope, with a total row."""
    require_active(actor)
    within = scope_of(actor).clause
    day = today()
    villages = session.execute(
        select(Area.code, Area.name)
        .where(within(Area.code), Area.level == VILLAGE_LEVEL, Area.valid_from <= day,
               or_(Area.valid_to.is_(None), Area.valid_to > day))
        .order_by(Area.code)
    ).all()
    households = _by_village(session, select(func.count(Household.id)).where(
        within(Household.area_code), Household.status == ACTIVE_HOUSEHOLD), Household.area_code)
    persons = _by_village(session, select(func.count(Person.id)).where(
        within(Person.area_code), Person.living_status == ALIVE), Person.area_code)
    dibao = _by_village(session, select(func.count(Tag.household_id.distinct()))
                        .join(Household, Tag.household_id == Household.id)
                        .where(Tag.tag_code == DIBAO, _on(Tag, day), within(Household.area_code),
                               Household.status == ACTIVE_HOUSEHOLD), Household.area_code)
    rows = [VillageRow(code, name, households.get(code[:12], 0), persons.get(code[:12], 0), dibao.get(code[:12], 0))
            for code, name in villages]
    total = VillageRow("", "合计", sum(r.households for r in rows), sum(r.living_persons for r in rows),
                       sum(r.dibao_households for r in rows))
    return TownshipDashboard(area_info(session, actor.area_code), rows, total)


def department_dashboard(session: Session, actor: User) -> DepartmentDashboard:
    """The department's own tag types with current counts in the actor's area."""
    require_active(actor)
    label = labels(session, "department").get(actor.department or "", "未指定部门")
    tags = tag_counts(session, scope_of(actor).clause, department=actor.department) if actor.department else []
    return DepartmentDashboard(area_info(session, actor.area_code), actor.department, label, tags)


def admin_dashboard(session: Session, actor: User) -> AdminDashboard:
    """Read-only overview of the dictionaries an admin keeps."""
    require_admin(actor)
    day = today()
    level_labels = labels(session, "area_level")
    per_level = dict(session.execute(
        select(Area.level, func.count(Area.code))
        .where(or_(Area.valid_to.is_(None), Area.valid_to > day))
        .group_by(Area.level)
    ).all())
    areas = [Count(str(level), level_labels.get(str(level), str(level)), n) for level, n in sorted(per_level.items())]
    per_role = dict(session.execute(
        select(User.role, func.count(User.id)).where(User.active.is_(True)).group_by(User.role)
    ).all())
    users = [Count(role, label, per_role.get(role, 0)) for role, label in ROLES.items()]
    code_lists = [
        CodeListRow(name, title, standard, items)
        for name, title, standard, items in session.execute(
            select(CodeList.name, CodeList.title, CodeList.standard, func.count(CodeItem.code))
            .outerjoin(CodeItem, CodeItem.list_name == CodeList.name)
            .group_by(CodeList.name, CodeList.title, CodeList.standard)
            .order_by(CodeList.name)
        )
    ]
    departments = labels(session, "department")
    tag_types = [
        TagTypeRow(t.code, t.name, SUBJECT_LABELS.get(t.subject, t.subject), departments.get(t.department, t.department),
                   "、".join(a.get("label", a.get("name", "")) for a in t.attributes))
        for t in session.execute(select(TagType).order_by(TagType.sort_order, TagType.code)).scalars()
    ]
    return AdminDashboard(areas, users, code_lists, tag_types)


def area_summary(session: Session, actor: User, code: str) -> tuple[AreaInfo, AreaCounts]:
    """Counts for one area (and everything below it); refused outside the actor's scope."""
    require_read(actor, code)
    info = area_info(session, code)
    prefix = scope_prefix(info.code, info.level)
    return info, area_counts(session, lambda column: column.startswith(prefix))


"""Who may read and change what: every service call passes the acting user through here.

A user is scoped to an area (everything whose code starts with that area's prefix): a village cadre
to a village or a grid, township staff to a township, a department user to a county or township
(and to its department's tags), an admin to everything.
"""

from __future__ import annotations

import json
import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    and_,
    any_,
    bindparam,
    exists,
    false,
    func,
    or_,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY

from app.clock import today
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


# -- need-to-know: what a department account may see of persons and households ----------------------

#: Personal fields masked for a department unless one of its authorisations lists them. ``id_number``
#: covers every field containing or derived from it (e.g. 残疾证号 = ID number + 2 digits).
PERSONAL_FIELDS = {"id_number": "公民身份号码", "phone": "联系电话", "address": "住址"}
#: What a department authorisation may list: the personal fields, and the attributes of other departments'
#: tags (a 低保 household's 类别 and 月保障金额 seen by 农业农村), hidden from departments without it.
GRANTABLE_FIELDS = {**PERSONAL_FIELDS, "tag_attributes": "其他部门标签的属性"}
#: Columns of other tables (reports, tag attributes) that derive from an ID number.
ID_DERIVED = frozenset({"id_number", "certificate_no", "disability_card_no", "head_id_number"})


def needs_to_know(user: User) -> bool:
    """Department accounts (and API tokens acting for one) see only what their purpose needs."""
    return user.role == "department"


def _active_grants(session: Any, department: str | None) -> list[Any]:
    from app.models import DepartmentGrant

    if not department:
        return []
    return list(session.execute(select(DepartmentGrant).where(
        DepartmentGrant.department == department, DepartmentGrant.revoked_at.is_(None))).scalars())


def sensitive_tags(session: Any) -> frozenset[str]:
    """Health and disability tags — sensitive personal information (PIPL art. 28), shown only to the
    owning department, the village/township keeping the data, and admins. Data: ``tag_type.sensitive``,
    seeded by migration 0010 and set by the admin on the tag-type page."""
    from app.models import TagType

    return frozenset(session.execute(select(TagType.code).where(TagType.sensitive)).scalars())


def _tag_departments(session: Any) -> dict[str, str]:
    from app.models import TagType

    return dict(session.execute(select(TagType.code, TagType.department)).all())


def holder_tag_codes(session: Any, user: User) -> set[str] | None:
    """Tags whose holders a department may see (its own and those granted); None: no such limit."""
    if not needs_to_know(user):
        return None
    owners = _tag_departments(session)
    codes = {code for code, dept in owners.items() if dept == user.department}
    sensitive = sensitive_tags(session)
    for grant in _active_grants(session, user.department):
        codes |= {c for c in grant.tag_codes if c in owners and c not in sensitive}
    return codes


def hidden_tags(session: Any, user: User) -> frozenset[str]:
    """The tags ``user`` may not see anyone hold: other departments' sensitive tags (one query; none for
    keepers and admins). Filter a list with it rather than calling ``tag_visible`` per tag."""
    if not needs_to_know(user):
        return frozenset()
    from app.models import TagType

    return frozenset(session.execute(select(TagType.code).where(
        TagType.sensitive, TagType.department != user.department)).scalars())


def tag_visible(session: Any, user: User, tag_code: str) -> bool:
    """May ``user`` see that someone holds ``tag_code``? Sensitive tags: owning department only."""
    return tag_code not in hidden_tags(session, user)


def unmasked_fields(session: Any, user: User) -> frozenset[str]:
    """Personal fields this user sees in full: all for keepers and admins, granted ones for departments."""
    if not needs_to_know(user):
        return frozenset(PERSONAL_FIELDS)
    granted: set[str] = set()
    for grant in _active_grants(session, user.department):
        granted |= set(grant.fields)
    return frozenset(granted & set(PERSONAL_FIELDS))


def may_see_tag_attributes(session: Any, user: User, tag_department: str | None) -> bool:
    """May ``user`` read the attributes of a tag owned by ``tag_department``? Keepers and admins: yes; a
    department: of its own tags, and of others' only with a grant listing ``tag_attributes``."""
    if not needs_to_know(user) or tag_department == user.department:
        return True
    return any("tag_attributes" in (grant.fields or []) for grant in _active_grants(session, user.department))


def id_search(session: Any, user: User, column: Any, needle: str) -> ColumnElement:
    """SQL: an ID-number search. A prefix for those who see ID numbers; for a department without the grant
    only the whole number (a prefix search would reveal a masked number digit by digit)."""
    if "id_number" in unmasked_fields(session, user):
        return column.startswith(needle)
    return column == needle if len(needle) == 18 else false()


def text_search(session: Any, user: User, field: str, column: Any, needle: str) -> ColumnElement:
    """SQL: ``contains`` on a maskable text column (address), or nothing when the user sees it masked."""
    return column.contains(needle) if field in unmasked_fields(session, user) else false()


def mask_values(session: Any, user: User, values: dict[str, Any], *, fields: frozenset[str] | None = None) -> dict[str, Any]:
    """``values`` (a record's columns) with the personal fields this user may not see masked."""
    from app.reporting.safe import mask_address, mask_id_number, mask_phone

    allowed = unmasked_fields(session, user) if fields is None else fields
    maskers = {"id_number": mask_id_number, "phone": mask_phone, "address": mask_address}
    out = dict(values)
    for name, masker in maskers.items():
        if name in out and name not in allowed and out[name]:
            out[name] = masker(out[name])
    return out


def listed_person_clause(session: Any, user: User, area: str) -> ColumnElement:
    """SQL for a list of an area's persons: need-to-know by tags, or a row of an authorised roster there."""
    from app.models import Person

    clause = person_need_to_know(session, user, Person.id, Person.household_id)
    rows = authorised_row_ids(session, user, "person", area)
    return or_(clause, id_among(session, Person.id, rows)) if rows else clause


def listed_household_clause(session: Any, user: User, area: str) -> ColumnElement:
    """SQL for a list of an area's households: need-to-know by tags, or a row of an authorised roster there."""
    from app.models import Household

    clause = household_need_to_know(session, user, Household.id)
    rows = authorised_row_ids(session, user, "household", area)
    return or_(clause, id_among(session, Household.id, rows)) if rows else clause


def id_among(session: Any, column: Any, ids: set[int] | frozenset[int]) -> ColumnElement:
    """SQL: ``column`` is one of ``ids``, sent as ONE bound parameter however many ids there are.

    ``column.in_(ids)`` binds one parameter per id: past 32,766 SQLite refuses the statement ("too many SQL
    variables"), and a statement of tens of thousands of parameters is slow to bind on both backends (an
    authorised roster of a county's 80-year-olds is that long). SQLite reads a JSON array with ``json_each``,
    PostgreSQL compares with ``= ANY`` of an array parameter."""
    values = sorted(int(i) for i in ids)
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, values, type_=ARRAY(BigInteger)))
    listed = func.json_each(bindparam(None, json.dumps(values))).table_valued("value")
    return column.in_(select(listed.c.value))


def person_need_to_know(session: Any, user: User, person_column: Any, household_column: Any) -> ColumnElement:
    """SQL: the person (by id and household id columns) holds, or lives in a household holding, a current
    tag the department may see holders of. ``true()`` for everyone else."""
    from app.models import Tag

    codes = holder_tag_codes(session, user)
    if codes is None:
        return true()
    day = today()
    current = and_(Tag.tag_code.in_(sorted(codes)), Tag.valid_from <= day, or_(Tag.valid_to.is_(None), Tag.valid_to > day))
    return or_(exists().where(current, Tag.person_id == person_column),
               exists().where(current, Tag.household_id == household_column, household_column.is_not(None)))


def household_need_to_know(session: Any, user: User, household_column: Any) -> ColumnElement:
    """SQL: the household, or one of its members, holds a current tag the department may see holders of."""
    from app.models import Person, Tag

    codes = holder_tag_codes(session, user)
    if codes is None:
        return true()
    day = today()
    current = and_(Tag.tag_code.in_(sorted(codes)), Tag.valid_from <= day, or_(Tag.valid_to.is_(None), Tag.valid_to > day))
    member_tagged = select(Person.household_id).join(Tag, Tag.person_id == Person.id).where(current)
    return or_(exists().where(current, Tag.household_id == household_column), household_column.in_(member_tagged))


def require_need_to_know(session: Any, user: User, *, person: Any = None, household: Any = None) -> None:
    """Refuse a department a person or household outside its need to know (no tag of its purpose)."""
    from app.models import Household, Person

    if not needs_to_know(user):
        return
    if person is not None:
        clause = person_need_to_know(session, user, Person.id, Person.household_id)
        ok = session.execute(select(Person.id).where(Person.id == person.id, clause)).first()
    else:
        clause = household_need_to_know(session, user, Household.id)
        ok = session.execute(select(Household.id).where(Household.id == household.id, clause)).first()
    record = person if person is not None else household
    if not ok and record.id not in authorised_row_ids(session, user, "person" if person is not None else "household",
                                                       (record.area_code or "")[:12]):
        raise PermissionDenied(Issue(
            "need-to-know", "无权查看该记录：它不在本部门的业务范围内（未持有本部门或授权的标签，也不在本部门已发布的花名册中）",
            {"record": (person or household).id},
            hint="如确因工作需要，请由系统管理员在“部门授权”中登记授权及法律依据"))


# -- projections: ``unmasked`` only within the department's authorisation --------------------------------


def department_authorisation(session: Any, department: str | None) -> tuple[frozenset[str], frozenset[str]]:
    """(personal fields, holder tags) a department is authorised for: its grants, plus its own tags."""
    fields: set[str] = set()
    codes = {code for code, dept in _tag_departments(session).items() if dept == department}
    for grant in _active_grants(session, department):
        fields |= set(grant.fields)
        codes |= set(grant.tag_codes)
    return frozenset(fields), frozenset(codes)


def projection_unmasked_issues(session: Any, spec: Any) -> list[Issue]:
    """Why a projection's ``unmasked`` list exceeds its department's authorisation (empty: it does not).

    Each listed field needs a grant of the department naming it; a roster selecting by tags must select
    by at least one tag the department owns or is granted (a 民政 roster of 退役军人 may not unmask IDs)."""
    unmasked = tuple(getattr(spec, "unmasked", ()) or ())
    if not unmasked:
        return []
    fields, codes = department_authorisation(session, spec.department)
    issues = []
    missing = [f for f in unmasked if f not in fields]
    if missing:
        names = "、".join(PERSONAL_FIELDS.get(f, f) for f in missing)
        issues.append(Issue("unmasked-not-authorised", f"报表要求完整显示{names}，但部门“{spec.department}”没有相应授权",
                            {"path": "unmasked"}, hint="请先由系统管理员在“部门授权”中登记授权及法律依据，或删去 unmasked"))
    where = getattr(spec, "where", None)
    selecting = [t.code for t in (where.tags if where is not None else ()) if not t.negate]
    if selecting and not set(selecting) & codes:
        issues.append(Issue("unmasked-foreign-subjects", f"报表按其他部门的标签（{'、'.join(selecting)}）选人，不能完整显示个人信息",
                            {"path": "unmasked"}, hint="删去 unmasked，或由系统管理员登记对这些标签的授权"))
    return issues


def effective_unmasked(session: Any, spec: Any) -> tuple[str, ...]:
    """The fields a projection may really print in full: none when its ``unmasked`` exceeds the grant."""
    return () if projection_unmasked_issues(session, spec) else tuple(spec.unmasked)


# -- need-to-know beyond the person and household pages ---------------------------------------------------


def house_need_to_know(session: Any, user: User, household_column: Any) -> ColumnElement:
    """SQL: a house a department may see — nobody lives there, or its household is within the need to
    know (the link house → household would otherwise disclose who lives where)."""
    if not needs_to_know(user):
        return true()
    from app.models import Household

    visible = select(Household.id).where(household_need_to_know(session, user, Household.id))
    return or_(household_column.is_(None), household_column.in_(visible))


def require_house_need_to_know(session: Any, user: User, house: Any) -> None:
    if not needs_to_know(user) or house.household_id is None:
        return
    from app.models import Household

    ok = session.execute(select(Household.id).where(Household.id == house.household_id,
                                                     household_need_to_know(session, user, Household.id))).first()
    if not ok:
        raise PermissionDenied(Issue(
            "need-to-know", "无权查看该房屋：居住户不在本部门的业务范围内（未持有本部门或授权的标签）",
            {"record": house.id}, hint="如确因工作需要，请由系统管理员在“部门授权”中登记授权及法律依据"))


def visible_subject_ids(session: Any, user: User, entity: str, ids: set[int]) -> set[int]:
    """Of ``ids`` (persons or households), those within ``user``'s need to know (all for non-departments)."""
    from app.models import Household, Person

    if not needs_to_know(user) or not ids:
        return set(ids)
    if entity == "person":
        clause = person_need_to_know(session, user, Person.id, Person.household_id)
        query = select(Person.id).where(id_among(session, Person.id, ids), clause)
    else:
        query = select(Household.id).where(id_among(session, Household.id, ids),
                                           household_need_to_know(session, user, Household.id))
    return set(session.execute(query).scalars())


def import_clause(user: User, actor_column: Any) -> ColumnElement:
    """SQL: the imports a user may see besides the area rule. A village's ledger import holds raw personal
    data of everyone in the file, so a department sees only the lists its own department uploaded
    (flow-back lists); keepers and admins see all of their area."""
    if not needs_to_know(user):
        return true()
    colleagues = select(User.id).where(User.role == "department", User.department == user.department)
    return actor_column.in_(colleagues)


def require_import_visible(session: Any, user: User, batch: Any) -> None:
    if not needs_to_know(user):
        return
    uploader = session.get(User, batch.actor_id) if batch.actor_id is not None else None
    if uploader is None or uploader.role != "department" or uploader.department != user.department:
        raise PermissionDenied(Issue(
            "need-to-know", "无权查看该导入：村（社区）台账导入包含全体人员的原始数据，部门账号只能查看本部门上传的名单",
            {"record": batch.id}, hint="需要其中的人员信息时，请通过本部门的报表获取"))


def projection_rows_authorised(session: Any, user: User, spec: Any) -> bool:
    """Need-to-know as "rows of an authorised projection": a department may see the persons and
    households a published roster of its own department lists, when that roster selects by no tag the
    department may not see holders of (a 民政 roster of 高龄老人 by age: yes; one selecting 卫健's
    高血压 or 退役军人事务's 退役军人 without a grant: no). Only admins publish projections, so the
    roster itself is the admin's authorisation. Summaries count people and authorise no rows."""
    if not needs_to_know(user) or getattr(spec, "kind", None) != "roster" or spec.department != user.department:
        return False
    codes = holder_tag_codes(session, user) or set()
    where = getattr(spec, "where", None)
    selecting = {c for t in (where.tags if where is not None else ()) if not t.negate for c in (t.code, *t.any_of)}
    return selecting <= codes


#: Authorised roster ids per (database, department, entity, area, day, rosters), with the store they were
#: read from: a department paging through a list, or opening its persons one by one, builds each roster
#: frame once per data version instead of once per request. Bounded: least recently used dropped first. The
#: store is held weakly: an entry must not keep a replaced store's frames in memory.
_ROW_IDS: OrderedDict[tuple[Any, ...], tuple[weakref.ref[Any], frozenset[int]]] = OrderedDict()
_ROW_IDS_MAX = 256
_ROW_IDS_LOCK = threading.Lock()


def authorised_row_ids(session: Any, user: User, entity: str, area_code: str | None) -> frozenset[int]:
    """Ids of the persons (or households) listed today, in the area ``area_code`` (a village for one record,
    the listed area for a list), by the rosters whose rows the department is authorised for
    (``projection_rows_authorised``) — read from the report store, as the roster itself would list them.
    Empty outside a Flask app or for anyone not under need-to-know.

    Cached while the store is the same object: a write gives a new data version and so a new store (as
    does a late-committing batch), an edited or revoked grant or roster changes the key."""
    from flask import current_app, has_app_context

    if not needs_to_know(user) or not area_code or not has_app_context():
        return frozenset()
    from app.db import get_db
    from app.models.base import utcnow
    from app.reporting import projections, rosters
    from app.reporting.frames import CACHE
    from app.reporting.store_delta import data_version
    from app.services import reports

    registry = reports.registry_for(current_app, session)
    specs = [s for s in reports.visible_reports(registry, user)
             if projection_rows_authorised(session, user, s) and s.subject == f"{entity}s"]
    if not specs:
        return frozenset()
    on, engine = today(), get_db().engine
    store = CACHE.store(engine, data_version(engine))
    key = (str(engine.url), user.department, entity, area_code, on,
           tuple(sorted((str(s.id), str(getattr(s, "version", "")), repr(s.where)) for s in specs)))
    with _ROW_IDS_LOCK:
        cached = _ROW_IDS.get(key)
        if cached is not None and cached[0]() is store:
            _ROW_IDS.move_to_end(key)
            return cached[1]
    snap = store.snapshot(on)
    ctx = projections.RunContext(area_code=area_code, area_name=area_code, on=on, period=None, code_lists={},
                                 generated_at=utcnow(), generated_by="", department_label="")
    ids: set[int] = set()
    for spec in specs:
        ids |= {int(i) for i in rosters.roster_frame(spec, snap, ctx).get_column("id").to_list()}
    result = frozenset(ids)
    with _ROW_IDS_LOCK:
        for stale in [k for k, (ref, _) in _ROW_IDS.items() if ref() is None]:
            del _ROW_IDS[stale]  # read from a store since replaced: never valid again
        _ROW_IDS[key] = (weakref.ref(store), result)
        _ROW_IDS.move_to_end(key)
        while len(_ROW_IDS) > _ROW_IDS_MAX:
            _ROW_IDS.popitem(last=False)
    return result

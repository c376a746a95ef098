"""Cross-field rules on persons and tags, shared by every writer (web, Excel round trip, imports, tasks).

A rule looks at more than one field or more than one record and returns ``Issue``s: ``error`` stops
the save; ``warning`` (an unusual but possible value) stops it too until the caller passes
``confirm_warnings=True`` — the web form's "我已核实，仍然保存", an importer's "accept warnings".
``enforce`` is the one place that decides; the person, household and tag services call it.

Rules:

* one head (relation 02) per household, among its living members;
* a spouse (relation 10 / 11 / 12) must have reached the legal marriage age of the Civil Code
  (art. 1047: 22 for men, 20 for women; 20 when sex is unknown) on the day the state takes effect;
* a deceased person holds no current tag: a tag must end on or before the date of death;
* tags whose definition implies an age (留守儿童 under 16, 孤儿 / 事实无人抚养儿童 under 18, and
  高龄津贴 80+ if such a tag type is added) match the holder's age on the tag's start date;
* warnings: age over 110; a household reaching 15 or more living members.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, or_, select
from sqlmodel import Session

from app import clock
from app.issues import Issue, ValidationFailed
from app.models import Household, Person, Tag, TagType

HEAD = "02"
SPOUSE = {"10", "11", "12"}
ALIVE, DECEASED = "1", "2"
MARRIAGE_AGE = {"1": 22, "2": 20}  # Civil Code art. 1047
MARRIAGE_AGE_UNKNOWN_SEX = 20
OLD_AGE_WARNING = 110
LARGE_HOUSEHOLD = 15


@dataclass(frozen=True)
class AgeBound:
    """Ages (in whole years, on the tag's start date) a tag type's definition allows: ``[min, below)``."""

    min: int | None = None
    below: int | None = None
    why: str = ""

    def admits(self, age: int) -> bool:
        return (self.min is None or age >= self.min) and (self.below is None or age < self.below)

    def text(self) -> str:
        if self.min is not None and self.below is not None:
            return f"{self.min}至{self.below - 1}周岁"
        return f"{self.min}周岁及以上" if self.min is not None else f"未满{self.below}周岁"


# Tag types whose definition is an age group. Keyed by tag code; codes absent from the dictionary
# (e.g. a 高龄津贴 type not yet added) simply never match.
TAG_AGE_BOUNDS: dict[str, AgeBound] = {
    "left_behind_child": AgeBound(below=16, why="农村留守儿童指未满16周岁的儿童"),
    "orphan": AgeBound(below=18, why="孤儿指未满18周岁的儿童"),
    "unsupported_child": AgeBound(below=18, why="事实无人抚养儿童指未满18周岁的儿童"),
    "elderly_allowance": AgeBound(min=80, why="高龄津贴发放对象为80周岁及以上老人"),
}


def age_on(birth: date, on: date) -> int:
    """Whole years of age on ``on`` (a birthday counts on the day itself; 29 Feb on 1 Mar)."""
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def enforce(issues: list[Issue], *, confirm_warnings: bool = False) -> None:
    """Raise ``ValidationFailed`` when ``issues`` hold an error, or warnings not yet confirmed.

    The exception carries every issue, warnings included, so a form can show them all at once. A
    caller that gets a ``ValidationFailed`` whose issues are all warnings may ask the user and call
    again with ``confirm_warnings=True``.
    """
    if any(i.severity == "error" for i in issues) or (issues and not confirm_warnings):
        raise ValidationFailed(issues)


def person_rules(session: Session, values: dict[str, Any], *, person_id: int | None = None,
                 on: date | None = None, action: str = "update") -> list[Issue]:
    """Cross-field rules for a person's complete set of values (after field checks).

    ``person_id`` is the person being changed (None for a new one); ``on`` the date the state takes
    effect (default today). ``action="end"`` is a death / moving-out registration, which ends the
    person's tags itself.
    """
    on = on or clock.today()
    issues: list[Issue] = []
    before = session.get(Person, person_id) if person_id is not None else None
    alive = values.get("living_status", ALIVE) == ALIVE
    birth: date | None = values.get("birth_date") if isinstance(values.get("birth_date"), date) else None
    household_id = values.get("household_id")
    relation = values.get("relation")
    # Rules look only at what this save changes, so an old inconsistency elsewhere in the record
    # does not block an unrelated edit (a new person: everything is new).
    changed = set(values) if before is None else {k for k, v in values.items() if hasattr(before, k) and getattr(before, k) != v}
    became_alive = before is not None and before.living_status != ALIVE and alive

    if alive and household_id is not None and relation == HEAD and (changed & {"relation", "household_id"} or became_alive):
        other = session.execute(
            select(Person.name).where(Person.household_id == household_id, Person.relation == HEAD,
                                      Person.living_status == ALIVE,
                                      Person.id != (person_id if person_id is not None else -1))
        ).first()
        if other is not None:
            issues.append(Issue("second-head", f"该户已有户主{other[0]}，一户只能有一位户主", {"field": "relation"},
                                hint="请先修改原户主的“与户主关系”，或选择其他关系"))

    if relation in SPOUSE and birth is not None and changed & {"relation", "birth_date", "sex"}:
        sex = values.get("sex")
        minimum = MARRIAGE_AGE.get(str(sex), MARRIAGE_AGE_UNKNOWN_SEX)
        age = age_on(birth, max(on, birth))
        if age < minimum:
            issues.append(Issue("spouse-under-age", f"与户主关系为配偶，但该人员{age}周岁，未达法定婚龄{minimum}周岁",
                                {"field": "relation"}, hint="民法典第一千零四十七条：男不早于22周岁，女不早于20周岁"))

    if alive and birth is not None and "birth_date" in changed and age_on(birth, clock.today()) > OLD_AGE_WARNING:
        issues.append(Issue("age-over-110", f"该人员已{age_on(birth, clock.today())}周岁，超过{OLD_AGE_WARNING}周岁，请核实出生日期",
                            {"field": "birth_date"}, severity="warning"))

    joining = household_id is not None and alive and (before is None or before.household_id != household_id
                                                      or before.living_status != ALIVE)
    if joining:
        size = session.execute(
            select(func.count(Person.id)).where(Person.household_id == household_id, Person.living_status == ALIVE,
                                                Person.id != (person_id if person_id is not None else -1))
        ).scalar_one()
        if size + 1 >= LARGE_HOUSEHOLD:
            number = session.execute(select(Household.number).where(Household.id == household_id)).scalar()
            issues.append(Issue("large-household", f"加入后户 {number} 将有{size + 1}名在世成员（{LARGE_HOUSEHOLD}人及以上），请核实",
                                {"field": "household_id"}, severity="warning"))

    if person_id is not None:
        if values.get("living_status") == DECEASED and action != "end":
            ended_on = values.get("status_date") or on
            if _open_tags(session, person_id, ended_on):
                issues.append(Issue("deceased-with-tags", "死亡人员不能持有有效标签，请使用“死亡登记”（会同时结束其标签）",
                                    {"field": "living_status"}))
        if birth is not None and before is not None and before.birth_date != birth:
            for tag in _open_tags(session, person_id, on):
                issue = _age_issue(session, tag.tag_code, birth, tag.valid_from, field="birth_date")
                if issue:
                    issues.append(issue)
    return issues


def tag_rules(session: Session, tag_type: TagType, subject: Any, valid_from: date, valid_to: date | None) -> list[Issue]:
    """Rules for granting ``tag_type`` to ``subject`` (a Person or Household) over ``[valid_from, valid_to)``."""
    issues: list[Issue] = []
    if not isinstance(subject, Person):
        return issues
    if subject.living_status != ALIVE and subject.status_date is not None and subject.status_date <= valid_from:
        return issues  # the tag service refuses tags on ended persons ("subject-ended")
    if subject.living_status == DECEASED and subject.status_date is not None and valid_from < subject.status_date and (
            valid_to is None or valid_to > subject.status_date):
        issues.append(Issue("deceased-with-tags", f"{subject.name}已于{subject.status_date}死亡，标签须在此日期前结束",
                            {"field": "valid_to"}, hint=f"结束日期填 {subject.status_date} 或更早"))
    issue = _age_issue(session, tag_type.code, subject.birth_date, valid_from, field="valid_from", name=tag_type.name)
    if issue:
        issues.append(issue)
    return issues


def _age_issue(session: Session, tag_code: str, birth: date, on: date, *, field: str, name: str | None = None) -> Issue | None:
    bound = TAG_AGE_BOUNDS.get(tag_code)
    if bound is None:
        return None
    age = age_on(birth, max(on, birth))
    if bound.admits(age):
        return None
    if name is None:
        tag_type = session.get(TagType, tag_code)
        name = tag_type.name if tag_type else tag_code
    return Issue("tag-age-mismatch", f"“{name}”限{bound.text()}，该人员在{on}为{age}周岁", {"field": field},
                 hint=bound.why or None)


def _open_tags(session: Session, person_id: int, on: date) -> list[Tag]:
    return list(session.execute(
        select(Tag).where(Tag.person_id == person_id, or_(Tag.valid_to.is_(None), Tag.valid_to > on))
    ).scalars())

"""Cross-field rules in the services: they protect every writer (web, Excel, imports, tasks) alike."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from flask import Flask
from hand_data import V1, V2, HandCounty
from sqlalchemy import func, select
from sqlmodel import Session

from app import clock
from app.db import get_db
from app.issues import ValidationFailed
from app.models import ChangeLog, Person, Tag
from app.services import persons, tags
from app.services.rules import age_on
from app.validators.idcard import make_id_number

TODAY = clock.today()


@pytest.fixture
def session(app: Flask, hand: HandCounty) -> Iterator[Session]:
    with get_db(app).session() as s:
        yield s


def born(years: int, days: int = 0) -> date:
    """The birth date of someone ``years`` old today (``days`` more: a little older)."""
    d = TODAY.replace(year=TODAY.year - years) if not (TODAY.month == 2 and TODAY.day == 29) else date(TODAY.year - years, 2, 28)
    return date.fromordinal(d.toordinal() - days)


_seq = iter(range(601, 999, 2))


def new(session: Session, hand: HandCounty, household: str, relation: str, birth: date, *, female: bool = False,
        area: str = V1, **kw: object) -> Person:
    number = make_id_number("339901", birth, next(_seq) + (1 if female else 0))
    return persons.create_person(session, hand.admin, {"id_number": number, "name": "新成员", "area_code": area,
                                                       "household_id": hand.households[household], "relation": relation}, **kw)


def codes(err: pytest.ExceptionInfo[ValidationFailed]) -> list[tuple[str, str, str]]:
    return sorted((i.code, i.severity, i.location.get("field", "")) for i in err.value.issues)


def counts(session: Session) -> tuple[int, int, int]:
    return tuple(session.execute(select(func.count()).select_from(m)).scalar_one() for m in (Person, Tag, ChangeLog))


def test_one_head_per_household(session: Session, hand: HandCounty) -> None:
    before = counts(session)
    with pytest.raises(ValidationFailed) as err:
        new(session, hand, "H1", "02", born(40))
    assert codes(err) == [("second-head", "error", "relation")]
    assert "该户已有户主甲一" in err.value.issues[0].message
    session.rollback()
    assert counts(session) == before
    # moving the head of H2 into H1 as its head is refused too, as another relation it is fine
    with pytest.raises(ValidationFailed) as err:
        persons.move_person(session, hand.admin, hand.persons["p4"], hand.households["H1"], TODAY, relation="02")
    assert codes(err) == [("second-head", "error", "relation")]
    session.rollback()
    persons.move_person(session, hand.admin, hand.persons["p4"], hand.households["H1"], TODAY, relation="20")
    # once the head has died the household may get a new one; an unrelated edit of a member is never blocked
    persons.end_person(session, hand.admin, hand.persons["p1"], "death", TODAY)
    persons.update_person(session, hand.admin, hand.persons["p4"], {"relation": "02"})
    persons.update_person(session, hand.admin, hand.persons["p2"], {"phone": "13700000001"})
    session.commit()


def test_spouse_needs_the_legal_marriage_age(session: Session, hand: HandCounty) -> None:
    with pytest.raises(ValidationFailed) as err:
        new(session, hand, "H3", "10", born(19, 300), female=True)
    assert codes(err) == [("spouse-under-age", "error", "relation")]
    assert "未达法定婚龄20周岁" in err.value.issues[0].message
    session.rollback()
    with pytest.raises(ValidationFailed) as err:
        new(session, hand, "H3", "11", born(21, 300))
    assert "未达法定婚龄22周岁" in err.value.issues[0].message
    session.rollback()
    wife = new(session, hand, "H3", "12", born(20), female=True)  # 20 today: the birthday counts
    assert wife.relation == "12"
    # the same 19-year-old as a daughter is fine; turning her into a spouse later is checked as well
    daughter = new(session, hand, "H3", "30", born(19), female=True)
    with pytest.raises(ValidationFailed) as err:
        persons.update_person(session, hand.admin, daughter.id, {"relation": "10"})
    assert codes(err) == [("spouse-under-age", "error", "relation")]


def test_a_deceased_person_holds_no_current_tag(session: Session, hand: HandCounty) -> None:
    p1 = hand.persons["p1"]  # holds hypertension, disabled, pension … from 2024-01-01
    with pytest.raises(ValidationFailed) as err:
        persons.update_person(session, hand.admin, p1, {"living_status": "2", "status_date": date(2025, 1, 5)})
    assert codes(err) == [("deceased-with-tags", "error", "living_status")]
    session.rollback()
    # 丙二 (p14) died on 2025-03-01: a tag from before then must end by that day
    p14 = hand.persons["p14"]
    with pytest.raises(ValidationFailed) as err:
        tags.grant_tag(session, hand.admin, "family_doctor", p14, date(2025, 1, 1))
    assert codes(err) == [("deceased-with-tags", "error", "valid_to")]
    session.rollback()
    tag = tags.grant_tag(session, hand.admin, "family_doctor", p14, date(2025, 1, 1), valid_to=date(2025, 3, 1))
    assert tag.valid_to == date(2025, 3, 1)
    # the death registration ends every current tag the same day
    persons.end_person(session, hand.admin, p1, "death", date(2025, 1, 5))
    assert tags.tags_of(session, hand.admin, person_id=p1, on=date(2025, 1, 5)) == []


def test_age_group_tags_match_the_age(session: Session, hand: HandCounty) -> None:
    with pytest.raises(ValidationFailed) as err:
        tags.grant_tag(session, hand.admin, "left_behind_child", hand.persons["p4"], date(2025, 1, 1))  # born 1980
    assert codes(err) == [("tag-age-mismatch", "error", "valid_from")]
    assert "限未满16周岁" in err.value.issues[0].message
    session.rollback()
    assert tags.grant_tag(session, hand.admin, "left_behind_child", hand.persons["p6"], date(2025, 1, 1))  # born 2019
    # correcting the ID of 甲三 (born 2015, a left-behind child) to a 2000 birth contradicts the tag
    with pytest.raises(ValidationFailed) as err:
        persons.update_person(session, hand.admin, hand.persons["p3"],
                              {"id_number": make_id_number("339901", date(2000, 9, 1), 5), "birth_date": None, "sex": None})
    assert codes(err) == [("tag-age-mismatch", "error", "birth_date")]


def test_warnings_are_saved_only_when_confirmed(session: Session, hand: HandCounty) -> None:
    old = born(111)
    with pytest.raises(ValidationFailed) as err:
        new(session, hand, "H3", "50", old, female=True)
    assert codes(err) == [("age-over-110", "warning", "birth_date")]
    session.rollback()
    person = new(session, hand, "H3", "50", old, female=True, confirm_warnings=True)
    assert age_on(person.birth_date, TODAY) == 111
    # an error is never confirmable, even together with a warning
    with pytest.raises(ValidationFailed) as err:
        new(session, hand, "H3", "02", born(112), female=True, confirm_warnings=True)
    assert codes(err) == [("age-over-110", "warning", "birth_date"), ("second-head", "error", "relation")]
    session.rollback()


def test_a_household_of_fifteen_is_a_warning(session: Session, hand: HandCounty) -> None:
    # H5 (乙村) has 2 living members; members 3 … 14 go in silently, the 15th asks for confirmation
    for _ in range(12):
        new(session, hand, "H5", "99", born(30), area=V2)
    with pytest.raises(ValidationFailed) as err:
        new(session, hand, "H5", "99", born(30), area=V2)
    assert codes(err) == [("large-household", "warning", "household_id")]
    assert "将有15名在世成员" in err.value.issues[0].message
    session.rollback()

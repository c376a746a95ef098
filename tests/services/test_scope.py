"""Scope: a user reads and changes only what lies in their area (and, for departments, their tags)."""

from __future__ import annotations

from datetime import date

import pytest
from hand_county import GRID_A1, VILLAGE_A, VILLAGE_B, VILLAGE_C, County, id_number
from sqlmodel import Session

from app.issues import PermissionDenied
from app.models import Person
from app.services import history
from app.services.households import create_household, get_household, update_household
from app.services.observations import record_observation
from app.services.persons import create_person, end_person, find_persons, get_person, update_person
from app.services.tags import end_tag, grant_tag, tags_of


@pytest.fixture
def two_villages(session: Session, county: County) -> dict[str, int]:
    ha = create_household(session, county.cadre_a, {"number": "A001", "area_code": GRID_A1}, effective=date(2024, 1, 1))
    hb = create_household(session, county.cadre_b, {"number": "B001", "area_code": VILLAGE_B}, effective=date(2024, 1, 1))
    hc = create_household(session, county.admin, {"number": "C001", "area_code": VILLAGE_C}, effective=date(2024, 1, 1))
    pa = create_person(session, county.cadre_a, {"id_number": id_number(date(1970, 1, 1), 21), "name": "甲一",
                                                 "household_id": ha.id, "area_code": GRID_A1, "relation": "02"})
    pa2 = create_person(session, county.cadre_a, {"id_number": id_number(date(1971, 1, 1), 23), "name": "甲二",
                                                  "area_code": VILLAGE_A})
    pb = create_person(session, county.cadre_b, {"id_number": id_number(date(1970, 2, 2), 22), "name": "乙一",
                                                 "household_id": hb.id, "area_code": VILLAGE_B, "relation": "02"})
    session.commit()
    return {"ha": ha.id, "hb": hb.id, "hc": hc.id, "pa": pa.id, "pa2": pa2.id, "pb": pb.id}


def test_cadre_cannot_read_another_village(session: Session, county: County, two_villages: dict[str, int]) -> None:
    assert get_person(session, county.cadre_a, two_villages["pa"]).name == "甲一"
    with pytest.raises(PermissionDenied) as err:
        get_person(session, county.cadre_a, two_villages["pb"])
    assert err.value.issues[0].code == "out-of-scope"
    with pytest.raises(PermissionDenied):
        get_household(session, county.cadre_a, two_villages["hb"])
    with pytest.raises(PermissionDenied):
        tags_of(session, county.cadre_a, person_id=two_villages["pb"])
    assert {p.name for p in find_persons(session, county.cadre_a)} == {"甲一", "甲二"}
    assert find_persons(session, county.cadre_a, "乙一") == []


def test_cadre_cannot_change_another_village(session: Session, county: County, two_villages: dict[str, int]) -> None:
    attempts = [
        lambda: update_person(session, county.cadre_a, two_villages["pb"], {"name": "改名"}),
        lambda: end_person(session, county.cadre_a, two_villages["pb"], "death", date(2025, 1, 1)),
        lambda: update_household(session, county.cadre_a, two_villages["hb"], {"address": "x"}),
        lambda: create_person(session, county.cadre_a, {"id_number": id_number(date(1990, 3, 3), 31), "name": "新人",
                                                         "area_code": VILLAGE_B}),
        lambda: update_person(session, county.cadre_a, two_villages["pa"], {"area_code": VILLAGE_B}),
        lambda: record_observation(session, county.cadre_a, "cropland_area", VILLAGE_B, "2024", 100),
    ]
    for attempt in attempts:
        with pytest.raises(PermissionDenied):
            attempt()
        session.rollback()
    assert session.get(Person, two_villages["pb"]).name == "乙一"
    assert session.get(Person, two_villages["pb"]).living_status == "1"
    assert session.get(Person, two_villages["pa"]).area_code == GRID_A1


def test_grid_cadre_sees_only_the_grid(session: Session, county: County, two_villages: dict[str, int]) -> None:
    assert {p.name for p in find_persons(session, county.grid_a1)} == {"甲一"}
    with pytest.raises(PermissionDenied):
        get_person(session, county.grid_a1, two_villages["pa2"])


def test_township_staff_cover_their_villages_only(session: Session, county: County, two_villages: dict[str, int]) -> None:
    assert {p.name for p in find_persons(session, county.township_1)} == {"甲一", "甲二", "乙一"}
    update_person(session, county.township_1, two_villages["pb"], {"phone": "19911112222"})
    with pytest.raises(PermissionDenied):
        get_household(session, county.township_1, two_villages["hc"])


def test_department_reads_its_need_to_know_and_keeps_only_its_tags(session: Session, county: County, two_villages: dict[str, int]) -> None:
    with pytest.raises(PermissionDenied) as err:  # no 民政 tag yet: outside the department's need to know
        get_person(session, county.mca, two_villages["pb"])
    assert err.value.issues[0].code == "need-to-know"
    tag = grant_tag(session, county.mca, "tekun", two_villages["pb"], date(2025, 1, 1), attrs={"support_mode": "2"})
    assert get_person(session, county.mca, two_villages["pb"]).name == "乙一"  # now a holder of its 特困 tag
    with pytest.raises(PermissionDenied) as err:
        update_person(session, county.mca, two_villages["pb"], {"name": "改名"})
    assert err.value.issues[0].code == "read-only-role"
    session.rollback()
    tag = grant_tag(session, county.mca, "tekun", two_villages["pb"], date(2025, 1, 1), attrs={"support_mode": "2"})
    with pytest.raises(PermissionDenied):
        grant_tag(session, county.mca, "hypertension", two_villages["pb"], date(2025, 1, 1))
    with pytest.raises(PermissionDenied):
        end_tag(session, county.nhc, tag.id, date(2025, 6, 1))
    grant_tag(session, county.nhc, "hypertension", two_villages["pb"], date(2025, 1, 1))
    end_tag(session, county.mca, tag.id, date(2025, 6, 1))
    session.commit()
    assert [t.tag_code for t in tags_of(session, county.admin, person_id=two_villages["pb"], on=date(2025, 7, 1))] == ["hypertension"]


def test_as_of_limited_to_a_subtree(session: Session, county: County, two_villages: dict[str, int]) -> None:
    rows = history.as_of(session, "person", date(2030, 1, 1), area_prefix=VILLAGE_A)
    assert {r["name"] for r in rows} == {"甲一", "甲二"}


def test_sensitivity_is_data_on_the_tag_type(session: Session, county: County) -> None:
    """Which tags are sensitive comes from tag_type.sensitive (seeded for health and disability; set by
    the admin on the tag-type page), not from a list in the code."""
    from app.models import TagType
    from app.services.scope import sensitive_tags, tag_visible

    assert sensitive_tags(session) == {"hypertension", "diabetes2", "severe_mental", "family_doctor", "disabled"}
    assert not tag_visible(session, county.mca, "hypertension")  # 卫健's health tag
    assert tag_visible(session, county.nhc, "hypertension")  # its owner
    assert tag_visible(session, county.nhc, "dibao")  # not sensitive: any department
    session.get(TagType, "dibao").sensitive = True
    session.get(TagType, "hypertension").sensitive = False
    session.flush()
    assert not tag_visible(session, county.nhc, "dibao")
    assert tag_visible(session, county.mca, "hypertension")
    assert tag_visible(session, county.admin, "dibao")  # admins and keepers always

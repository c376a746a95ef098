"""Bad input to the base-data services: refused with Chinese messages, nothing written."""

from __future__ import annotations

from datetime import date

import pytest
from hand_county import VILLAGE_A, County, id_number
from sqlalchemy import func, select
from sqlmodel import Session

from app.issues import ValidationFailed
from app.models import ChangeLog, Person
from app.services.households import create_household, end_household
from app.services.observations import period_bounds, record_observation
from app.services.persons import create_person, end_person
from app.services.tags import grant_tag


def codes(err: pytest.ExceptionInfo[ValidationFailed]) -> set[str]:
    return {i.code for i in err.value.issues}


def test_id_number_decides_birth_date_and_sex(session: Session, county: County) -> None:
    p = create_person(session, county.cadre_a, {"id_number": id_number(date(1985, 6, 7), 32).lower(), "name": "测试",
                                                "area_code": VILLAGE_A})
    assert (p.birth_date, p.sex) == (date(1985, 6, 7), "2")
    with pytest.raises(ValidationFailed) as err:
        create_person(session, county.cadre_a, {"id_number": id_number(date(1985, 6, 8), 33), "name": "测试",
                                                "area_code": VILLAGE_A, "birth_date": date(1985, 6, 9), "sex": "2"})
    assert {"id-birth-mismatch", "id-sex-mismatch"} <= codes(err)
    assert all(i.message for i in err.value.issues)


def test_bad_person_values_are_all_reported(session: Session, county: County) -> None:
    bad_id = id_number(date(1985, 6, 7), 31)[:-1] + ("0" if id_number(date(1985, 6, 7), 31)[-1] != "0" else "1")
    with pytest.raises(ValidationFailed) as err:
        create_person(session, county.cadre_a, {"id_number": bad_id, "name": "", "area_code": VILLAGE_A,
                                                "ethnic_group": "99", "relation": "xx"})
    assert {"id-checksum", "required", "unknown-code"} <= codes(err)
    assert session.execute(select(func.count()).select_from(Person)).scalar() == 0
    assert session.execute(select(func.count()).select_from(ChangeLog)).scalar() == 0


def test_legacy_15_digit_number_is_upgraded(session: Session, county: County) -> None:
    p = create_person(session, county.cadre_a, {"id_number": "110105491231002", "name": "旧号", "area_code": VILLAGE_A})
    assert p.id_number == "11010519491231002X"


def test_duplicate_id_number_refused(session: Session, county: County) -> None:
    values = {"id_number": id_number(date(1980, 1, 1), 41), "name": "重复", "area_code": VILLAGE_A}
    create_person(session, county.cadre_a, values)
    with pytest.raises(ValidationFailed) as err:
        create_person(session, county.cadre_a, values)
    assert codes(err) == {"duplicate-id-number"}


def test_ending_rules(session: Session, county: County) -> None:
    h = create_household(session, county.cadre_a, {"number": "E001", "area_code": VILLAGE_A})
    p = create_person(session, county.cadre_a, {"id_number": id_number(date(1950, 1, 1), 51), "name": "老人",
                                                "area_code": VILLAGE_A, "household_id": h.id, "relation": "02"},
                      effective=date(2020, 1, 1))
    grant_tag(session, county.mca, "tekun", p.id, date(2021, 1, 1), attrs={"support_mode": "1"})
    with pytest.raises(ValidationFailed) as err:
        end_person(session, county.cadre_a, p.id, "moved_out", date(2024, 1, 1))
    assert codes(err) == {"moved-to-required"}
    with pytest.raises(ValidationFailed):
        end_household(session, county.cadre_a, h.id, date(2024, 1, 1))
    end_person(session, county.cadre_a, p.id, "death", date(2024, 1, 1))
    with pytest.raises(ValidationFailed) as err:
        grant_tag(session, county.mca, "orphan", p.id, date(2024, 2, 1))
    assert codes(err) == {"subject-ended"}
    end_household(session, county.cadre_a, h.id, date(2024, 3, 1))


def test_tag_attributes_checked(session: Session, county: County) -> None:
    p = create_person(session, county.cadre_a, {"id_number": id_number(date(1970, 1, 1), 61), "name": "残疾人",
                                                "area_code": VILLAGE_A})
    with pytest.raises(ValidationFailed) as err:
        grant_tag(session, county.admin, "disabled", p.id, date(2024, 1, 1), attrs={"category": "9", "colour": "red"})
    assert codes(err) == {"unknown-code", "required", "unknown-attribute"}
    grant_tag(session, county.admin, "disabled", p.id, date(2024, 1, 1), attrs={"category": "4", "grade": "2"})
    with pytest.raises(ValidationFailed) as err:
        grant_tag(session, county.admin, "disabled", p.id, date(2024, 5, 1), attrs={"category": "4", "grade": "3"})
    assert codes(err) == {"tag-already-held"}
    with pytest.raises(ValidationFailed) as err:
        grant_tag(session, county.admin, "no_such_tag", p.id, date(2024, 5, 1))
    assert codes(err) == {"unknown-tag"}


def test_observations(session: Session, county: County) -> None:
    assert period_bounds("Q", "2025Q2") == (date(2025, 4, 1), date(2025, 6, 30))
    assert period_bounds("M", "2024-02") == (date(2024, 2, 1), date(2024, 2, 29))
    assert period_bounds("H", "2025H2") == (date(2025, 7, 1), date(2025, 12, 31))
    obs = record_observation(session, county.cadre_a, "cropland_area", VILLAGE_A, "2024", 1234.5)
    record_observation(session, county.cadre_a, "cropland_area", VILLAGE_A, "2024", 1300)
    assert obs.value == 1300 and obs.unit == "亩" and obs.period_end == date(2024, 12, 31)
    for period, value, code in [("2024-06", 1, "bad-period"), ("2024", "许多", "not-a-number"), ("2024", -5, "negative")]:
        with pytest.raises(ValidationFailed) as err:
            record_observation(session, county.cadre_a, "cropland_area", VILLAGE_A, period, value)
        assert codes(err) == {code}

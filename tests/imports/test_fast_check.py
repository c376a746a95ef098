"""The bulk path's compiled person check agrees with the service's ``check_person`` wherever it answers."""

from __future__ import annotations

from datetime import date

import pytest
from hand_county import VILLAGE_A
from ledger import pid
from sqlmodel import Session

from app.services.ledger_import.writes import FastPersonCheck
from app.services.persons import check_person

ID = pid(date(1980, 1, 2), 11)
CASES = [
    {"id_number": ID, "name": "张三", "sex": "1", "birth_date": date(1980, 1, 2), "area_code": VILLAGE_A},
    {"id_number": ID, "name": "张三", "sex": "1", "birth_date": date(1980, 1, 2), "area_code": VILLAGE_A, "relation": "99",
     "ethnic_group": "01", "phone": "1" * 25},
    {"id_number": ID, "name": "", "sex": "1", "birth_date": date(1980, 1, 2), "area_code": VILLAGE_A, "education": "x"},
    {"id_number": ID, "name": "张三", "sex": "2", "birth_date": date(1980, 1, 2), "area_code": VILLAGE_A},  # sex disagrees
    {"id_number": ID, "name": "张三", "sex": "1", "birth_date": date(1980, 1, 3), "area_code": VILLAGE_A},  # birth disagrees
    {"id_number": ID[:-1] + ("0" if ID[-1] != "0" else "1"), "name": "张三", "sex": "1", "birth_date": date(1980, 1, 2),
     "area_code": VILLAGE_A},  # check character
    {"id_number": ID, "name": "张三", "sex": "1", "birth_date": date(1980, 1, 2), "area_code": VILLAGE_A, "living_status": "2"},
]


@pytest.mark.parametrize("values", CASES)
def test_same_answer_as_the_service(session: Session, values: dict) -> None:
    fast = FastPersonCheck(session).check(dict(values))
    slow_values, slow_issues = check_person(session, dict(values))
    if fast is None:  # the service decides these
        return
    fast_values, fast_issues = fast
    assert [(i.code, i.message, i.location) for i in fast_issues] == [(i.code, i.message, i.location) for i in slow_issues]
    assert fast_values == slow_values


def test_it_declines_what_it_does_not_check(session: Session) -> None:
    checker = FastPersonCheck(session)
    assert [checker.check(dict(v)) is None for v in CASES] == [False, False, False, True, True, True, True]


def test_the_defaults_it_skips_are_valid(session: Session) -> None:
    from app.models import Household, Person
    from app.services.fields import check_values

    for model in (Person, Household):
        checker = FastPersonCheck(session, model)
        defaults = {k: v for k, v in checker.defaults.items() if v is not None}
        assert not [i for i in check_values(session, model, defaults, partial=True)]

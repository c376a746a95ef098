"""Numeric URL parts and query arguments: huge, negative or non-numeric values never give a 500."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from view_helpers import VILLAGE_A, AuthActions

HUGE = "99999999999999999999999"
BEYOND_INT4 = "2147483648"  # one past PostgreSQL's integer: the driver would refuse it


@pytest.fixture
def admin(client: FlaskClient, auth: AuthActions, base_data: dict[str, int]) -> FlaskClient:
    assert auth.login("admin").status_code == 302
    return client


@pytest.mark.parametrize("page", [HUGE, BEYOND_INT4, "-3", "abc", "0", "1e9", "", "²", "７"])  # "²".isdigit(), int("²") fails
@pytest.mark.parametrize("listing", ["persons", "households"])
def test_page_numbers_are_clamped(admin: FlaskClient, listing: str, page: str) -> None:
    response = admin.get(f"/village/{VILLAGE_A}/{listing}?page={page}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "村民p1" in html or listing == "households"  # 7 persons and 3 households fit on page 1: always shown


def test_a_page_past_the_end_shows_the_last_page(admin: FlaskClient) -> None:
    html = admin.get(f"/village/{VILLAGE_A}/persons?page={HUGE}").get_data(as_text=True)
    assert "村民p2" in html


@pytest.mark.parametrize("path", [
    f"/village/person/{HUGE}", f"/village/person/{BEYOND_INT4}", f"/village/household/{HUGE}",
    f"/village/household/{BEYOND_INT4}/edit", f"/tasks/{HUGE}", f"/tasks/{BEYOND_INT4}", f"/imports/{BEYOND_INT4}",
])
def test_huge_record_ids_are_not_found(admin: FlaskClient, path: str) -> None:
    assert admin.get(path).status_code == 404


@pytest.mark.parametrize("path", [f"/imports/conflicts?import={HUGE}", f"/imports/conflicts?import={BEYOND_INT4}",
                                  f"/imports/flowback?import={HUGE}", "/imports/flowback?import=-1"])
def test_huge_query_ids_select_nothing(admin: FlaskClient, path: str) -> None:
    assert admin.get(path).status_code == 200


def test_huge_ids_in_a_conflict_decision_select_nothing(admin: FlaskClient) -> None:
    response = admin.post("/imports/conflicts", data={"decision": "take", "id": [HUGE, BEYOND_INT4]})
    assert response.status_code == 302
    response = admin.post("/imports/conflicts", data={"decision": "take", "all_of": HUGE})
    assert response.status_code == 302


def test_unicode_digits_are_not_numbers() -> None:
    from app.views.params import int_arg, page_arg

    assert int_arg({"id": "²"}, "id") is None and int_arg({"id": "７"}, "id") is None
    assert page_arg({"page": "³"}) == 1
    assert int_arg({"id": " 42 "}, "id") == 42 and page_arg({"page": "3"}) == 3

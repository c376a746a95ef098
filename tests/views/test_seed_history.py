"""A seeded record's history reads 初始登记, not the internal marker ``seed （空）→ True``."""

from __future__ import annotations

from datetime import date

from flask import Flask
from flask.testing import FlaskClient
from view_helpers import AuthActions

from app.db import get_db
from app.services import history


def test_seed_entry_reads_initial_registration(app: Flask, client: FlaskClient, auth: AuthActions,
                                              base_data: dict[str, int]) -> None:
    with get_db(app).transaction() as session:
        batch = history.open_batch(session, None, "seed", note="演示数据")
        history.log_change(session, batch, "person", base_data["p1"], "create", {"seed": [None, True]}, date(2020, 1, 1))
    auth.login("admin")
    html = client.get(f"/village/person/{base_data['p1']}").get_data(as_text=True)
    section = html[html.index('id="history"'):]
    assert "初始登记" in section
    assert "<th>seed</th>" not in section and ">True<" not in section


def test_household_page_shows_its_tag_attributes(client: FlaskClient, auth: AuthActions, base_data: dict[str, int]) -> None:
    auth.login("admin")
    html = client.get(f"/village/household/{base_data['h1']}").get_data(as_text=True)
    tags = html[:html.index('id="history"')]  # the tag list, not the change history below it
    assert '<span class="small">低保类别：农村低保</span>' in tags  # the dibao tag's kind "2", as its label


def test_a_daughter_reads_daughter_not_female_twice(app, client: FlaskClient, auth: AuthActions, users: dict[str, int],
                                                    base_data: dict[str, int]) -> None:
    from view_helpers import VILLAGE_A

    from app.models import User
    from app.services import persons
    from app.validators.idcard import make_id_number

    with get_db(app).transaction() as session:
        admin = session.get(User, users["admin"])
        persons.create_person(session, admin, {
            "id_number": make_id_number("339901", date(2010, 5, 1), 202), "name": "村民女儿", "area_code": VILLAGE_A,
            "household_id": base_data["h1"], "relation": "30", "residence_type": "1"})
    auth.login("admin")
    html = client.get(f"/village/household/{base_data['h1']}").get_data(as_text=True)
    assert "女儿 · 女" in html and "女 · 女 ·" not in html

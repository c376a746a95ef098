"""Need-to-know at county scale: a department list with a long authorised roster, and the roster ids cached.

Hand-made data on top of ``base_data`` (tests/views/conftest.py): 民政 (mca) sees h1 (低保) and its members
p1-p3 by its tags; 民政's published 高龄津贴 roster (mca_aged_roster) lists persons alive, registered
(residence type 1 or 2) and aged 80+.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event
from view_helpers import VILLAGE_A, AuthActions

from app.db import get_db
from app.models import User
from app.reporting import rosters
from app.services import persons, scope
from app.validators.idcard import make_id_number

# SQLite's default SQLITE_MAX_VARIABLE_NUMBER (Debian builds raise it to 250,000; stock builds do not);
# PostgreSQL's wire protocol carries at most 65,535 parameters.
SQLITE_MAX_VARIABLES = 32_766
PG_MAX_PARAMETERS = 65_535


@pytest.fixture
def stock_sqlite_limit(app: Flask) -> Iterator[None]:
    """Connections with a stock SQLite's variable limit, whatever this machine's build allows."""
    engine = get_db(app).engine
    if engine.dialect.name != "sqlite":
        yield
        return

    def limit(dbapi_connection, _record) -> None:
        dbapi_connection.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, SQLITE_MAX_VARIABLES)

    event.listen(engine, "connect", limit)
    engine.dispose()
    yield
    event.remove(engine, "connect", limit)
    engine.dispose()


def test_a_list_with_more_authorised_rows_than_a_statement_binds_parameters(
        client: FlaskClient, auth: AuthActions, base_data: dict[str, int], stock_sqlite_limit: None,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A county's 高龄 roster lists more persons than a statement binds parameters (SQLite: 32,766;
    PostgreSQL: 65,535): the list still opens (one parameter for all ids) and lists the rows."""
    many = set(range(1, 70_001))
    assert len(many) > max(SQLITE_MAX_VARIABLES, PG_MAX_PARAMETERS)
    monkeypatch.setattr(scope, "authorised_row_ids", lambda *args, **kwargs: many)
    auth.login("mca")
    page = client.get(f"/village/{VILLAGE_A}/persons")
    assert page.status_code == 200
    # every person of village A has an id below 40,001: all are rows (p6 died but stays listed, as for keepers)
    listed = set(re.findall(r"村民p\d+", page.get_data(as_text=True)))
    assert {"村民p4", "村民p5", "村民p7"} <= listed
    households = client.get(f"/village/{VILLAGE_A}/households")
    assert households.status_code == 200


def test_only_the_authorised_ids_are_added(client: FlaskClient, auth: AuthActions, base_data: dict[str, int],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """The one-parameter id list keeps exactly its ids: p4 authorised, p5 (same household, untagged) not."""
    monkeypatch.setattr(scope, "authorised_row_ids", lambda *args, **kwargs: {base_data["p4"], 10**9})
    auth.login("mca")
    listed = set(re.findall(r"村民p\d+", client.get(f"/village/{VILLAGE_A}/persons").get_data(as_text=True)))
    assert listed == {"村民p1", "村民p2", "村民p3", "村民p4"}



def test_roster_ids_are_cached_until_a_write(app: Flask, client: FlaskClient, auth: AuthActions, users: dict[str, int],
                                             base_data: dict[str, int], monkeypatch: pytest.MonkeyPatch) -> None:
    """Paging through a list builds 民政's roster frame once; an edit (a new data version) that makes p11 a
    row of the 高龄 roster builds it again, and p11 is listed and opens."""
    with get_db(app).transaction() as session:
        admin = session.get(User, users["admin"])
        p11 = persons.create_person(session, admin, {  # 85, but residing elsewhere (type 3): not on the roster
            "id_number": make_id_number("339901", date(1940, 3, 5), 993), "name": "村民p11", "area_code": VILLAGE_A,
            "household_id": base_data["h2"], "relation": "10", "residence_type": "3"})
        p11_id = int(p11.id)
    built: list[str] = []
    roster_frame = rosters.roster_frame

    def counting(spec, *args, **kwargs):
        built.append(spec.id)
        return roster_frame(spec, *args, **kwargs)

    monkeypatch.setattr(rosters, "roster_frame", counting)
    auth.login("mca")
    first = client.get(f"/village/{VILLAGE_A}/persons").get_data(as_text=True)
    assert "村民p11" not in first
    assert "mca_aged_roster" in built
    once = len(built)
    assert client.get(f"/village/{VILLAGE_A}/persons?page=1").status_code == 200
    assert client.get(f"/village/person/{p11_id}").status_code == 403  # same village: the same ids
    assert len(built) == once  # the same data version: no roster frame built again

    with get_db(app).transaction() as session:  # p11 moves back: now registered here, a roster row
        persons.update_person(session, session.get(User, users["admin"]), p11_id, {"residence_type": "1"})
    again = client.get(f"/village/{VILLAGE_A}/persons").get_data(as_text=True)
    assert "村民p11" in again
    assert len(built) > once
    assert client.get(f"/village/person/{p11_id}").status_code == 200

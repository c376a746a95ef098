"""Need-to-know at county scale: a department list with a long authorised roster, and the roster ids cached.

Hand-made data on top of ``base_data`` (tests/views/conftest.py): 民政 (mca) sees h1 (低保) and its members
p1-p3 by its tags; 民政's published 高龄津贴 roster (mca_aged_roster) lists persons alive, registered
(residence type 1 or 2) and aged 80+.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event
from view_helpers import VILLAGE_A, AuthActions

from app.db import get_db
from app.services import scope

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


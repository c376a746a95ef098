"""A save while another process holds SQLite's write lock past the busy wait (e.g. a large ledger import
applying) answers 503 in Chinese with Retry-After, writes nothing, and the same save goes through once
the lock is free."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hand_data import HandCounty
from village_helpers import form_values

from app import db as db_module
from app.db import get_db
from app.models import Person


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_save_during_another_processs_write_is_a_503_and_loses_nothing(
        app: Flask, hand: HandCounty, login: Callable[[str], FlaskClient], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(db_module, "SQLITE_BUSY_MS", 300)
    get_db(app).engine.dispose()  # new connections read the short wait
    c = login("cadre_1")
    person_id = hand.persons["p1"]
    url = f"/village/person/{person_id}/edit"
    form = {**form_values(c.get(url).get_data(as_text=True)), "phone": "13955557777"}
    with get_db(app).session() as session:
        before = session.get(Person, person_id).phone
    other = sqlite3.connect(app.config["DATABASE_URL"].removeprefix("sqlite:///"), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process writing (an import's apply)
    try:
        response = c.post(url, data=form)
        page = response.get_data(as_text=True)
        assert response.status_code == 503 and response.headers["Retry-After"] == "30"
        assert "这次操作没有保存，已有数据没有改动" in page and "返回上一页再提交一次" in page
    finally:
        other.execute("ROLLBACK")
        other.close()
    with get_db(app).session() as session:
        assert session.get(Person, person_id).phone == before
    assert c.post(url, data=form).status_code == 302  # the same form, once the lock is free
    with get_db(app).session() as session:
        assert session.get(Person, person_id).phone == "13955557777"

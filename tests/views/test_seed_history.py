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

"""Hostile input on every route: integers beyond 64 bits, negative numbers, dates near year 1 and 9999,
CR/LF, odd Unicode, a UTF-16 file without BOM — answered with 4xx (Chinese page or JSON error), never 500.

Routes are read from the app's URL map, so a new route is fuzzed without editing this file."""

from __future__ import annotations

import io
import itertools
import random

import pytest
from flask import Flask
from flask.testing import FlaskClient
from view_helpers import AuthActions

HOSTILE = ["18446744073709551616", "-1", "0", "0001-01-01", "9999-12-31", "a\r\nSet-Cookie: x=1", "‮𝕏\u0000",
           "' OR 1=1 --", "%00", "9" * 40, "", "2025-02-30", "𠀀" * 300]
PARAMS = ["page", "q", "tag", "area", "as_of", "period", "version", "format", "since", "until", "cursor", "limit", "next",
          "kind", "user", "status", "import", "year", "month", "living", "residence", "id", "decision", "all_of"]
FORM = ["username", "password", "name", "id_number", "valid_from", "status_date", "row_version", "decision", "id", "all_of",
        "kind", "reason", "number", "household_number", "relation", "department", "fields", "tag_codes", "legal_basis",
        "token_id", "grant_id", "action", "current", "new", "repeat", "source", "note", "as_of", "area", "policy"]
PLAUSIBLE = {"kind": "deaths", "decision": "take", "policy": "queue", "action": "save", "id": "1", "reason": "x",
             "valid_from": "0001-01-01", "status_date": "9999-12-31", "row_version": "18446744073709551616"}
UTF16 = "姓名,身份证号\n王八,339901198001010011\n".encode("utf-16-le")  # no BOM


def _urls(app: Flask, rng: random.Random) -> list[tuple[str, str]]:
    out = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in sorted((rule.methods or set()) & {"GET", "POST"}):
            for value in ("18446744073709551616", "1", "x\r\ny", "𝕏"):
                args = {}
                for arg in rule.arguments:
                    converter = rule._converters[arg].__class__.__name__  # type: ignore[attr-defined]
                    args[arg] = (value if value.isdigit() else "1") if converter == "IntegerConverter" else value
                try:
                    path = rule.build(args, append_unknown=False)[1]  # type: ignore[index]
                except Exception:  # noqa: BLE001 - a value a converter refuses: nothing to request
                    continue
                out.append((method, path))
    rng.shuffle(out)
    return sorted(set(out))


@pytest.mark.parametrize("username", ["admin", "mca", "cadre_a"])
def test_no_route_answers_500_to_hostile_input(app: Flask, client: FlaskClient, auth: AuthActions, base_data: dict[str, int],
                                               username: str) -> None:
    rng = random.Random(13)
    auth.login(username)
    failures = []
    for method, path in _urls(app, rng):
        if path in ("/logout", "/password"):
            continue  # would end the session the rest of the walk needs
        values = itertools.cycle(rng.sample(HOSTILE, len(HOSTILE)))
        if method == "GET":
            query = {p: next(values) for p in rng.sample(PARAMS, 6)}
            response = client.get(path, query_string=query)
        else:
            data: dict[str, object] = {f: next(values) for f in rng.sample(FORM, 12)}
            data["file"] = (io.BytesIO(UTF16), "名单.csv")
            response = client.post(path, data=data, content_type="multipart/form-data")
            if response.status_code < 500:  # and once with plausible choices, so the hostile file is read
                plausible = {**PLAUSIBLE, "file": (io.BytesIO(UTF16), "名单.csv")}
                response = client.post(path, data=plausible, content_type="multipart/form-data")
        if response.status_code >= 500:
            failures.append((method, path, response.status_code))
    assert failures == []


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_effective_dates_are_bounded(app: Flask, client: FlaskClient, auth: AuthActions, base_data: dict[str, int],
                                     day: str) -> None:
    from app.db import get_db
    from app.models import Person

    auth.login("cadre_a")
    person = base_data["p1"]
    with get_db(app).session() as session:
        before = session.get(Person, person).model_dump()
    form = client.get(f"/village/person/{person}/edit").get_data(as_text=True)
    assert "valid_from" in form
    response = client.post(f"/village/person/{person}/edit", data={**{k: ("" if v is None else str(v)) for k, v in before.items()
                                                                      if k not in ("id",)}, "phone": "13900001111",
                                                                   "valid_from": day})
    assert response.status_code == 422
    assert "超出合理范围" in response.get_data(as_text=True)
    with get_db(app).session() as session:
        assert session.get(Person, person).phone == before["phone"]  # nothing written

"""A generated scope test: every GET route taking a person, household or area, for every role, with
objects inside and outside the role's scope (need-to-know for departments). It fails on any leak: a
foreign object answered with 200, or a full ID number of a person the role may not see in any page.

The expectations are written by hand from the ``base_data`` fixture, not computed by the code under test."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from view_helpers import GRID_A1, VILLAGE_A, VILLAGE_B, AuthActions

from app.db import get_db
from app.models import Person

ALL_P = {f"p{i}" for i in range(1, 10)}
ALL_H = {"h1", "h2", "h3", "h4"}
# role -> (persons it may see, households it may see, areas it may open)
VISIBLE: dict[str, tuple[set[str], set[str], set[str]]] = {
    "cadre_a": ({"p1", "p2", "p3", "p4", "p5", "p6", "p7"}, {"h1", "h2", "h3"}, {VILLAGE_A, GRID_A1}),
    "cadre_b": ({"p8", "p9"}, {"h4"}, {VILLAGE_B}),
    "grid_a1": ({"p7"}, {"h3"}, {GRID_A1}),
    "township": (ALL_P, ALL_H, {VILLAGE_A, VILLAGE_B, GRID_A1}),
    # 民政: holders of its tags only — the 低保 households h1 and h4 and their members (p6's 党员 is not its tag)
    "mca": ({"p1", "p2", "p3", "p8", "p9"}, {"h1", "h4"}, {VILLAGE_A, VILLAGE_B, GRID_A1}),
    "admin": (ALL_P, ALL_H, {VILLAGE_A, VILLAGE_B, GRID_A1}),
}
ARGS = {"person_id": "p", "household_id": "h", "code": "area"}


def _text(response) -> str:
    """A response's text: HTML/JSON as is, an xlsx download as the values of all its cells."""
    if response.mimetype.endswith("spreadsheetml.sheet"):
        import io

        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(response.data), read_only=True)
        return "\n".join(str(v) for ws in book.worksheets for row in ws.iter_rows(values_only=True) for v in row if v)
    return response.get_data(as_text=True)


def _routes(app: Flask) -> list[tuple[str, str]]:
    """(endpoint, argument kind) of every GET route whose only argument is a person, household or area."""
    out = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or len(rule.arguments) != 1:
            continue
        (arg,) = rule.arguments
        if arg in ARGS:
            out.append((rule.endpoint, arg))
    return sorted(out)


def test_the_matrix_covers_the_record_pages(app: Flask) -> None:
    endpoints = {e for e, _ in _routes(app)}
    assert {"village.person_show", "village.household_show", "village.person_list", "village.household_list"} <= endpoints


@pytest.mark.parametrize("role", sorted(VISIBLE))
def test_no_role_reads_outside_its_scope(app: Flask, client: FlaskClient, auth: AuthActions, base_data: dict[str, int],
                                         role: str) -> None:
    from flask import url_for

    with get_db(app).session() as session:
        ids = {k: session.get(Person, v).id_number for k, v in base_data.items() if k.startswith("p")}
    persons, households, areas = VISIBLE[role]
    auth.login(role)
    leaks = []
    for endpoint, arg in _routes(app):
        kind = ARGS[arg]
        if kind == "p":
            objects = [(k, base_data[k], k in persons) for k in sorted(ALL_P)]
        elif kind == "h":
            objects = [(k, base_data[k], k in households) for k in sorted(ALL_H)]
        else:
            objects = [(c, c, c in areas) for c in (VILLAGE_A, VILLAGE_B, GRID_A1)]
        for key, value, allowed in objects:
            with app.test_request_context():
                url = url_for(endpoint, **{arg: value})
            response = client.get(url)
            body = _text(response)
            if not allowed and response.status_code == 200:  # a redirect leads to a page checked itself
                leaks.append((url, key, response.status_code))
            keepers_only = endpoint.startswith("workbook.") and role == "mca"  # the village workbook is a keeper's tool
            if allowed and response.status_code == 403 and not keepers_only:
                leaks.append((url, key, "refused though in scope"))
            shown = {p for p, number in ids.items() if number in body}
            if shown - persons:
                leaks.append((url, key, f"full ID of {sorted(shown - persons)}"))
    assert leaks == [], "\n".join(map(str, leaks))

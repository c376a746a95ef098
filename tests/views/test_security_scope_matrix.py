"""A generated scope test: every GET route taking a person, household or area, for every role, with
objects inside and outside the role's scope (need-to-know for departments). It fails on any leak: a
foreign object answered with 200, or a full ID number of a person the role may not see in any page.

The expectations are written by hand from the ``base_data`` fixture, not computed by the code under test."""

from __future__ import annotations

import re

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


# -- every GET route, for every role: no page names or identifies a person the role may not see ---------------

# Route arguments beyond persons, households and areas, filled from ``more_objects``.
OBJECT_ARGS = {"person_id", "household_id", "code", "house_id", "import_id", "task_id", "organisation_id"}
HOUSES = {"house_h1": "h1", "house_h2": "h2", "house_h4": "h4"}


@pytest.fixture
def more_objects(app: Flask, base_data: dict[str, int], users: dict[str, int]) -> dict[str, int]:
    """Houses of h1, h2 and h4, an organisation, a village ledger import and two collection tasks."""
    from datetime import date

    from app.models import ImportBatch, ImportFile, User
    from app.services import houses, organisations, persons, reports, tasks

    ids = dict(base_data)
    with get_db(app).transaction() as session:
        admin = session.get(User, users["admin"])
        for key, household in HOUSES.items():
            area = VILLAGE_B if household == "h4" else VILLAGE_A
            ids[key] = int(houses.create_house(session, admin, {"address": f"某地{key}号", "area_code": area,
                                                                "household_id": base_data[household]}).id)
        ids["org"] = int(organisations.create_organisation(session, admin, {"name": "甲村合作社", "kind": "1",
                                                                            "area_code": VILLAGE_A}).id)
        batch = ImportBatch(kind="ledger", file_name="台账.xlsx", sha256="1" * 64, area_code=VILLAGE_A,
                            actor_id=users["cadre_a"])
        session.add(batch)
        session.flush()
        session.add(ImportFile(import_id=batch.id, content=b"-"))
        ids["import"] = int(batch.id)
        registry = reports.registry_for(app, session)
        for key, issuer, report_id in (("task_mca", "mca", "mca_dibao_roster"), ("task_town", "township", "mca_aged_roster")):
            ids[key] = int(tasks.issue_task(session, registry, session.get(User, users[issuer]), tasks.IssueRequest(
                report_id, [VILLAGE_A, VILLAGE_B], persons.today(), date(2099, 12, 31))).id)
    return ids


def _object_routes(app: Flask) -> list[tuple[str, tuple[str, ...]]]:
    out = []
    for rule in app.url_map.iter_rules():
        if "GET" in (rule.methods or ()) and set(rule.arguments) <= OBJECT_ARGS and not rule.endpoint.startswith(("static", "api.")):
            out.append((rule.endpoint, tuple(sorted(rule.arguments))))
    return sorted(out)


def _values(arg: str, ids: dict[str, int]) -> list[object]:
    if arg == "person_id":
        return [ids[k] for k in sorted(ALL_P)]
    if arg == "household_id":
        return [ids[k] for k in sorted(ALL_H)]
    if arg == "house_id":
        return [ids[k] for k in sorted(HOUSES)]
    if arg == "task_id":
        return [ids["task_mca"], ids["task_town"]]
    if arg == "import_id":
        return [ids["import"]]
    if arg == "organisation_id":
        return [ids["org"]]
    return [VILLAGE_A, VILLAGE_B, GRID_A1]


def test_the_wide_matrix_covers_the_routes_of_the_brief(app: Flask) -> None:
    endpoints = {e for e, _ in _object_routes(app)}
    assert {"village.house_list", "village.house_show", "village.organisation_list", "village.observation_list",
            "imports.show", "imports.rejects", "imports.conflicts", "imports.todo", "imports.flowback_page",
            "tasks.village", "tasks.show", "tasks.index"} <= endpoints


@pytest.mark.parametrize("role", sorted(VISIBLE))
def test_no_page_names_a_person_or_household_outside_the_roles_need_to_know(
        app: Flask, client: FlaskClient, auth: AuthActions, more_objects: dict[str, int], role: str) -> None:
    """Every GET page taking records, areas, houses, imports or tasks (or nothing), every value: the body may
    hold the name or full ID number of a person, or the 户号 of a household, only where the role may see it."""
    import itertools

    from flask import url_for

    from app.models import Household

    with get_db(app).session() as session:
        people = {k: session.get(Person, more_objects[k]) for k in ALL_P}
        numbers = {k: session.get(Household, more_objects[k]).number for k in ALL_H}
    persons, households, _areas = VISIBLE[role]
    auth.login(role)
    leaks = []
    for endpoint, args in _object_routes(app):
        for combo in itertools.product(*(_values(a, more_objects) for a in args)):
            with app.test_request_context():
                url = url_for(endpoint, **dict(zip(args, combo, strict=True)))
            response = client.get(url)
            assert response.status_code < 500, url
            body = _text(response)
            shown = {k for k, p in people.items() if p.id_number in body or p.name in body}
            if shown - persons:
                leaks.append((url, f"persons {sorted(shown - persons)}"))
            numbered = {k for k, n in numbers.items() if re.search(rf"{n}(?!\d)", body)}  # h2's number prefixes h3's
            if numbered - households:
                leaks.append((url, f"households {sorted(numbered - households)}"))
    assert leaks == [], "\n".join(map(str, leaks))

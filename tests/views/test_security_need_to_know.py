"""Department need-to-know: persons outside a department's tags are refused, ID numbers masked, other
departments' health tags hidden, every visit recorded in the read audit (``ybt audit list``)."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from view_helpers import COUNTY, AuthActions

from app.db import get_db
from app.models import DepartmentGrant, Person, User
from app.services import tags


@pytest.fixture
def health_data(app: Flask, base_data: dict[str, int], users: dict[str, int], make_user) -> dict[str, int]:
    """p1 (village A, household h1) has 高血压 (卫健) and lives in h1; h2 is a 监测户 (农业农村).

    So 农业农村 may see h2's members (p4, p5, p6) but not p1; 卫健 sees p1 with its 高血压."""
    ids = dict(base_data)
    ids["moa"] = make_user("moa", "department", COUNTY, "moa")
    ids["nhc"] = make_user("nhc", "department", COUNTY, "nhc")
    with get_db(app).transaction() as session:
        admin = session.get(User, users["admin"])
        tags.grant_tag(session, admin, "hypertension", base_data["p1"], date(2024, 1, 1))
        tags.grant_tag(session, admin, "hypertension", base_data["p4"], date(2024, 1, 1))
        tags.grant_tag(session, admin, "monitored", base_data["h2"], date(2024, 1, 1), attrs={"kind": "2"})
    return ids


def _id_of(app: Flask, person_id: int) -> str:
    with get_db(app).session() as session:
        return session.get(Person, person_id).id_number


def test_department_is_refused_a_person_outside_its_need_to_know(app: Flask, client: FlaskClient, auth: AuthActions,
                                                                  health_data: dict[str, int], runner: FlaskCliRunner) -> None:
    full = _id_of(app, health_data["p1"])
    auth.login("moa")
    page = client.get(f"/village/person/{health_data['p1']}")
    html = page.get_data(as_text=True)
    assert page.status_code == 403
    assert full not in html and "高血压" not in html
    assert "业务范围" in html

    result = runner.invoke(args=["audit", "list", "--user", "moa", "--format", "json"])
    assert result.exit_code == 0, result.output
    events = json.loads(result.output)["events"]
    assert [(e["kind"], e["target"], e["detail"].get("refused")) for e in events] == [
        ("person-view", f"person:{health_data['p1']}", True), ("login", "", None)]  # newest first


def test_department_sees_its_own_persons_masked_without_foreign_health_tags(app: Flask, client: FlaskClient, auth: AuthActions,
                                                                            health_data: dict[str, int], runner: FlaskCliRunner) -> None:
    p4 = health_data["p4"]
    full = _id_of(app, p4)
    auth.login("moa")
    html = client.get(f"/village/person/{p4}").get_data(as_text=True)
    assert full not in html
    assert f"{full[:4]}{'*' * 10}{full[-4:]}" in html  # masked: first 4, last 4
    assert "高血压" not in html  # 卫健's sensitive tag

    listing = client.get("/village/339901100201/persons").get_data(as_text=True)
    names = set(re.findall(r"村民(p\d)", listing))
    assert names == {"p4", "p5", "p6"}  # h2 (监测户) members, p6 dead but listed; none of h1 or h3
    assert full not in listing
    # searching by another department's sensitive tag finds nobody (it would disclose who has it)
    by_tag = client.get("/village/339901100201/persons?tag=hypertension").get_data(as_text=True)
    assert "村民p4" not in by_tag

    events = json.loads(runner.invoke(args=["audit", "list", "--user", "moa", "--format", "json"]).output)["events"]
    kinds = [e["kind"] for e in events]
    assert kinds == ["person-search", "person-search", "person-view", "login"]
    view = events[2]
    assert view["records"] == 1 and view["detail"]["unmasked"] == ["address"]  # the shipped 农业农村 grant (0007)


def test_owning_department_and_village_see_the_health_tag(app: Flask, client: FlaskClient, auth: AuthActions,
                                                          health_data: dict[str, int]) -> None:
    p1, full = health_data["p1"], _id_of(app, health_data["p1"])
    auth.login("nhc")
    html = client.get(f"/village/person/{p1}").get_data(as_text=True)
    assert "高血压" in html and full not in html  # its own tag; the ID still masked without a grant
    auth.logout()
    auth.login("cadre_a")
    html = client.get(f"/village/person/{p1}").get_data(as_text=True)
    assert "高血压" in html and full in html  # the village keeping the data sees everything


def test_mca_sees_dibao_household_not_other_persons(client: FlaskClient, auth: AuthActions, health_data: dict[str, int]) -> None:
    auth.login("mca")
    assert client.get(f"/village/person/{health_data['p2']}").status_code == 200  # member of 低保 household h1
    assert client.get(f"/village/person/{health_data['p4']}").status_code == 403  # h2 holds no 民政 tag
    assert client.get(f"/village/household/{health_data['h2']}").status_code == 403
    html = client.get(f"/village/household/{health_data['h1']}").get_data(as_text=True)
    assert "高血压" not in html


def test_a_grant_unmasks_the_id_number(app: Flask, client: FlaskClient, auth: AuthActions, health_data: dict[str, int]) -> None:
    p4, full = health_data["p4"], _id_of(app, health_data["p4"])
    with get_db(app).transaction() as session:
        session.add(DepartmentGrant(department="moa", fields=["id_number"], tag_codes=[], legal_basis="测试依据",
                                    granted_by="admin"))
    auth.login("moa")
    assert full in client.get(f"/village/person/{p4}").get_data(as_text=True)
    assert client.get(f"/village/person/{health_data['p1']}").status_code == 403  # still outside its tags


def test_disability_certificate_number_is_masked_like_the_id(app: Flask, client: FlaskClient, auth: AuthActions,
                                                             users: dict[str, int], base_data: dict[str, int], make_user) -> None:
    """残疾证号 = ID number + 2 digits: 残联 (owner of the tag, no ID grant) sees the tag but not the number."""
    make_user("cdpf", "department", COUNTY, "cdpf")
    p1 = base_data["p1"]
    full = _id_of(app, p1)
    with get_db(app).transaction() as session:
        admin = session.get(User, users["admin"])
        tags.grant_tag(session, admin, "disabled", p1, date(2024, 1, 1),
                       attrs={"category": "1", "grade": "2", "certificate_no": f"{full}12"})
    auth.login("cdpf")
    html = client.get(f"/village/person/{p1}").get_data(as_text=True)
    assert "持证残疾" in html and full not in html
    auth.logout()
    auth.login("cadre_a")
    assert f"{full}12" in client.get(f"/village/person/{p1}").get_data(as_text=True)

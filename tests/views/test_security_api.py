"""The data-sharing API: tokens from ``ybt api-token create``, 401 without, the OpenAPI 3 document,
the change feed's need-to-know and cursor, and an audit row per call."""

from __future__ import annotations

import json
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from openapi_spec_validator import validate
from sqlalchemy import select

from app.db import get_db
from app.models import AuditEvent


def _token(runner: FlaskCliRunner, department: str) -> str:
    result = runner.invoke(args=["api-token", "create", "--department", department])
    assert result.exit_code == 0, result.output
    return result.output.strip()


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_openapi_document_is_valid_and_lists_every_api_path(app: Flask, client: FlaskClient) -> None:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    validate(document)  # raises on any violation of the OpenAPI 3 schema
    routes = {r.rule for r in app.url_map.iter_rules() if r.rule.startswith("/api/")}
    expected = {r.replace("<", "{").replace(">", "}") for r in routes} - {"/api/openapi.json", "/api/docs"}
    assert set(document["paths"]) == expected
    assert {"/api/reports", "/api/reports/{report_id}", "/api/changes", "/api/codelists"} <= expected
    docs = client.get("/api/docs").get_data(as_text=True)
    assert "GET /api/changes" in docs
    assert re.search(r"<script(?![^>]*\bsrc=)", docs) is None  # no inline script (files under static/js only)


@pytest.mark.usefixtures("users")
def test_reports_need_a_valid_token(app: Flask, client: FlaskClient, runner: FlaskCliRunner) -> None:
    anonymous = client.get("/api/reports")
    assert anonymous.status_code == 401
    assert anonymous.get_json()["error"]["issues"][0]["code"] == "not-logged-in"
    assert client.get("/api/reports", headers=_bearer("ybt_forged")).status_code == 401

    token = _token(runner, "mca")
    ok = client.get("/api/reports", headers=_bearer(token))
    assert ok.status_code == 200
    catalogue = ok.get_json()["reports"]
    assert catalogue and {r["department"] for r in catalogue} == {"mca"}

    listed = runner.invoke(args=["api-token", "list"]).output
    token_id = int(listed.split()[0].lstrip("#"))
    assert runner.invoke(args=["api-token", "revoke", str(token_id)]).exit_code == 0
    assert client.get("/api/reports", headers=_bearer(token)).status_code == 401  # revoked at once

    with get_db(app).session() as session:
        rows = session.execute(select(AuditEvent).where(AuditEvent.kind == "api").order_by(AuditEvent.id)).scalars().all()
    assert [(r.target, r.detail["status"]) for r in rows] == [
        ("GET /api/reports", 401), ("GET /api/reports", 401), ("GET /api/reports", 200), ("GET /api/reports", 401)]
    assert rows[2].username.startswith("api:ybt_") and rows[2].records == len(catalogue)


def test_token_is_stored_hashed(app: Flask, runner: FlaskCliRunner) -> None:
    token = _token(runner, "nhc")
    with get_db(app).session() as session:
        from app.models import ApiToken

        row = session.execute(select(ApiToken)).scalar_one()
    assert token not in (row.token_hash, row.prefix) and len(row.token_hash) == 64


def test_unknown_department_is_refused(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["api-token", "create", "--department", "nope"])
    assert result.exit_code == 1 and "部门代码" in result.output


def test_change_feed_respects_need_to_know_and_pages(app: Flask, client: FlaskClient, runner: FlaskCliRunner,
                                                     base_data: dict[str, int]) -> None:
    """mca sees h1 and h4 (低保) with their members and its tags; never p4-p7 (no 民政 tag)."""
    from sqlalchemy import update

    from app.models import DepartmentGrant
    from app.models.base import utcnow

    with get_db(app).transaction() as session:  # the shipped grant (migration 0007) would show full IDs
        session.execute(update(DepartmentGrant).where(DepartmentGrant.department == "mca").values(revoked_at=utcnow()))
    token = _token(runner, "mca")
    seen: list[dict] = []
    cursor = 0
    for _ in range(50):
        page = client.get(f"/api/changes?limit=3&cursor={cursor}", headers=_bearer(token)).get_json()
        seen += page["changes"]
        if page["next_cursor"] is None:
            break
        assert len(page["changes"]) == 3
        cursor = page["next_cursor"]
    persons = {c["entity_id"] for c in seen if c["entity"] == "person"}
    expected = {str(base_data[k]) for k in ("p1", "p2", "p3", "p8", "p9")}
    assert persons == expected
    households = {c["entity_id"] for c in seen if c["entity"] == "household"}
    assert households == {str(base_data["h1"]), str(base_data["h4"])}
    id_changes = [c["changes"]["id_number"][1] for c in seen if "id_number" in c["changes"]]
    assert len(id_changes) == 5 and all("*" in v for v in id_changes)  # masked: no grant
    assert client.get("/api/changes?limit=0", headers=_bearer(token)).status_code == 422
    assert client.get("/api/changes?since=99999999999999999999", headers=_bearer(token)).status_code == 422


def test_codelists_and_json_errors(client: FlaskClient, runner: FlaskCliRunner) -> None:
    token = _token(runner, "moa")
    lists = client.get("/api/codelists", headers=_bearer(token)).get_json()["code_lists"]
    assert lists["sex"]["1"] == "男"
    missing = client.get("/api/codelists/nope", headers=_bearer(token))
    assert missing.status_code == 404
    assert set(json.loads(missing.data)) == {"error"}


def test_run_report_as_json(client: FlaskClient, runner: FlaskCliRunner, base_data: dict[str, int]) -> None:
    token = _token(runner, "mca")
    catalogue = client.get("/api/reports", headers=_bearer(token)).get_json()["reports"]
    roster = next(r for r in catalogue if r["kind"] == "roster")
    response = client.get(f"{roster['url']}?area=339901100201&purpose=核对", headers=_bearer(token))
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    body = response.get_json()
    assert body and isinstance(body, dict)
    text = json.dumps(body, ensure_ascii=False)
    assert client.get("/api/reports/nope", headers=_bearer(token)).status_code == 404
    assert client.get(f"{roster['url']}?as_of=0001-01-01", headers=_bearer(token)).status_code == 422
    assert "339901100201" in text
    other = next(r for r in client.get("/api/reports", headers=_bearer(_token(runner, "nhc"))).get_json()["reports"])
    assert client.get(other["url"], headers=_bearer(token)).status_code == 403  # another department's report


def test_unmasked_report_over_the_api_needs_a_purpose(app: Flask, client: FlaskClient, runner: FlaskCliRunner,
                                                       base_data: dict[str, int]) -> None:
    token = _token(runner, "mca")
    refused = client.get("/api/reports/mca_dibao_roster?area=339901100201", headers=_bearer(token))
    assert refused.status_code == 422
    assert refused.get_json()["error"]["issues"][0]["code"] == "purpose-required"
    assert "请填写用途" in refused.get_json()["error"]["issues"][0]["message"]
    ok = client.get("/api/reports/mca_dibao_roster?area=339901100201&purpose=低保系统同步", headers=_bearer(token))
    assert ok.status_code == 200
    assert client.get("/api/reports/mca_needy_by_village?area=339901100201", headers=_bearer(token)).status_code == 200
    with get_db(app).session() as session:
        rows = session.execute(select(AuditEvent.target, AuditEvent.purpose).where(AuditEvent.kind == "api")
                               .order_by(AuditEvent.id)).all()
    assert [(t.split("?")[0], p) for t, p in rows] == [
        ("GET /api/reports/mca_dibao_roster", None), ("GET /api/reports/mca_dibao_roster", "低保系统同步"),
        ("GET /api/reports/mca_needy_by_village", None)]


def test_rate_limit_per_token_answers_429_with_retry_after(app: Flask, client: FlaskClient, runner: FlaskCliRunner) -> None:
    """3 calls a minute: the 4th of one token is refused; another token is not; a new minute starts afresh."""
    from datetime import timedelta

    from sqlalchemy import update

    from app.models import ApiToken
    from app.models.base import utcnow

    app.config["YBT_API_CALLS_PER_MINUTE"] = 3
    first, second = _token(runner, "mca"), _token(runner, "mca")
    assert [client.get("/api/me", headers=_bearer(first)).status_code for _ in range(3)] == [200, 200, 200]
    refused = client.get("/api/codelists", headers=_bearer(first))
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    body = refused.get_json()
    assert body["error"]["status"] == 429 and body["error"]["issues"][0]["code"] == "rate-limited"
    assert "每分钟最多 3 次" in body["error"]["issues"][0]["message"]
    assert client.get("/api/me", headers=_bearer(second)).status_code == 200  # counted per token
    with get_db(app).transaction() as session:  # the minute is over
        session.execute(update(ApiToken).values(window_start=utcnow() - timedelta(seconds=61)))
    assert client.get("/api/me", headers=_bearer(first)).status_code == 200
    with get_db(app).session() as session:
        statuses = [e.detail["status"] for e in session.execute(select(AuditEvent).where(AuditEvent.kind == "api")
                                                                  .order_by(AuditEvent.id)).scalars()]
    assert statuses == [200, 200, 200, 429, 200, 200]  # the refused call is on record too
    doc = client.get("/api/openapi.json").get_json()
    validate(doc)
    assert doc["paths"]["/api/me"]["get"]["responses"]["429"] == {"$ref": "#/components/responses/RateLimited"}


def test_change_feed_withholds_foreign_tag_attributes_and_masks_certificate_numbers(
        app: Flask, client: FlaskClient, runner: FlaskCliRunner, base_data: dict[str, int], users: dict[str, int]) -> None:
    """农业农村 sees h1 once it is a 监测户, and its 低保 tag, but not the 低保 attributes (no tag_attributes
    grant); 残联 sees its own 持证残疾 tag of p1 with the 证号 (ID number + 2 digits) masked (no ID grant)."""
    from datetime import date

    from app.models import Person, User
    from app.services import tags

    with get_db(app).transaction() as session:
        admin = session.get(User, users["admin"])
        full = session.get(Person, base_data["p1"]).id_number
        tags.grant_tag(session, admin, "monitored", base_data["h1"], date(2024, 1, 1), attrs={"kind": "1"})
        tags.grant_tag(session, admin, "disabled", base_data["p1"], date(2024, 1, 1),
                       attrs={"category": "1", "grade": "2", "certificate_no": f"{full}12"})

    def feed(department: str) -> list[dict]:
        return client.get("/api/changes?limit=500", headers=_bearer(_token(runner, department))).get_json()["changes"]

    moa_tags = [c for c in feed("moa") if c["entity"] == "tag" and "attrs" in c["changes"]]
    kinds = sorted(str(c["changes"]["attrs"]) for c in moa_tags)
    # 低保 (h1), 党员 (p1) and 留守老人 (p2, h1's members): other departments' — withheld; its own 监测户's shown
    assert kinds == ["[None, None]"] * 3 + ["[None, {'kind': '1'}]"]
    cdpf = [c for c in feed("cdpf") if c["entity"] == "tag" and c["changes"].get("tag_code", [None, None])[1] == "disabled"]
    assert len(cdpf) == 1
    number = cdpf[0]["changes"]["attrs"][1]["certificate_no"]
    assert full not in json.dumps(cdpf, ensure_ascii=False) and number.startswith(full[:4]) and "*" in number

"""The import pages: upload → preview (nothing written) → apply; conflicts keep/take; rejects download;
flow-back upload and confirm / dismiss; scope; the upload limit; landing-page links."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hand_county import VILLAGE_A
from ledger import PASSWORD, build_county, pid
from openpyxl import load_workbook
from sqlalchemy import select
from test_end_to_end import SUN, workbook

from app.db import get_db
from app.models import FlowbackAlert, ImportBatch, ImportConflict, Person
from app.services import persons

pytest.importorskip("importers.pipeline")

ZHAO = pid(date(1944, 4, 4), 41)


@pytest.fixture
def county_app(app: Flask):
    with get_db(app).session() as session:
        county = build_county(session)
        persons.create_person(session, county.admin, {"id_number": ZHAO, "name": "赵一", "area_code": VILLAGE_A},
                              effective=date(2020, 1, 1))
        session.commit()
    return county


def login(client: FlaskClient, username: str) -> None:
    assert client.post("/login", data={"username": username, "password": PASSWORD}).status_code == 302


def upload(client: FlaskClient, content: bytes, name: str = "甲村花名册.xlsx", **form: str):
    return client.post("/imports/", data={"file": (io.BytesIO(content), name), "area": VILLAGE_A, "policy": "queue", **form},
                       content_type="multipart/form-data")


def person(app: Flask, id_number: str) -> Person | None:
    with get_db(app).session() as session:
        return session.execute(select(Person).where(Person.id_number == id_number)).scalar_one_or_none()


def test_upload_preview_apply(app: Flask, client: FlaskClient, county_app) -> None:
    login(client, "cadre_a")
    page = client.get("/imports/")
    assert page.status_code == 200 and "上传并预览" in page.text and "处理中" in page.text
    response = upload(client, workbook())
    assert response.status_code == 302
    preview = client.get(response.headers["Location"])
    assert "这是预览" in preview.text and "孙三" in preview.text
    assert person(app, SUN) is None  # nothing written by the preview
    import_id = int(re.search(r"/imports/(\d+)", response.headers["Location"])[1])
    applied = client.post(f"/imports/{import_id}/apply", data={"policy": "queue"}, follow_redirects=True)
    assert "已导入：写入 3 行" in applied.text and "本次导入的修改记录" in applied.text
    assert person(app, SUN).name == "孙三"
    # the list shows it; another village's cadre does not see it
    assert "甲村花名册.xlsx" in client.get("/imports/").text
    client.post("/logout")
    login(client, "cadre_b")
    assert "甲村花名册.xlsx" not in client.get("/imports/").text
    assert client.get(f"/imports/{import_id}").status_code == 403


def test_conflict_queue_and_rejects(app: Flask, client: FlaskClient, county_app) -> None:
    login(client, "cadre_a")
    import_id = int(re.search(r"/imports/(\d+)", upload(client, workbook()).headers["Location"])[1])
    client.post(f"/imports/{import_id}/apply")
    changed = workbook(li_phone="13900000002", li_name="李肆", zhou_id="33990119900303003")  # a short ID: rejected
    second = int(re.search(r"/imports/(\d+)", upload(client, changed, "新花名册.xlsx").headers["Location"])[1])
    page = client.post(f"/imports/{second}/apply", follow_redirects=True).text
    assert "冲突 1 行" in page and "拒绝 1 行" in page
    queue = client.get(f"/imports/conflicts?import={second}").text
    assert "李四" in queue and "李肆" in queue and "保留系统值" in queue
    with get_db(app).session() as session:
        conflict = session.execute(select(ImportConflict)).scalar_one()
    tampered = client.post("/imports/conflicts", data={"all_of": "x1", "decision": "take", "import": second})
    assert tampered.status_code == 302  # a tampered form selects nothing: no error page, nothing changed
    with get_db(app).session() as session:
        assert session.get(ImportConflict, conflict.id).status == "open"
    client.post("/imports/conflicts", data={"id": conflict.id, "decision": "take", "import": second})
    with get_db(app).session() as session:
        assert session.get(ImportConflict, conflict.id).status == "taken"
    assert "没有待处理的冲突" in client.get(f"/imports/conflicts?import={second}").text
    download = client.get(f"/imports/{second}/rejects.xlsx")
    assert download.status_code == 200 and download.mimetype.endswith("spreadsheetml.sheet")
    assert "filename*=UTF-8''" in download.headers["Content-Disposition"]
    ws = load_workbook(io.BytesIO(download.data)).worksheets[0]
    assert any("33990119900303003" in str(c) for row in ws.iter_rows(values_only=True) for c in row if c)


def test_bad_upload_and_limit(app: Flask, client: FlaskClient, county_app) -> None:
    login(client, "cadre_a")
    missing = client.post("/imports/", data={"area": VILLAGE_A}, content_type="multipart/form-data")
    assert missing.status_code == 422 and "请选择要上传的文件" in missing.text
    bad = upload(client, b"%PDF-1.4 not a sheet", "scan.pdf", )
    assert bad.status_code == 302  # a rejected file is recorded and shown with its reason
    shown = client.get(bad.headers["Location"]).text
    assert "文件被拒绝" in shown
    app.config["MAX_CONTENT_LENGTH"] = 1000
    too_big = upload(client, b"x" * 5000, "big.xlsx")
    assert too_big.status_code == 413 and "MB 的上限" in too_big.text
    with get_db(app).session() as session:
        assert [b.status for b in session.execute(select(ImportBatch)).scalars()] == ["rejected"]


def test_flowback_confirm_and_dismiss(app: Flask, client: FlaskClient, county_app) -> None:
    login(client, "town_1")
    deaths = f"姓名,身份证号,死亡日期\n赵一,{ZHAO},2025-03-02\n".encode("gbk")
    response = client.post("/imports/flowback", data={"kind": "deaths", "file": (io.BytesIO(deaths), "死亡名单.csv")},
                           content_type="multipart/form-data", follow_redirects=True)
    assert "死亡名单已核对：匹配 1" in response.text and "已死亡但仍登记在世" in response.text
    with get_db(app).session() as session:
        alert = session.execute(select(FlowbackAlert)).scalar_one()
    client.post("/logout")
    login(client, "cadre_b")
    assert "赵一" not in client.get("/imports/flowback").text
    client.post(f"/imports/alerts/{alert.id}/confirm")  # out of scope: refused, nothing changes
    assert person(app, ZHAO).living_status == "1"
    client.post("/logout")
    login(client, "cadre_a")
    refused = client.post(f"/imports/alerts/{alert.id}/dismiss", data={"reason": ""}, follow_redirects=True)
    assert "忽略提醒须填写原因" in refused.text
    done = client.post(f"/imports/alerts/{alert.id}/confirm", data={"next": "/imports/flowback"}, follow_redirects=True)
    assert "已确认：赵一" in done.text
    zhao = person(app, ZHAO)
    assert (zhao.living_status, zhao.status_date) == ("2", date(2025, 3, 2))


def test_landing_pages_link_the_import_pages(client: FlaskClient, county_app) -> None:
    login(client, "cadre_a")
    assert "/imports/" in client.get("/").text
    client.post("/logout")
    login(client, "town_1")
    assert "/imports/" in client.get("/").text
    assert "按文件中的“所在村”列（青石镇）" in client.get("/imports/").text


def test_import_preview_and_rejects_download_are_audited(app: Flask, client: FlaskClient, county_app) -> None:
    from app.models import AuditEvent

    login(client, "cadre_a")
    import_id = int(re.search(r"/imports/(\d+)", upload(client, workbook()).headers["Location"])[1])
    client.get(f"/imports/{import_id}")
    client.get(f"/imports/{import_id}/rejects.xlsx")
    with get_db(app).session() as session:
        rows = session.execute(select(AuditEvent).where(AuditEvent.kind.in_(["import-view", "download"]))
                               .order_by(AuditEvent.id)).scalars().all()
    assert [(r.username, r.kind, r.target.split()[0]) for r in rows] == [
        ("cadre_a", "import-view", f"import:{import_id}"), ("cadre_a", "download", f"import:{import_id}")]

"""Issue 15 through the web: a crafted workbook and a reader crash end in a Chinese file issue on the
import page, the worker keeps serving; a backslash-path zip imports as Excel reads it."""

from __future__ import annotations

import io
import sys
from datetime import date
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hand_county import VILLAGE_A
from ledger import PASSWORD, build_county, pid
from sqlalchemy import select

from app.db import get_db
from app.models import ImportBatch, Person

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "importers"))
from crafted import far_cell_workbook, package, sheet_xml  # noqa: E402

HEAD = pid(date(1961, 6, 1), 51)
WIFE = pid(date(1963, 2, 2), 62)
ROWS: list[list[object]] = [["户号", "姓名", "身份证号", "性别", "与户主关系"],
                            ["H-700", "钱一", HEAD, "男", "户主"], ["H-700", "吴二", WIFE, "女", "老伴"]]


@pytest.fixture
def county_app(app: Flask):
    with get_db(app).session() as session:
        county = build_county(session)
        session.commit()
    return county


def login(client: FlaskClient) -> None:
    assert client.post("/login", data={"username": "cadre_a", "password": PASSWORD}).status_code == 302


def upload(client: FlaskClient, content: bytes, name: str):
    return client.post("/imports/", data={"file": (io.BytesIO(content), name), "area": VILLAGE_A, "policy": "queue"},
                       content_type="multipart/form-data")


def test_crafted_grid_and_reader_crash_shown_worker_alive(app: Flask, client: FlaskClient, county_app,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    login(client)
    far = upload(client, far_cell_workbook(ROWS), "考勤.xlsx")
    assert far.status_code == 302
    assert "超过上限10,000,000个，已拒绝读取" in client.get(far.headers["Location"]).text
    # a grid under the cap (A1..I1,000,000: 9 million cells, ~300 MB in the native reader) with the reading
    # child limited to 300 MB: the child dies, the page says so, and this worker serves the next request
    monkeypatch.setenv("YBT_IMPORT_MEMORY_MB", "300")
    big = upload(client, package(sheet_xml(ROWS, far=[("I1000000", "x")])), "大表.xlsx")
    assert big.status_code == 302
    page = client.get(big.headers["Location"]).text
    assert "读取这个文件需要的内存超过了上限（300MB）" in page and "系统其他功能不受影响" in page
    monkeypatch.delenv("YBT_IMPORT_MEMORY_MB")
    ok = upload(client, package(sheet_xml(ROWS), backslash=True), "考勤导出.xlsx")
    import_id = int(ok.headers["Location"].rsplit("/", 1)[1])
    assert "已导入：写入 2 行，未变 0 行，冲突 0 行，拒绝 0 行" in client.post(f"/imports/{import_id}/apply", follow_redirects=True).text
    with get_db(app).session() as session:
        statuses = [b.status for b in session.execute(select(ImportBatch).order_by(ImportBatch.id)).scalars()]
        people = session.execute(select(Person.name, Person.relation).order_by(Person.name)).all()
    assert statuses == ["rejected", "rejected", "applied"]
    assert sorted(people) == [("吴二", "10"), ("钱一", "02")]  # 老伴: spouse (GB/T 4761 10)


def test_flowback_upload_goes_through_the_safe_reader(app: Flask, client: FlaskClient, county_app) -> None:
    assert client.post("/login", data={"username": "town_1", "password": PASSWORD}).status_code == 302
    far = client.post("/imports/flowback", data={"kind": "deaths", "file": (io.BytesIO(far_cell_workbook(ROWS)), "死亡名单.xlsx")},
                      content_type="multipart/form-data")
    assert far.status_code == 422 and "超过上限10,000,000个，已拒绝读取" in far.text
    # an honest list still reads (no match: nobody of the list is registered)
    ok = client.post("/imports/flowback", data={"kind": "deaths", "file": (io.BytesIO(package(sheet_xml(
        [["姓名", "身份证号", "死亡日期"], ["钱一", HEAD, "2025-03-02"]]))), "死亡名单.xlsx")},
        content_type="multipart/form-data", follow_redirects=True)
    assert ok.status_code == 200 and "死亡名单已核对：匹配 0，未匹配 1" in ok.text


def test_preview_shows_what_is_imported_with_a_warning(app: Flask, client: FlaskClient, county_app) -> None:
    from dibao_roster import roster

    login(client)
    response = upload(client, roster(with_kind=False), "低保花名册.xlsx")
    page = client.get(response.headers["Location"]).text
    assert "已导入，但有提示" in page
    assert "联系电话“138000000”格式不正确，此项未导入（其余照常导入）" in page
    assert page.count("低保的低保类别未填写，标签照常导入，该项记为“待补充”") == 3
    assert "第8行" in page and "身份证号码校验位错误" in page  # the one refused row

"""The round trip through the web pages: download, upload, preview, choose, apply, discard, refusals."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from village_data import VILLAGE_A, VILLAGE_B, Village, build, edit, find_row, set_cell

from app.db import get_db
from app.models import Person, WorkbookUpload
from app.services import persons
from app.services.codelists import clear_cache

PASSWORD = "password-123"


@pytest.fixture
def web(app: Flask) -> Iterator[Village]:
    clear_cache()
    with get_db(app).session() as session:
        yield build(session)


def login(client: FlaskClient, username: str = "cadre_a") -> None:
    response = client.post("/login", data={"username": username, "password": PASSWORD})
    assert response.status_code == 302


def post_file(client: FlaskClient, content: bytes, name: str = "甲村一表.xlsx", code: str = VILLAGE_A):  # noqa: ANN201
    return client.post(f"/village/{code}/workbook/uploads", data={"file": (io.BytesIO(content), name)},
                       content_type="multipart/form-data")


def test_download_upload_preview_and_apply_in_the_browser(app: Flask, client: FlaskClient, web: Village) -> None:
    login(client)
    page = client.get(f"/village/{VILLAGE_A}/workbook")
    assert page.status_code == 200 and "下载本村一表" in page.text
    got = client.get(f"/village/{VILLAGE_A}/workbook/download")
    assert got.status_code == 200 and got.mimetype.endswith("spreadsheetml.sheet")
    assert "filename*=UTF-8''%E7%94%B2%E6%9D%91" in got.headers["Content-Disposition"]  # 甲村…
    with get_db(app).transaction() as session:  # another cadre saves 李一 in the meantime
        persons.update_person(session, session.get(type(web.colleague), web.colleague.id), web.ids["li1"], {"phone": "13700002222"})

    def change(wb) -> None:  # noqa: ANN001
        people = wb["人员"]
        set_cell(people, find_row(people, "姓名", "李一"), "联系电话", "13900001111")
        set_cell(people, find_row(people, "姓名", "王一"), "联系电话", "13900003333")

    response = post_file(client, edit(got.data, change))
    assert response.status_code == 302
    preview = client.get(response.headers["Location"])
    assert preview.status_code == 200
    text = preview.text
    assert "冲突（1）" in text and "修改（1）" in text and "13700002222" in text and "13900001111" in text
    digest = text.split('name="digest" value="')[1].split('"')[0]
    key = f"person:{web.ids['li1']}"
    applied = client.post(response.headers["Location"] + "/apply", data={"digest": digest, f"choice-{key}": "take"})
    assert applied.status_code == 302
    done = client.get(applied.headers["Location"])
    assert "已写入" in done.text and "采用表中值的冲突 1 条" in done.text
    with get_db(app).session() as session:
        assert session.get(Person, web.ids["li1"]).phone == "13900001111"
        assert session.get(Person, web.ids["wang1"]).phone == "13900003333"
    again = client.post(response.headers["Location"] + "/apply", data={"digest": digest})
    assert again.status_code == 409 and "已经写入或已放弃" in again.text


def test_bad_uploads_are_explained_on_the_page(app: Flask, client: FlaskClient, web: Village) -> None:
    login(client)
    png = post_file(client, b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "photo.xlsx")
    assert png.status_code == 422 and "而是图片" in png.text and "未被接受" in png.text
    nothing = client.post(f"/village/{VILLAGE_A}/workbook/uploads", data={}, content_type="multipart/form-data")
    assert nothing.status_code == 422 and "请选择要上传的一表文件" in nothing.text
    other = client.get(f"/village/{VILLAGE_B}/workbook")
    assert other.status_code == 403
    app.config["MAX_CONTENT_LENGTH"] = 1024
    big = post_file(client, b"PK\x03\x04" + b"\x00" * 4096)
    assert big.status_code == 413 and "上限" in big.text
    with get_db(app).session() as session:
        assert session.execute(select(func.count()).select_from(WorkbookUpload)).scalar() == 0


def test_discarding_an_upload_writes_nothing_and_cannot_be_applied(app: Flask, client: FlaskClient, web: Village) -> None:
    login(client)
    content = client.get(f"/village/{VILLAGE_A}/workbook/download").data
    content = edit(content, lambda wb: set_cell(wb["人员"], find_row(wb["人员"], "姓名", "李一"), "联系电话", "13900001111"))
    location = post_file(client, content).headers["Location"]
    digest = client.get(location).text.split('name="digest" value="')[1].split('"')[0]
    assert client.post(location + "/discard").status_code == 302
    assert "已放弃" in client.get(location).text
    assert client.post(location + "/apply", data={"digest": digest}).status_code == 409
    with get_db(app).session() as session:
        assert session.get(Person, web.ids["li1"]).phone is None

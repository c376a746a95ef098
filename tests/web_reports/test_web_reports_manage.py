"""Admins check, preview and publish projections in the browser; versions stay reproducible."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

from flask.testing import FlaskClient
from hand_data import COUNTY
from sqlalchemy import func, select
from sqlmodel import Session
from web_report_helpers import NEW_REPORT, REF, body_row, issues, options, text, textarea

from app.models import ReportDefinition

Login = Callable[[str], FlaskClient]
NEEDY_FILE = Path(__file__).resolve().parents[2] / "forms_registry" / "reports" / "mca_needy_by_village.yaml"


def stored(session: Session) -> int:
    session.expire_all()
    return session.execute(select(func.count()).select_from(ReportDefinition)).scalar_one()


def post(client: FlaskClient, source: str, action: str = "check", **extra: object) -> tuple[int, str]:
    response = client.post("/reports/manage", data={"source": source, "action": action, "area": COUNTY,
                                                    "as_of": REF, **extra})
    return response.status_code, text(response) if response.status_code != 302 else response.headers["Location"]


def test_only_admins_manage(login: Login) -> None:
    for username in ("mca", "cadre_1"):
        client = login(username)
        assert client.get("/reports/manage").status_code == 403
        assert client.post("/reports/manage", data={"source": NEW_REPORT, "action": "publish"}).status_code == 403


def test_manage_page_offers_upload_editor_and_buttons(login: Login) -> None:
    page = text(login("admin").get("/reports/manage"))
    assert 'type="file" name="file"' in page and 'class="code-editor"' in page
    assert 'value="check">校验并预览' in page
    assert 'value="publish" disabled' in page  # nothing checked yet


def test_broken_projection_shows_path_and_hint_and_stores_nothing(login: Login, session: Session) -> None:
    client = login("admin")
    broken = NEW_REPORT.replace("indicator: HH_DIBAO}", "indicator: HH_DIBAOO}").replace("department:", "departmnt:")
    for action in ("check", "publish"):
        status, page = post(client, broken, action)
        assert status == 422
        found = issues(page)
        assert "文件 编辑框 位置 columns[0].children[0].indicator 未知的指标“HH_DIBAOO” 是否想写“HH_DIBAO”？" in found
        assert any(i.startswith("文件 编辑框 位置 departmnt") and "是否想写“department”？" in i for i in found), found
        assert 'value="publish" disabled' in page and "report-table" not in page
        assert "HH_DIBAOO" in textarea(page)  # the text is kept for correcting
    assert stored(session) == 0


def test_yaml_syntax_error_names_the_line(login: Login, session: Session) -> None:
    status, page = post(login("admin"), NEW_REPORT.replace("kind: area_summary", "kind area_summary"))
    assert status == 422
    assert any(i.startswith("文件 编辑框 第8行 YAML 格式错误") for i in issues(page)), issues(page)
    assert stored(session) == 0


def test_empty_source_is_refused(login: Login, session: Session) -> None:
    status, page = post(login("admin"), "  \n", "publish")
    assert status == 422 and any("报表定义为空" in i for i in issues(page))
    assert stored(session) == 0


def test_check_previews_on_live_data_without_storing(login: Login, session: Session) -> None:
    status, page = post(login("admin"), NEW_REPORT)
    assert status == 200
    assert issues(page) == []
    assert "校验通过" in page and "mca_dibao_brief@1" in page
    assert 'value="publish" disabled' not in page
    assert '<h2 class="report-title">云溪县低保简表</h2>' in page
    assert body_row(page, "合计")[1] == ["合计", "3", "5"]  # H1 H6 H7; p1 p2 p3 p13 p15
    assert body_row(page, "丙村")[1] == ["丙村", "2", "2"]
    assert stored(session) == 0


def test_upload_a_file(login: Login, session: Session) -> None:
    client = login("admin")
    data = {"action": "check", "source": "", "area": COUNTY, "as_of": REF,
            "file": (io.BytesIO(("\ufeff" + NEW_REPORT).encode("utf-8")), "mca_dibao_brief.yaml")}
    response = client.post("/reports/manage", data=data, content_type="multipart/form-data")
    assert response.status_code == 200
    page = text(response)
    assert "校验通过" in page and textarea(page).startswith("id: mca_dibao_brief")
    data["file"] = (io.BytesIO(NEW_REPORT.encode("gbk")), "gbk.yaml")
    response = client.post("/reports/manage", data=data, content_type="multipart/form-data")
    assert response.status_code == 422
    assert any("须为 UTF-8 编码" in i for i in issues(text(response)))
    assert stored(session) == 0


def test_publish_a_new_report(login: Login, session: Session) -> None:
    client = login("admin")
    status, location = post(client, NEW_REPORT, "publish", note="两列简表")
    assert status == 302 and location.endswith("/reports/mca_dibao_brief?version=1")
    assert stored(session) == 1
    row = session.execute(select(ReportDefinition)).scalar_one()
    assert (row.report_id, row.version, row.note, row.source) == ("mca_dibao_brief", 1, "两列简表", NEW_REPORT)
    page = text(client.get(location))
    assert "已发布 mca_dibao_brief@1：低保简表" in page
    assert "mca_dibao_brief" in text(client.get("/reports/manage"))  # in the published list

    # the 民政 user sees it at once (no restart) and runs it; other departments do not
    mca = login("mca")
    assert 'href="/reports/mca_dibao_brief"' in text(mca.get("/reports/"))
    page = text(mca.get(f"/reports/mca_dibao_brief?area={COUNTY}&as_of={REF}&preview=1"))
    assert body_row(page, "合计")[1] == ["合计", "3", "5"]
    assert "<dd>民救9表</dd>" in page
    assert mca.get(f"/reports/mca_dibao_brief/download?area={COUNTY}&as_of={REF}&format=csv").status_code == 200
    assert "mca_dibao_brief" not in text(login("nhc").get("/reports/"))
    assert login("nhc").get("/reports/mca_dibao_brief").status_code == 403


def test_publishing_an_existing_version_is_refused_with_a_hint(login: Login, session: Session) -> None:
    client = login("admin")
    assert post(client, NEW_REPORT, "publish")[0] == 302
    for action in ("check", "publish"):
        status, page = post(client, NEW_REPORT, action)
        assert status == (200 if action == "check" else 422)
        assert "位置 version 报表“mca_dibao_brief”第1版已存在，不能覆盖 请把 version 改为 2" in issues(page)
        assert 'value="publish" disabled' in page
    # a file version too
    status, page = post(client, NEEDY_FILE.read_text(encoding="utf-8"), "publish")
    assert status == 422
    assert "位置 version 报表“mca_needy_by_village”第1版已存在，不能覆盖 请把 version 改为 2" in issues(page)
    assert stored(session) == 1


def test_new_version_from_an_existing_report_keeps_the_old_one(login: Login, session: Session) -> None:
    client = login("admin")
    page = text(client.get("/reports/manage?from=mca_needy_by_village"))
    source = textarea(page)
    assert source.startswith("id: mca_needy_by_village\nversion: 2\n")
    assert source.replace("version: 2", "version: 1") == NEEDY_FILE.read_text(encoding="utf-8")
    edited = source.replace('title: "{area}困难群众分村汇总表"', 'title: "{area}困难群众分村汇总表（第二版）"')
    status, page = post(client, edited)
    assert status == 200 and "校验通过" in page and "云溪县困难群众分村汇总表（第二版）" in page
    assert post(client, edited, "publish")[0] == 302

    mca = login("mca")
    page = text(mca.get("/reports/mca_needy_by_village"))
    assert options(page, "version") == [("2", "v2（最新）"), ("1", "v1")]
    latest = text(mca.get(f"/reports/mca_needy_by_village?area={COUNTY}&as_of={REF}&preview=1"))
    assert '<h2 class="report-title">云溪县困难群众分村汇总表（第二版）</h2>' in latest
    old = text(mca.get(f"/reports/mca_needy_by_village?area={COUNTY}&as_of={REF}&version=1&preview=1"))
    assert '<h2 class="report-title">云溪县困难群众分村汇总表</h2>' in old
    assert body_row(old, "合计") == body_row(latest, "合计")
    assert '<option value="1" selected>v1</option>' in old
    mca.get(f"/reports/mca_needy_by_village/download?area={COUNTY}&as_of={REF}&version=1&format=csv")
    mca.get(f"/reports/mca_needy_by_village/download?area={COUNTY}&as_of={REF}&format=csv")
    log = text(mca.get("/reports/downloads"))
    assert log.index("困难群众分村汇总表（第二版） v2") < log.index("困难群众分村汇总表 v1")

    # from=… now starts from version 2 and proposes version 3
    assert textarea(text(login("admin").get("/reports/manage?from=mca_needy_by_village"))).startswith(
        "id: mca_needy_by_village\nversion: 3\n")


def test_lower_version_is_refused(login: Login, session: Session) -> None:
    client = login("admin")
    assert post(client, NEW_REPORT.replace("version: 1", "version: 3"), "publish")[0] == 302
    status, page = post(client, NEW_REPORT.replace("version: 1", "version: 2"), "publish")
    assert status == 422 and any("新版本号应大于现有最高版本 3" in i for i in issues(page))
    assert stored(session) == 1

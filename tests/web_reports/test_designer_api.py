"""The designer's server side: the draft and the text are the same YAML (round trip), previews on
live data, errors in Chinese with the property path, department users draft only for their own
department and never publish, a YAML draft opens in the designer."""

from __future__ import annotations

import json

import yaml

DRAFT = {
    "id": "mca_designer_api", "version": 1, "title": "{area}低保简表（{period}）", "department": "mca",
    "frequency": "monthly", "kind": "area_summary", "rows": {"level": "township", "subtotals": False, "total": "top"},
    "column_numbers": True, "statutory": {"表号": "民救9表", "有效期至": "2027年12月", "批准文号": ""},
    "unit_line": "单位：户、人", "notes": [],
    "columns": [{"label": "低保", "children": [{"label": "户数", "indicator": "HH_DIBAO"},
                                              {"label": "人数", "indicator": "P_DIBAO"}]},
                {"label": "特困分散供养占比（%）", "derived": {"share": ["P_TEKUN_DISPERSED", "P_TEKUN"]}, "decimals": 1}],
}


def _preview(client, **body):
    response = client.post("/designer/api/preview", json={"area": "339901000000", "as_of": "2025-06-30", **body})
    assert response.status_code == 200
    return response.get_json()


def test_draft_and_text_round_trip_and_preview(login) -> None:
    client = login("admin")
    got = _preview(client, draft=DRAFT)
    # every indicator of the draft is already in mca_needy_by_village: the admission warning, no error
    assert [(i["code"], i["severity"]) for i in got["issues"]] == [("suspected-duplicate", "warning")]
    assert got["canPublish"] is True
    text = got["yaml"]
    assert "批准文号" not in text  # empty fields are left out
    assert "- {label: 户数, indicator: HH_DIBAO}" in text
    assert yaml.safe_load(text)["columns"] == DRAFT["columns"]
    again = _preview(client, text=text)  # the text view applied back: the same draft, the same text
    assert again["yaml"] == text and again["draft"]["columns"] == DRAFT["columns"]
    html = got["html"]
    # 2025-06-30: 低保户 青石镇 H1, 石门乡 H6 H7 → 3; persons p1 p2 p3 + p13 p15 → 5;
    # 特困 p7 (分散, 青石镇), p13 (集中, 石门乡): share 合计 1/2 = 50.0
    assert "云溪县低保简表（2025年6月）" in html
    # the admission sheet, as on the report-management page: all four indicators are reused, none new
    assert "报表准入审查" in html and '<dd class="admission-reused">4：' in html and '<dd class="admission-new">0</dd>' in html
    assert "mca_needy_by_village" in html.split("报表准入审查")[1].split("</section>")[0]
    assert "<td>合计</td><td class=\"num\">3</td><td class=\"num\">5</td><td class=\"num\">50.0</td>" in html.replace("\n", "")


def test_errors_have_path_and_hint_and_block_publishing(login) -> None:
    client = login("admin")
    bad = json.loads(json.dumps(DRAFT))
    bad["columns"][0]["children"][1]["indicator"] = "P_DIBA"
    got = _preview(client, draft=bad)
    assert got["canPublish"] is False and got["html"] == ""  # no admission sheet for a draft with errors
    issue = got["issues"][0]
    assert issue["path"] == "columns[0].children[1].indicator" and issue["hint"] == "是否想写“P_DIBAO”？"
    response = client.post("/designer/api/publish", json={"draft": bad, "note": "x"})
    assert response.status_code == 400 or response.status_code == 422
    assert client.get("/reports/mca_designer_api").status_code == 404


def test_publish_with_a_note(login) -> None:
    client = login("admin")
    response = client.post("/designer/api/publish", json={"draft": DRAFT, "note": "设计器发布"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["url"] == "/reports/mca_designer_api?version=1"
    manage = client.get("/reports/manage").get_data(as_text=True)
    assert "设计器发布" in manage


def test_department_users_draft_for_their_department_only(login) -> None:
    client = login("mca")
    assert client.get("/designer/").status_code == 200
    other = {**DRAFT, "department": "nhc"}
    got = _preview(client, draft=other)
    assert any(i["code"] == "other-department" and i["path"] == "department" for i in got["issues"])
    assert got["canPublish"] is False
    assert client.post("/designer/api/publish", json={"draft": DRAFT}).status_code == 403
    assert client.post("/designer/api/indicator", json={"indicator": {"code": "X"}, "action": "publish"}).status_code == 403
    assert login("cadre_1").get("/designer/").status_code == 403


def test_a_yaml_draft_opens_in_the_designer(login) -> None:
    client = login("admin")
    page = client.post("/designer/open", data={"source": yaml.safe_dump(DRAFT, allow_unicode=True)}).get_data(as_text=True)
    assert "mca_designer_api" in page and "data-designer=" in page
    broken = client.post("/designer/open", data={"source": "- just a list"})
    assert broken.status_code == 422 and "草稿应为报表定义" in broken.get_data(as_text=True)


def test_admission_rules_show_in_the_preview(login) -> None:
    client = login("admin")
    draft = json.loads(json.dumps(DRAFT))
    del draft["statutory"]["有效期至"]
    got = _preview(client, draft=draft)
    errors = [(i["code"], i["path"]) for i in got["issues"] if i["severity"] == "error"]
    assert errors == [("no-valid-until", "statutory.有效期至")]
    # the admission sheet says what is missing; no preview until it is fixed
    assert got["canPublish"] is False and "<dt>有效期至</dt><dd>未填写（必填）</dd>" in got["html"]
    assert "云溪县低保简表" not in got["html"]


def test_a_published_report_opens_in_the_designer_as_its_next_version(login) -> None:
    client = login("admin")
    show = client.get("/reports/mca_needy_by_village").get_data(as_text=True)
    assert "/designer/?from=mca_needy_by_village" in show
    page = client.get("/designer/?from=mca_needy_by_village").get_data(as_text=True)
    assert '"version": 2' in page and "HH_DIBAO_URBAN" in page

"""报表准入 (admission sheet before publishing), 报表目录 (catalogue page and CLI) and the reverse-mapping
upload that opens a department's form as a draft in the report-definition editor.

Hand-worked expectations against the shipped catalogue (forms_registry/reports):
* HH_DIBAO and P_DIBAO are shown by one report only, mca_needy_by_village (11 indicators).
* OBS_SOWN_PREV (item sown_area) is shown by no report, and no report reads the sown_area item.
"""

from __future__ import annotations

import io
import re
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path

from flask.testing import FlaskClient
from hand_data import COUNTY
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlmodel import Session
from web_report_helpers import NEW_REPORT, REF, issues, text, textarea

from app.models import ReportDefinition
from app.registry.loader import REGISTRY_DIR, load_registry, parse_report, seed_context
from app.services.catalogue import admission, catalogue

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "registry"))
from test_draft import mca_three_level  # noqa: E402

Login = Callable[[str], FlaskClient]

MIXED = """\
id: moa_sown_check
version: 1
title: "{area}播种与低保核对表"
department: moa
frequency: yearly
kind: area_summary
statutory: {表号: 农统9表, 有效期至: 2099-12-31}
columns:
  - {label: 低保户数, indicator: HH_DIBAO}
  - {label: 上年播种面积, indicator: OBS_SOWN_PREV}
  - {label: 高标准农田面积, new_indicator: {name: 高标准农田面积, unit: 亩}}
"""


def _spec(text: str):
    registry = load_registry(REGISTRY_DIR)
    ctx = seed_context()
    ctx.indicators = registry.indicators
    spec, problems = parse_report(text, "t.yaml", ctx)
    assert spec is not None and not [p for p in problems if p.severity == "error"], problems
    return spec, registry


def test_admission_sheet_counts_reused_new_and_village_fields() -> None:
    sheet = admission(*_spec(MIXED))
    assert sheet.reused == ["HH_DIBAO"] and sheet.new == ["OBS_SOWN_PREV"]
    assert sheet.pending == ["高标准农田面积"] and sheet.new_items == ["sown_area"]
    assert sheet.village_fields == 2
    [o] = sheet.overlaps
    assert (o.report_id, o.shared, o.share, o.duplicate) == ("mca_needy_by_village", ["HH_DIBAO"], 0.5, True)
    assert [i.code for i in sheet.issues] == ["suspected-duplicate"]
    assert "疑似重复报表" in sheet.issues[0].message and "困难群众分村汇总表" in sheet.issues[0].message


def test_a_report_generated_entirely_from_base_data_asks_villages_for_nothing() -> None:
    sheet = admission(*_spec(NEW_REPORT))
    assert sheet.village_fields == 0 and sheet.new == [] and sheet.reused == ["HH_DIBAO", "P_DIBAO"]
    assert sheet.duplicates[0].share == 1.0
    spec, registry = _spec(NEW_REPORT.replace("  有效期至: 2099-12-31\n", ""))
    assert [i.code for i in admission(spec, registry).issues if i.severity == "error"] == ["no-valid-until"]


def test_check_shows_the_admission_sheet_and_publishing_needs_valid_until(login: Login, session: Session) -> None:
    client = login("admin")
    data = {"source": NEW_REPORT, "action": "check", "area": COUNTY, "as_of": REF}
    page = text(client.post("/reports/manage", data=data))
    assert "报表准入审查" in page and 'class="overlap-warning">疑似重复报表：与“困难群众分村汇总表”' in page
    assert '<dd class="admission-village">0：全部由基础数据生成</dd>' in page
    no_date = NEW_REPORT.replace("  有效期至: 2099-12-31\n", "")
    for action in ("check", "publish"):
        response = client.post("/reports/manage", data={**data, "source": no_date, "action": action})
        assert response.status_code == 422
        assert any("有效期至" in i for i in issues(text(response)))
    assert session.execute(select(func.count()).select_from(ReportDefinition)).scalar_one() == 0


def test_catalogue_page_cli_and_xlsx(login: Login, session: Session, runner) -> None:
    mca = login("mca")
    assert mca.get(f"/reports/mca_needy_by_village/download?area={COUNTY}&as_of={REF}&format=csv").status_code == 200
    page = text(mca.get("/catalogue"))
    assert page.count('<tr class="status-') == 20
    assert "民救1表" in page and "困难群众分村汇总表" in page
    registry = load_registry(REGISTRY_DIR)
    entries = {e.spec.id: e for e in catalogue(session, registry, today=date(2027, 11, 1))}
    needy = entries["mca_needy_by_village"]
    assert (needy.status, needy.downloads, needy.versions) == ("soon", 1, [1])
    assert needy.last_generated is not None
    assert entries["stats_village_basic"].status == "expired" and entries["cdpf_disabled_roster"].status == "none"
    assert entries["moe_school_age"].status == "valid"
    out = runner.invoke(args=["report", "catalogue", "--format", "json"])
    assert out.exit_code == 0, out.output
    assert '"downloads": 1' in out.stdout and '"表号": "民救1表"' in out.stdout
    xlsx = mca.get("/catalogue?format=xlsx")
    rows = list(load_workbook(io.BytesIO(xlsx.data)).active.iter_rows(values_only=True))
    assert len(rows) == 21 and rows[0][:3] == ("报表编号", "报表名称", "表号")
    assert login("cadre_1").get("/catalogue").status_code == 403


def test_uploading_a_department_form_opens_a_draft_in_the_editor(login: Login, session: Session) -> None:
    client = login("admin")
    response = client.post("/catalogue/draft", data={"form": (io.BytesIO(mca_three_level()), "民政表.xlsx")},
                           content_type="multipart/form-data")
    assert response.status_code == 200
    page = text(response)
    source = textarea(page)
    assert "indicator: HH_DIBAO" in source and "new_indicator:" in source and "临时救助人次" in source
    assert page.count('class="is-unmatched"') == 1 and "需新建指标" in page
    assert "报表准入审查" in page and "疑似重复报表" in page  # 11 of its 11 matched indicators are 民救1表's
    # fix the unmatched column, check and publish: the draft becomes a published report
    fixed = source.replace("new_indicator:\n        name: 临时救助人次", "indicator: P_LEFT_ELDERLY\n      x:").split("\n")
    fixed = "\n".join(line for line in fixed if not line.strip().startswith("x:"))
    assert source.splitlines()[1] == "id: draft_1"  # the 表号 民救1表's letters and digits
    fixed = fixed.replace("id: draft_1", "id: mca_relief")
    published = client.post("/reports/manage", data={"source": fixed, "action": "publish", "area": COUNTY, "as_of": REF})
    assert published.status_code == 302, issues(text(published))
    assert published.headers["Location"].endswith("/reports/mca_relief?version=1")
    bad = client.post("/catalogue/draft", data={"form": (io.BytesIO(b"%PDF-1.4"), "x.xlsx")},
                      content_type="multipart/form-data")
    assert bad.status_code == 422 and any("电子表格" in i for i in issues(text(bad)))


def test_a_roster_draft_previews_with_its_unmatched_column_blank(login: Login, session: Session) -> None:
    """Hand county: 低保 households on 2025-06-30 are H1 (3 members), H3 (ended 06-20: out), H6 (p13; p14 died),
    H7 (p15) → 5 persons."""
    from test_draft import dibao_roster

    client = login("admin")
    page = text(client.post("/catalogue/draft", data={"form": (io.BytesIO(dibao_roster()), "低保花名册.xlsx")},
                            content_type="multipart/form-data"))
    source = textarea(page)
    assert "kind: roster" in source and "household_tags:" in source
    response = client.post("/reports/manage", data={"source": source.replace("id: draft_2025", "id: mca_dibao_list"),
                                                    "action": "check", "area": COUNTY, "as_of": REF})
    # the form has no 有效期至: not admissible yet (422), but previewed
    assert response.status_code == 422 and any("有效期至" in i for i in issues(text(response)))
    page = text(response)
    body = re.findall(r'<tr class="row-data[^"]*">(.*?)</tr>', page, re.S)
    assert len(body) == 5
    assert all(re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)[-1].strip() == "" for row in body)


def test_a_filled_copy_shows_its_totals_beside_the_generated_ones(login: Login, session: Session) -> None:
    """Hand county today: 持证残疾 p1 (肢体, 二级), p10 (视力, 一级), p17 (智力, 三级), all alive."""
    from test_draft import cdpf_filled

    client = login("admin")
    page = text(client.post("/catalogue/draft", data={"form": (io.BytesIO(cdpf_filled()), "残联.xlsx")},
                            content_type="multipart/form-data"))
    cell = re.compile(r'<td class="num (file|generated)-total">(.*?)</td>', re.S)
    found = cell.findall(page)
    files = [v for k, v in found if k == "file"]
    generated = [v for k, v in found if k == "generated"]
    assert files == ["20", "3", "2", "1", "9", "2", "3", "0", "1", "5", "7", "7", "7"]  # 青山村 + 绿水村 = its 合计
    assert generated == ["3", "1", "0", "0", "1", "1", "0", "0", "1", "1", "1", "0", ""]  # 两项补贴: not generated
    assert "report-table" in page  # the generated draft is previewed below

"""A projection's ``unmasked`` list is honoured only within its department's authorisation: the admission
check refuses it, publishing refuses it, and a report run without the grant masks anyway."""

from __future__ import annotations

from pathlib import Path

from hand_data import COUNTY
from sqlalchemy import func, select, update
from sqlmodel import Session

from app.models import DepartmentGrant, ReportDefinition
from app.models.base import utcnow

DIBAO = (Path(__file__).resolve().parents[2] / "forms_registry" / "reports" / "mca_dibao_roster.yaml").read_text(encoding="utf-8")


def _post(client, source: str, action: str) -> tuple[int, str]:
    response = client.post("/reports/manage", data={"source": source, "action": action, "area": COUNTY, "as_of": "2025-06-30"})
    return response.status_code, response.get_data(as_text=True)


def test_mca_roster_of_veterans_cannot_unmask_ids(login, session: Session) -> None:
    veterans = DIBAO.replace("id: mca_dibao_roster", "id: mca_veteran_roster").replace(
        "  household_tags: [dibao]", "  tags: [veteran]").replace("tag.dibao.kind", "household.number").replace(
        "tag.dibao.monthly_amount", "household.member_count")
    client = login("admin")
    before = session.execute(select(func.count()).select_from(ReportDefinition)).scalar_one()
    status, html = _post(client, veterans, "check")
    assert "其他部门的标签" in html and "veteran" in html
    status, html = _post(client, veterans, "publish")
    assert status >= 400 or "其他部门的标签" in html
    assert session.execute(select(func.count()).select_from(ReportDefinition)).scalar_one() == before


def test_department_without_grant_cannot_unmask(login, session: Session) -> None:
    nhc = DIBAO.replace("id: mca_dibao_roster", "id: nhc_dibao_copy").replace("department: mca", "department: nhc")
    status, html = _post(login("admin"), nhc, "check")
    assert "没有相应授权" in html


def test_revoked_grant_masks_the_shipped_roster(login, session: Session, hand) -> None:
    client = login("mca")
    full = client.get("/reports/mca_dibao_roster/download?format=csv&area=339901000000&period=2025-06").get_data(as_text=True)
    session.execute(update(DepartmentGrant).where(DepartmentGrant.department == "mca").values(revoked_at=utcnow()))
    session.commit()
    masked = client.get("/reports/mca_dibao_roster/download?format=csv&area=339901000000&period=2025-06").get_data(as_text=True)
    assert "**********" not in full and "**********" in masked


def test_download_with_unmasked_fields_is_audited_with_its_purpose(login, session: Session, hand) -> None:
    from app.models import AuditEvent

    client = login("mca")
    url = "/reports/mca_dibao_roster/download?format=csv&area=339901000000&period=2025-06&purpose=核对低保名单"
    assert client.get(url).status_code == 200
    row = session.execute(select(AuditEvent).where(AuditEvent.kind == "download")).scalar_one()
    assert (row.username, row.purpose, row.detail["unmasked"]) == ("mca", "核对低保名单", ["id_number"])
    assert row.records > 0

"""Flow-back lists reconciled with the base data: exact alerts on a fixture, confirm applies with
history, dismiss records who and why and changes nothing, alerts are scoped."""

from __future__ import annotations

import io
from datetime import date

import pytest
from hand_county import VILLAGE_A, VILLAGE_B, VILLAGE_C, County
from ledger import pid
from openpyxl import Workbook
from sqlalchemy import select
from sqlmodel import Session

from app.issues import PermissionDenied, ValidationFailed
from app.models import ChangeBatch, ChangeLog, FlowbackAlert, Person, Tag
from app.services import households, persons, tags
from app.services.ledger_import import flowback

D = date(2020, 1, 1)
ZHAO = pid(date(1940, 5, 1), 11)    # A, alive, household on 低保, receives a pension -> dies per list
QIAN = pid(date(1950, 2, 3), 21)    # A, alive, no benefits -> dies per list
SUN = pid(date(1960, 7, 9), 31)     # A, already recorded dead on the same day -> matched, no alert
LI = pid(date(1970, 1, 12), 41)     # B, alive -> moved out per list
ZHOU = pid(date(1980, 3, 3), 51)    # A, name differs in the list -> mismatch
WU = pid(date(1975, 9, 9), 61)      # A, disabled, certificate expired
ZHENG = pid(date(1985, 1, 1), 71)   # A, disabled, certificate still valid
WANG = pid(date(1945, 6, 6), 81)    # C (other township), dead in our data, still on the pension list
NOBODY = pid(date(1990, 4, 4), 91)  # in no village


def add(session: Session, county: County, id_number: str, name: str, area: str, number: str) -> Person:
    h = households.create_household(session, county.admin, {"number": number, "area_code": area}, effective=D)
    return persons.create_person(session, county.admin, {"id_number": id_number, "name": name, "relation": "02",
                                                         "area_code": area, "household_id": h.id}, effective=D)


@pytest.fixture
def people(session: Session, county: County) -> dict[str, Person]:
    p = {
        "zhao": add(session, county, ZHAO, "赵一", VILLAGE_A, "A-1"), "qian": add(session, county, QIAN, "钱二", VILLAGE_A, "A-2"),
        "sun": add(session, county, SUN, "孙三", VILLAGE_A, "A-3"), "li": add(session, county, LI, "李四", VILLAGE_B, "B-1"),
        "zhou": add(session, county, ZHOU, "周五", VILLAGE_A, "A-4"), "wu": add(session, county, WU, "吴六", VILLAGE_A, "A-5"),
        "zheng": add(session, county, ZHENG, "郑七", VILLAGE_A, "A-6"), "wang": add(session, county, WANG, "王八", VILLAGE_C, "C-1"),
    }
    tags.grant_tag(session, county.admin, "dibao", p["zhao"].household_id, D, attrs={"kind": "2"})
    tags.grant_tag(session, county.admin, "pension_insured", p["zhao"].id, D, attrs={"receiving": "1"})
    for key in ("wu", "zheng"):
        tags.grant_tag(session, county.admin, "disabled", p[key].id, D, attrs={"category": "4", "grade": "2"})
    persons.end_person(session, county.admin, p["sun"].id, "death", date(2025, 3, 1))
    persons.end_person(session, county.admin, p["wang"].id, "death", date(2024, 8, 1))
    session.commit()
    return p


def xlsx(rows: list[list]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(["省民政厅下发名单"])  # a title above the header
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


DEATHS_CSV = (
    "姓名,公民身份号码,死亡日期\n"
    f"赵一,{ZHAO},2025-03-02\n"
    f"钱 二,{QIAN.lower()},2025年4月1日\n"          # spaces inside the name, lower-case x is fine
    f"孙三,{SUN},20250301\n"
    f"周伍,{ZHOU},2025/5/6\n"
    f"无名,{NOBODY},2025-01-01\n"
    f"坏号,12345,2025-01-01\n"
)


def summary(alerts: list[FlowbackAlert]) -> list[tuple[str, str, str]]:
    return sorted((a.kind, a.name, a.area_code) for a in alerts)


def test_death_list_alerts(session: Session, county: County, people: dict[str, Person]) -> None:
    batch = flowback.reconcile(session, county.township_1, "deaths", DEATHS_CSV.encode("utf-8"), "死亡名单.csv")
    assert batch.counts == {"rows": 6, "matched": 3, "unmatched": 1, "mismatched": 1, "rejected": 1, "alerts": 3}
    got = flowback.alerts(session, county.township_1, import_id=batch.id)
    assert summary(got) == [("deceased", "赵一", VILLAGE_A), ("deceased", "钱二", VILLAGE_A), ("mismatch", "周五", VILLAGE_A)]
    zhao = next(a for a in got if a.name == "赵一")
    assert zhao.message.startswith("已死亡但仍享受低保、养老金：")
    assert next(a for a in got if a.name == "钱二").message == "死亡名单显示钱二已于2025-04-01死亡，本系统仍登记为在世"
    assert "姓名：名单为“周伍”，本系统为“周五”" in next(a for a in got if a.kind == "mismatch").message
    assert batch.summary["samples"]["unmatched"][0]["id_number"] == NOBODY
    assert batch.summary["samples"]["rejected"][0]["row"] == 7
    # nothing changed in the base data before a decision
    assert session.get(Person, people["zhao"].id).living_status == "1"
    # importing the same list again raises no second alert
    again = flowback.reconcile(session, county.township_1, "deaths", DEATHS_CSV.encode("utf-8"), "死亡名单.csv")
    assert again.counts["alerts"] == 0


def test_confirm_applies_and_dismiss_does_not(session: Session, county: County, people: dict[str, Person]) -> None:
    batch = flowback.reconcile(session, county.township_1, "deaths", DEATHS_CSV.encode("utf-8"), "死亡名单.csv")
    by_name = {a.name: a for a in flowback.alerts(session, county.cadre_a, import_id=batch.id)}
    confirmed = flowback.confirm(session, county.cadre_a, by_name["赵一"].id)
    zhao = session.get(Person, people["zhao"].id)
    assert (zhao.living_status, zhao.status_date) == ("2", date(2025, 3, 2))
    pension = session.execute(select(Tag).where(Tag.person_id == zhao.id)).scalar_one()
    assert pension.valid_to == date(2025, 3, 2)
    change = session.get(ChangeBatch, confirmed.change_batch_id)
    assert (change.source, change.actor_id) == ("flowback", county.cadre_a.id)
    actions = sorted(session.execute(select(ChangeLog.entity, ChangeLog.action).where(ChangeLog.batch_id == change.id)).all())
    assert actions == [("person", "end"), ("tag", "end")]

    dismissed = flowback.dismiss(session, county.cadre_a, by_name["钱二"].id, "本人仍在世，名单有误，已电话核实")
    assert (dismissed.status, dismissed.resolved_by, dismissed.reason) == ("dismissed", county.cadre_a.id, "本人仍在世，名单有误，已电话核实")
    assert session.get(Person, people["qian"].id).living_status == "1"
    with pytest.raises(ValidationFailed):
        flowback.dismiss(session, county.cadre_a, by_name["周五"].id, " ")
    with pytest.raises(ValidationFailed):
        flowback.confirm(session, county.cadre_a, by_name["赵一"].id)  # already confirmed


def test_alerts_are_scoped(session: Session, county: County, people: dict[str, Person]) -> None:
    moves = xlsx([["姓名", "身份证号", "迁出日期", "迁往地"], ["李四", LI, date(2025, 6, 1), "杭州市西湖区"],
                  ["赵一", ZHAO, "2025.6.2", ""]])
    batch = flowback.reconcile(session, county.township_1, "moves", moves, "迁出.xlsx")
    assert summary(flowback.alerts(session, county.township_1, import_id=batch.id)) == [
        ("moved-out", "李四", VILLAGE_B), ("moved-out", "赵一", VILLAGE_A)]
    assert summary(flowback.alerts(session, county.cadre_b)) == [("moved-out", "李四", VILLAGE_B)]
    assert summary(flowback.alerts(session, county.cadre_a)) == [("moved-out", "赵一", VILLAGE_A)]
    li_alert = flowback.alerts(session, county.cadre_b)[0]
    with pytest.raises(PermissionDenied):
        flowback.confirm(session, county.cadre_a, li_alert.id)
    flowback.confirm(session, county.cadre_b, li_alert.id)
    li = session.get(Person, people["li"].id)
    assert (li.living_status, li.status_date, li.moved_to) == ("3", date(2025, 6, 1), "杭州市西湖区")


def test_disability_and_pension_lists(session: Session, county: County, people: dict[str, Person]) -> None:
    cert = xlsx([["姓名", "身份证号", "残疾证号", "有效期至"], ["吴六", WU, "CJ-1", date(2024, 12, 31)],
                 ["郑七", ZHENG, "CJ-2", date(2030, 1, 1)]])
    batch = flowback.reconcile(session, county.admin, "disability", cert, "残疾证.xlsx")
    got = flowback.alerts(session, county.admin, import_id=batch.id)
    assert [(a.kind, a.name, a.message) for a in got] == [
        ("certificate-expired", "吴六", "吴六的残疾证已于2024-12-31过期，仍登记为持证残疾")]
    flowback.confirm(session, county.admin, got[0].id)
    assert session.execute(select(Tag.valid_to).where(Tag.person_id == people["wu"].id)).scalar_one() == date(2024, 12, 31)
    assert session.execute(select(Tag.valid_to).where(Tag.person_id == people["zheng"].id)).scalar_one() is None

    pension = f"姓名,身份证号\n王八,{WANG}\n赵一,{ZHAO}\n".encode("gbk")   # a GBK CSV
    batch = flowback.reconcile(session, county.admin, "pension", pension, "养老金.csv")
    assert summary(flowback.alerts(session, county.admin, import_id=batch.id)) == [("pension-deceased", "王八", VILLAGE_C)]
    # a village cadre's import only looks at their own village: an ID elsewhere is just "unmatched"
    mine = flowback.reconcile(session, county.cadre_a, "pension", pension, "养老金.csv")
    assert (mine.counts["unmatched"], mine.counts["matched"], mine.counts["alerts"]) == (1, 1, 0)
    assert "outside_scope" not in mine.counts


def test_read_only_department_cannot_raise_flowback_alerts(session: Session, county: County) -> None:
    from app.issues import PermissionDenied

    pension = f"姓名,身份证号\n王八,{WANG}\n".encode("gbk")
    with pytest.raises(PermissionDenied):
        flowback.reconcile(session, county.mca, "pension", pension, "养老金.csv")


def test_unreadable_lists(session: Session, county: County) -> None:
    with pytest.raises(ValidationFailed) as err:
        flowback.reconcile(session, county.admin, "deaths", b"PK\x03\x04 broken zip", "名单.xlsx")
    # the import reader's own verdict (issue 15: flow-back lists go through its safety checks)
    assert err.value.issues[0].code == "corrupt-zip" and "文件已损坏" in err.value.issues[0].message
    with pytest.raises(ValidationFailed) as err:
        flowback.reconcile(session, county.admin, "deaths", b"%PDF-1.4", "名单.pdf")
    assert err.value.issues[0].code == "not-a-spreadsheet"
    batch = flowback.reconcile(session, county.admin, "deaths", "姓名,日期\n张三,2025-01-01\n".encode(), "名单.csv")
    assert batch.status == "rejected" and batch.summary["file_issues"][0]["code"] == "no-id-column"

"""The apply layer on hand-made pipeline output: exact outcome per record and per row, policies,
atomicity, idempotency, scope."""

from __future__ import annotations

from datetime import date

import pytest
from hand_county import VILLAGE_A, VILLAGE_B, County
from ledger import household, parsed, person, pid, tag
from sqlalchemy import func, select
from sqlmodel import Session

from app.issues import Issue, PermissionDenied
from app.models import ChangeBatch, ChangeLog, Household, ImportBatch, ImportConflict, Person, Tag
from app.services import households, persons
from app.services.ledger_import.apply import apply_parsed

ZHAO = pid(date(1960, 5, 1), 11)      # existing in village A
QIAN = pid(date(1970, 2, 3), 21)      # existing in village B
SUN = pid(date(1985, 7, 9), 31)       # new, head of H-100
LI = pid(date(1988, 1, 12), 42)       # new, spouse in H-100
ZHOU = pid(date(2001, 3, 3), 51)      # new, duplicated in the file with a different name
WU = pid(date(1999, 9, 9), 61)        # new, unknown household
ZHENG = pid(date(1990, 1, 1), 71)     # the reader found a bad date cell


def base(session: Session, county: County) -> dict[str, int]:
    h = households.create_household(session, county.admin, {"number": "H-001", "area_code": VILLAGE_A, "address": "甲村1号"},
                                    effective=date(2020, 1, 1))
    zhao = persons.create_person(session, county.admin, {"id_number": ZHAO, "name": "赵一", "relation": "02", "area_code": VILLAGE_A,
                                                         "household_id": h.id}, effective=date(2020, 1, 1))
    hb = households.create_household(session, county.admin, {"number": "H-B01", "area_code": VILLAGE_B}, effective=date(2020, 1, 1))
    qian = persons.create_person(session, county.admin, {"id_number": QIAN, "name": "钱二", "relation": "02", "area_code": VILLAGE_B,
                                                         "household_id": hb.id}, effective=date(2020, 1, 1))
    session.commit()
    return {"zhao": zhao.id, "qian": qian.id, "h001": h.id}


def ledger() -> list:
    return [
        household(4, "H-001", address="甲村1号"),
        person(4, ZHAO, "赵壹", "H-001", relation="02", phone="13800000001"),   # name disagrees, phone fills a blank
        household(5, "H-100", address="甲村9号"),
        person(5, SUN, "孙三", "H-100", relation="02"),
        household(6, "H-100"),
        person(6, LI, "李四", "H-100", relation="10"),
        tag(6, "dibao", "H-100", valid_from=date(2024, 1, 1), attrs={"kind": "2"}),
        person(7, QIAN, "钱二", "H-001"),                                      # registered in village B
        person(8, ZHOU, "周五", "H-100", relation="20"),
        person(9, ZHOU, "周伍", "H-100", relation="20"),                       # same ID, another name
        person(10, WU, "吴六", "H-404"),                                      # household nowhere
        person(11, ZHENG, "郑七", "H-100", issues=[Issue("bad-date", "出生日期无法识别：1990.13.01",
                                                          {"sheet": "花名册", "row": 11, "column": "E", "field": "出生日期"})]),
    ]


def test_outcome_of_every_record_and_row(session: Session, county: County) -> None:
    ids = base(session, county)
    result = apply_parsed(session, county.cadre_a, parsed(ledger()), area_code=VILLAGE_A, policy="queue")
    got = [(o.record.entity, o.record.source.row, o.status) for o in result.outcomes]
    assert got == [
        ("household", 4, "unchanged"), ("person", 4, "conflict"),
        ("household", 5, "new"), ("person", 5, "new"),
        ("household", 6, "unchanged"), ("person", 6, "new"), ("tag", 6, "new"),
        ("person", 7, "rejected"), ("person", 8, "new"), ("person", 9, "rejected"),
        ("person", 10, "rejected"), ("person", 11, "rejected"),
    ]
    by_row = {o.record.source.row: o for o in result.outcomes if o.record.entity == "person"}
    assert by_row[4].conflicts == {"name": ("赵一", "赵壹")}
    assert by_row[4].changes == {"phone": (None, "13800000001")}
    assert [(i.code, i.location.get("row")) for i in by_row[7].issues] == [("id-in-other-area", 7)]
    assert "乙村" in by_row[7].issues[0].message
    assert [i.code for i in by_row[9].issues] == ["duplicate-in-file"] and "第8行" in by_row[9].issues[0].message
    assert [(i.code, i.location.get("field")) for i in by_row[10].issues] == [("unknown-household", "户号")]
    assert [(i.code, i.location.get("column")) for i in by_row[11].issues] == [("bad-date", "E")]

    counts = result.counts()
    assert {k: counts[k] for k in ("rows", "applied", "unchanged", "conflict", "rejected")} == {
        "rows": 8, "applied": 3, "unchanged": 0, "conflict": 1, "rejected": 4}
    assert counts["applied"] + counts["unchanged"] + counts["conflict"] + counts["rejected"] == result.rows_read
    session.commit()

    # the database: the fill applied, the disagreement not; new household and members with history
    zhao = session.get(Person, ids["zhao"])
    assert (zhao.name, zhao.phone) == ("赵一", "13800000001")
    h100 = session.execute(select(Household).where(Household.number == "H-100")).scalar_one()
    members = session.execute(select(Person.name, Person.relation, Person.area_code).where(Person.household_id == h100.id)
                              .order_by(Person.name)).all()
    assert sorted(members) == sorted([("孙三", "02", VILLAGE_A), ("李四", "10", VILLAGE_A), ("周五", "20", VILLAGE_A)])
    dibao = session.execute(select(Tag).where(Tag.household_id == h100.id)).scalar_one()
    assert (dibao.tag_code, dibao.valid_from, dibao.attrs) == ("dibao", date(2024, 1, 1), {"kind": "2"})
    batch = session.get(ChangeBatch, result.change_batch_id)
    assert (batch.source, batch.file_name, batch.actor_id) == ("import", "台账.xlsx", county.cadre_a.id)
    logged = session.execute(select(ChangeLog.entity, ChangeLog.action, func.count()).where(ChangeLog.batch_id == batch.id)
                             .group_by(ChangeLog.entity, ChangeLog.action)).all()
    assert sorted(logged) == [("household", "create", 1), ("person", "create", 3), ("person", "update", 1), ("tag", "create", 1)]
    sun_log = session.execute(select(ChangeLog.changes).join(Person, ChangeLog.entity_id == func.cast(Person.id, ChangeLog.entity_id.type))
                              .where(Person.id_number == SUN, ChangeLog.entity == "person", ChangeLog.batch_id == batch.id)).scalar_one()
    assert sun_log["name"] == [None, "孙三"] and sun_log["birth_date"] == [None, "1985-07-09"]


def test_policies_file_and_db(session: Session, county: County) -> None:
    ids = base(session, county)
    records = [person(4, ZHAO, "赵壹", "H-001", phone="13800000001")]
    db_wins = apply_parsed(session, county.cadre_a, parsed(records), area_code=VILLAGE_A, policy="db")
    assert [(o.status, o.changes, o.conflicts) for o in db_wins.outcomes] == [("changed", {"phone": (None, "13800000001")}, {})]
    assert session.get(Person, ids["zhao"]).name == "赵一"
    file_wins = apply_parsed(session, county.cadre_a, parsed(records), area_code=VILLAGE_A, policy="file")
    assert [(o.status, o.changes) for o in file_wins.outcomes] == [("changed", {"name": ("赵一", "赵壹")})]
    session.commit()
    assert session.get(Person, ids["zhao"]).name == "赵壹"


def test_file_policy_changes_a_tags_attributes_through_the_edit_service(session: Session, county: County) -> None:
    """A tag attribute the file wins on is one edit in the import's one batch: the tag ends on the file's
    date and continues with the new value, so a report as of an earlier day still reads the old one."""
    from app.services import tags as tag_service

    ids = base(session, county)
    old = tag_service.grant_tag(session, county.admin, "dibao", ids["h001"], date(2023, 1, 1), attrs={"kind": "1"})
    session.commit()
    records = [tag(4, "dibao", "H-001", attrs={"kind": "2"})]
    result = apply_parsed(session, county.cadre_a, parsed(records), area_code=VILLAGE_A, policy="file",
                          effective=date(2024, 6, 1))
    session.commit()
    assert [(o.status, o.changes) for o in result.outcomes] == [("changed", {"attrs.kind": ("1", "2")})]
    rows = session.execute(select(Tag.valid_from, Tag.valid_to, Tag.attrs).where(Tag.household_id == ids["h001"])
                           .order_by(Tag.valid_from)).all()
    assert [tuple(r) for r in rows] == [(date(2023, 1, 1), date(2024, 6, 1), {"kind": "1"}), (date(2024, 6, 1), None, {"kind": "2"})]
    batches = {b for (b,) in session.execute(select(ChangeLog.batch_id).where(ChangeLog.entity == "tag",
                                                                             ChangeLog.batch_id != old.batch_id))}
    assert batches == set(result.change_batch_ids) and len(batches) == 1


def test_second_import_changes_nothing(session: Session, county: County) -> None:
    base(session, county)
    batch = ImportBatch(file_name="台账.xlsx", sha256="x", area_code=VILLAGE_A, actor_id=county.cadre_a.id)
    session.add(batch)
    session.flush()
    apply_parsed(session, county.cadre_a, parsed(ledger()), area_code=VILLAGE_A, import_batch=batch)
    session.commit()
    n_logs = session.execute(select(func.count()).select_from(ChangeLog)).scalar()
    n_conflicts = session.execute(select(func.count()).select_from(ImportConflict)).scalar()
    assert n_conflicts == 1
    # the same content again under another file name: nothing new is written, the conflict is not queued twice
    again = apply_parsed(session, county.cadre_a, parsed(ledger(), name="台账-副本.xlsx"),
                         area_code=VILLAGE_A, import_batch=batch)
    session.commit()
    statuses = {o.status for o in again.outcomes if o.record.source.row not in (7, 9, 10, 11)}
    assert statuses <= {"unchanged", "conflict"}
    assert session.execute(select(func.count()).select_from(ChangeLog)).scalar() == n_logs
    assert session.execute(select(func.count()).select_from(ImportConflict)).scalar() == 1


def test_out_of_scope_target_is_refused(session: Session, county: County) -> None:
    base(session, county)
    with pytest.raises(PermissionDenied):
        apply_parsed(session, county.cadre_a, parsed(ledger()), area_code=VILLAGE_B)


def test_township_import_needs_a_village_per_row(session: Session, county: County) -> None:
    base(session, county)
    records = [person(4, SUN, "孙三", area_code=VILLAGE_B), person(5, LI, "李四")]
    result = apply_parsed(session, county.township_1, parsed(records), area_code="339901100000")
    assert [o.status for o in result.outcomes] == ["new", "rejected"]
    assert result.outcomes[1].issues[0].code == "area-required"
    session.commit()
    assert session.execute(select(Person.area_code).where(Person.id_number == SUN)).scalar_one() == VILLAGE_B


def test_cross_field_rules_apply_to_new_persons(session: Session, county: County) -> None:
    base(session, county)
    young = pid(date(2015, 1, 1), 81)
    records = [
        household(4, "H-200"),
        person(4, SUN, "孙三", "H-200", relation="02"),
        person(5, LI, "李四", "H-200", relation="02"),          # a second head in the same new household
        person(6, young, "小周", "H-200", relation="12"),        # a spouse aged ten
        person(7, WU, "吴六", "H-001", relation="02"),           # H-001 already has 赵一 as head
    ]
    result = apply_parsed(session, county.cadre_a, parsed(records), area_code=VILLAGE_A)
    got = [(o.record.source.row, o.status, [i.code for i in o.issues]) for o in result.outcomes if o.record.entity == "person"]
    assert got == [(4, "new", []), (5, "rejected", ["second-head"]), (6, "rejected", ["spouse-under-age"]),
                   (7, "rejected", ["second-head"])]
    assert "孙三" in result.outcomes[2].issues[0].message and "赵一" in result.outcomes[4].issues[0].message


def test_bulk_inserts_in_chunks(session: Session, county: County, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.services.ledger_import import writes

    monkeypatch.setattr(writes, "FLUSH_ROWS", 2)
    base(session, county)
    result = apply_parsed(session, county.cadre_a, parsed(ledger()), area_code=VILLAGE_A)
    session.commit()
    assert result.counts()["applied"] == 3
    h100 = session.execute(select(Household.id).where(Household.number == "H-100")).scalar_one()
    assert session.execute(select(func.count()).select_from(Person).where(Person.household_id == h100)).scalar_one() == 3
    assert session.execute(select(func.count()).select_from(ChangeLog).where(ChangeLog.batch_id == result.change_batch_id,
                                                                             ChangeLog.action == "create")).scalar_one() == 5

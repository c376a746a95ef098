"""Issue 15: a 低保 roster with merged household blocks and no 户号 — households keyed by the head's ID
number (matched to the head's existing household), household tags attached, per-row outcomes exact;
field-level outcomes (an optional field dropped with a warning, a missing required tag attribute kept
as 待补充), counts that agree with what was written. Both backends."""

from __future__ import annotations

from dibao_roster import (
    BAD_HEAD,
    QIAN_SAN,
    QIAN_YI,
    SUN_LIU,
    WU_ER,
    ZHAO_XIAO,
    ZHAO_YI,
    ZHOU_MEMBER,
    existing,
    roster,
)
from hand_county import VILLAGE_A, County
from sqlalchemy import select
from sqlmodel import Session

from app.models import Household, Person, Tag
from app.services import imports


def outcomes(result) -> list[tuple[int, str, str, str]]:
    return [(o.record.source.row, o.record.entity, o.record.key, o.status) for o in result.outcomes]


def test_merged_blocks_without_household_number(session: Session, county: County) -> None:
    h001 = existing(session, county.admin, VILLAGE_A)
    batch, result = imports.run_import(session, county.cadre_a, roster(), "低保花名册.xlsx", area_code=VILLAGE_A, dry_run=False)
    got = outcomes(result)
    assert sorted(got) == sorted([
        (3, "person", QIAN_YI, "new"), (3, "tag", f"dibao:{QIAN_YI}", "new"), (4, "person", WU_ER, "new"),
        (5, "person", QIAN_SAN, "new"), (3, "household", QIAN_YI, "new"),
        (6, "person", ZHAO_YI, "unchanged"), (6, "tag", f"dibao:{ZHAO_YI}", "new"), (7, "person", ZHAO_XIAO, "new"),
        (6, "household", ZHAO_YI, "unchanged"),
        (8, "person", "", "rejected"), (9, "person", ZHOU_MEMBER, "new"), (8, "household", "", "rejected"),
        (10, "person", SUN_LIU, "new"), (10, "tag", f"dibao:{SUN_LIU}", "new"), (10, "household", SUN_LIU, "new"),
    ])
    # the rejected rows: the head with the wrong ID, and its household
    rejected = {(o.record.source.row, o.record.entity): [i.code for i in o.issues] for o in result.outcomes if o.status == "rejected"}
    assert rejected == {(8, "person"): ["id-checksum"], (8, "household"): ["head-rejected"]}
    members = dict(session.execute(select(Person.id_number, Household.number).join(
        Household, Person.household_id == Household.id, isouter=True)).all())
    # a new household is numbered with its head's ID number; 赵小 joins 赵一's existing H-001
    assert members == {QIAN_YI: QIAN_YI, WU_ER: QIAN_YI, QIAN_SAN: QIAN_YI, ZHAO_YI: "H-001", ZHAO_XIAO: "H-001",
                       ZHOU_MEMBER: None, SUN_LIU: SUN_LIU}
    relations = dict(session.execute(select(Person.id_number, Person.relation)).all())
    assert relations[WU_ER] == "10" and relations[ZHAO_XIAO] == "41"
    tags = {(t.household_id, t.attrs["kind"]) for t in session.execute(select(Tag).where(Tag.tag_code == "dibao")).scalars()}
    numbers = dict(session.execute(select(Household.id, Household.number)).all())
    assert {(numbers[h], k) for h, k in tags} == {(QIAN_YI, "2"), ("H-001", "2"), (SUN_LIU, "2")}
    assert h001 in {h for h, _k in tags}
    # counts: rows 3..10 = 8 rows; row 8 rejected (its person and household); row 6 writes the tag of H-001
    assert (batch.counts["rows"], batch.counts["applied"], batch.counts["rejected"], batch.counts["unchanged"]) == (8, 7, 1, 0)
    # 钱三's 9-digit phone is dropped with a warning, the person is written
    qian_san = next(o for o in result.outcomes if o.record.key == QIAN_SAN)
    assert [(i.code, i.severity, i.message) for i in qian_san.record.issues] == [
        ("phone-invalid", "warning", "联系电话“138000000”格式不正确，此项未导入（其余照常导入）")]
    assert session.execute(select(Person.phone).where(Person.id_number == QIAN_SAN)).scalar_one() is None
    assert BAD_HEAD not in {p for p in members}

    # the same file again changes nothing
    again, result2 = imports.run_import(session, county.cadre_a, roster(), "低保花名册.xlsx", area_code=VILLAGE_A, dry_run=False)
    assert again.counts["applied"] == 0 and again.counts["rejected"] == 1
    assert {o.status for o in result2.outcomes if o.record.key} == {"unchanged"}


def test_organisation_rows_through_the_organisation_service(session: Session, county: County) -> None:
    import io
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "importers"))
    from legacy_ledgers import USCC_BAD, USCC_COOP, USCC_TEA, organisations_workbook

    from app.models import Organisation

    def content(employees: int = 12) -> bytes:
        wb = organisations_workbook()
        wb.active["D2"] = employees
        buf = io.BytesIO()
        wb.save(buf)
        return buf.getvalue()

    batch, result = imports.run_import(session, county.cadre_a, content(), "单位.xlsx", area_code=VILLAGE_A, dry_run=False)
    assert outcomes(result) == [(2, "organisation", USCC_TEA, "new"), (3, "organisation", USCC_COOP, "new"),
                                (4, "organisation", "", "rejected")]
    assert [i.code for i in result.outcomes[2].issues] == ["uscc-checksum"]
    orgs = session.execute(select(Organisation.uscc, Organisation.name, Organisation.kind, Organisation.employees,
                                  Organisation.area_code)).all()
    # 企业 -> 1, 农村集体经济组织 -> 8 (org_kind); "3人" -> 3
    assert sorted(orgs) == sorted([(USCC_TEA, "东湖茶叶有限公司", "1", 12, VILLAGE_A),
                                   (USCC_COOP, "东湖村股份经济合作社", "8", 3, VILLAGE_A)])
    assert USCC_BAD not in {o[0] for o in orgs}
    assert (batch.counts["applied"], batch.counts["rejected"]) == (2, 1)
    # a changed employee count: queued (the default policy), then taken with policy "file"
    queued, result = imports.run_import(session, county.cadre_a, content(15), "单位2.xlsx", area_code=VILLAGE_A, dry_run=False)
    assert [o.status for o in result.outcomes] == ["conflict", "unchanged", "rejected"]
    assert result.outcomes[0].conflicts == {"employees": (12, 15)}
    taken, result = imports.run_import(session, county.cadre_a, content(15), "单位3.xlsx", area_code=VILLAGE_A, dry_run=False,
                                       policy="file")
    assert [o.status for o in result.outcomes] == ["changed", "unchanged", "rejected"]
    assert session.execute(select(Organisation.employees).where(Organisation.uscc == USCC_TEA)).scalar_one() == 15


def test_counts_and_rejects_agree_with_what_was_written(session: Session, county: County) -> None:
    """A person written and its household tag refused (the household is nowhere): the row counts as
    applied (and partly rejected), not as rejected; the rejects workbook lists only the refused tag."""
    from datetime import date

    from ledger import parsed, person, pid, tag

    from app.services.imports import rejected_records

    new_person = pid(date(1977, 7, 7), 17)
    records = [person(5, new_person, "冯七", relation="02"), tag(5, "dibao", "H-404", attrs={"kind": "2"}),
               person(6, pid(date(1978, 8, 8), 18), "褚八")]
    batch, result = imports.run_import(session, county.cadre_a, b"x", "台账.xlsx", area_code=VILLAGE_A, dry_run=False,
                                       parsed=parsed(records))
    assert [(o.record.entity, o.status) for o in result.outcomes] == [("person", "new"), ("tag", "rejected"), ("person", "new")]
    assert (batch.counts["rows"], batch.counts["applied"], batch.counts["rejected"], batch.counts["partly_rejected"]) == (2, 2, 0, 1)
    assert session.execute(select(Person.name).where(Person.id_number == new_person)).scalar_one() == "冯七"
    rejects = rejected_records(result)
    assert [(r.entity, r.source.row, [i.code for i in r.issues]) for r in rejects] == [
        ("tag", 5, ["unknown-subject", "row-partly-written"])]


def test_tag_ledger_keyed_by_the_heads_id_attaches_to_the_heads_household(session: Session, county: County) -> None:
    h001 = existing(session, county.admin, VILLAGE_A)
    content = f"户主姓名,户主身份证号,低保类别\n赵一,{ZHAO_YI},农村低保\n钱一,{QIAN_YI},城市低保\n".encode()
    batch, result = imports.run_import(session, county.cadre_a, content, "低保户名单.csv", area_code=VILLAGE_A, dry_run=False)
    assert [(o.record.key, o.status) for o in result.outcomes if o.record.entity == "tag"] == [
        (f"dibao:{ZHAO_YI}", "new"), (f"dibao:{QIAN_YI}", "rejected")]  # 钱一 is registered nowhere
    assert [i.code for o in result.outcomes if o.status == "rejected" for i in o.issues] == ["unknown-subject"]
    assert session.execute(select(Tag.household_id, Tag.attrs).where(Tag.tag_code == "dibao")).all() == [(h001, {"kind": "2"})]

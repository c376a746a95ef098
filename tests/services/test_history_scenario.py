"""A household's life over several dates, read back as of each date and as changes between dates.

Expected states are written out by hand from the scenario, not computed by the services.
"""

from __future__ import annotations

from datetime import date

import pytest
from hand_county import VILLAGE_A, VILLAGE_B, County, id_number, names_alive
from sqlmodel import Session, select

from app.issues import Conflict
from app.models import Area, PersonHistory
from app.services import history
from app.services.areas import merge_area
from app.services.households import create_household
from app.services.persons import create_person, end_person, move_person, update_person
from app.services.tags import grant_tag


@pytest.fixture
def story(session: Session, county: County) -> dict[str, int]:
    """2024-01-01 household 1 in 甲村 with father, mother, son; 2024-03-10 a baby is born;
    2024-05-01 household 1 gets 低保; 2024-06-15 the son moves to household 2 in 乙村;
    2024-09-01 the father dies; 2025-01-01 甲村 is merged into 乙村."""
    cadre, admin = county.cadre_a, county.admin
    h1 = create_household(session, cadre, {"number": "H001", "area_code": VILLAGE_A, "address": "甲村1组1号"}, effective=date(2024, 1, 1))
    h2 = create_household(session, county.cadre_b, {"number": "H002", "area_code": VILLAGE_B}, effective=date(2024, 1, 1))
    people = {}
    for key, name, birth, seq, relation in [
        ("father", "测试父", date(1960, 5, 1), 11, "02"),
        ("mother", "测试母", date(1962, 7, 2), 12, "10"),
        ("son", "测试子", date(1990, 1, 3), 13, "20"),
    ]:
        p = create_person(session, cadre, {"id_number": id_number(birth, seq), "name": name, "household_id": h1.id,
                                           "area_code": VILLAGE_A, "relation": relation}, effective=date(2024, 1, 1))
        people[key] = p.id
    baby = create_person(session, cadre, {"id_number": id_number(date(2024, 3, 10), 14), "name": "测试孙",
                                          "household_id": h1.id, "area_code": VILLAGE_A, "relation": "42"},
                         effective=date(2024, 3, 10))
    people["baby"] = baby.id
    grant_tag(session, county.mca, "dibao", h1.id, date(2024, 5, 1), attrs={"kind": "2", "monthly_amount": 680})
    move_person(session, county.township_1, people["son"], h2.id, date(2024, 6, 15), relation="02")  # across villages: township
    end_person(session, cadre, people["father"], "death", date(2024, 9, 1))
    merge_area(session, admin, VILLAGE_A, VILLAGE_B, date(2025, 1, 1))
    session.commit()
    return {**people, "h1": h1.id, "h2": h2.id}


def test_as_of_each_date(session: Session, story: dict[str, int]) -> None:
    assert history.as_of(session, "person", date(2023, 12, 31)) == []

    on = history.as_of(session, "person", date(2024, 2, 1))
    assert names_alive(on) == {"测试父", "测试母", "测试子"}
    assert {p["area_code"] for p in on} == {VILLAGE_A}

    assert names_alive(history.as_of(session, "person", date(2024, 3, 10))) == {"测试父", "测试母", "测试子", "测试孙"}

    son = {p["name"]: p for p in history.as_of(session, "person", date(2024, 7, 1))}["测试子"]
    assert (son["area_code"], son["household_id"], son["relation"]) == (VILLAGE_B, story["h2"], "02")
    son_before = {p["name"]: p for p in history.as_of(session, "person", date(2024, 6, 14))}["测试子"]
    assert (son_before["area_code"], son_before["household_id"], son_before["relation"]) == (VILLAGE_A, story["h1"], "20")

    autumn = {p["name"]: p for p in history.as_of(session, "person", date(2024, 10, 1))}
    assert autumn["测试父"]["living_status"] == "2" and autumn["测试父"]["status_date"] == date(2024, 9, 1)
    assert names_alive(autumn.values()) == {"测试母", "测试子", "测试孙"}
    assert history.as_of(session, "person", date(2024, 8, 31))[0]["living_status"] == "1"

    # the village merge: before it the family lives in 甲村, after it in 乙村
    assert {p["area_code"] for p in history.as_of(session, "person", date(2024, 12, 31)) if p["name"] != "测试子"} == {VILLAGE_A}
    assert {p["area_code"] for p in history.as_of(session, "person", date(2025, 1, 1))} == {VILLAGE_B}
    assert {h["area_code"] for h in history.as_of(session, "household", date(2025, 6, 1))} == {VILLAGE_B}


def test_tags_and_areas_as_of(session: Session, story: dict[str, int]) -> None:
    tags_before = session.execute(history.tags_as_of_select(date(2024, 4, 30))).scalars().all()
    tags_after = session.execute(history.tags_as_of_select(date(2024, 5, 1))).scalars().all()
    assert tags_before == []
    assert [(t.tag_code, t.household_id, t.attrs["kind"]) for t in tags_after] == [("dibao", story["h1"], "2")]

    codes_2024 = {a.code for a in session.execute(history.areas_as_of_select(date(2024, 12, 31))).scalars()}
    codes_2025 = {a.code for a in session.execute(history.areas_as_of_select(date(2025, 1, 1))).scalars()}
    assert VILLAGE_A in codes_2024 and VILLAGE_A not in codes_2025 and VILLAGE_B in codes_2025
    assert session.get(Area, VILLAGE_A).successor_code == VILLAGE_B


def test_changes_between_dates(session: Session, story: dict[str, int]) -> None:
    changes = {c.entity_id: c for c in history.changes_between(session, "person", date(2024, 2, 1), date(2024, 10, 1))}
    assert set(changes) == {story["baby"], story["son"], story["father"]}
    assert changes[story["baby"]].kind == "added"
    assert changes[story["son"]].kind == "changed"
    assert changes[story["son"]].fields == {
        "household_id": (story["h1"], story["h2"]),
        "area_code": (VILLAGE_A, VILLAGE_B),
        "relation": ("20", "02"),
    }
    assert changes[story["father"]].fields == {
        "living_status": ("1", "2"),
        "status_date": (None, date(2024, 9, 1)),
    }
    tag_changes = history.changes_between(session, "tag", date(2024, 4, 1), date(2024, 6, 1))
    assert [(c.kind, c.after["tag_code"]) for c in tag_changes] == [("added", "dibao")]
    area_changes = history.changes_between(session, "area", date(2024, 12, 1), date(2025, 2, 1))
    assert [(c.entity_id, c.kind) for c in area_changes] == [(VILLAGE_A, "removed")]
    # limited to one village's subtree
    in_b = history.changes_between(session, "person", date(2024, 2, 1), date(2024, 7, 1), area_prefix=VILLAGE_B)
    assert [(c.entity_id, c.kind) for c in in_b] == [(story["son"], "added")]


def test_every_change_is_logged_with_who_and_source(session: Session, story: dict[str, int], county: County) -> None:
    log = history.record_history(session, "person", story["father"])
    assert [e["action"] for e in log] == ["update", "end", "create"]  # newest first: merge, death, creation
    death = log[1]
    assert death["actor"] == "甲村干部" and death["source"] == "web"
    assert death["changes"]["living_status"] == ["1", "2"]
    assert death["effective_date"] == date(2024, 9, 1)
    assert log[0]["changes"]["area_code"] == [VILLAGE_A, VILLAGE_B] and log[0]["actor"] == "管理员"
    tag_log = history.record_history(session, "tag", 1)
    assert [e["action"] for e in tag_log] == ["create"]


def test_retroactive_correction_rewrites_later_versions(session: Session, story: dict[str, int], county: County) -> None:
    """A name corrected from 2024-01-01 applies to every version from then on; the split keeps the rest."""
    update_person(session, county.cadre_b, story["son"], {"name": "测试子甲"}, effective=date(2024, 1, 1))
    session.commit()
    names = {d: {p["id"]: p["name"] for p in history.as_of(session, "person", d)}[story["son"]]
             for d in (date(2024, 2, 1), date(2024, 7, 1), date(2026, 1, 1))}
    assert set(names.values()) == {"测试子甲"}
    # the move is still there
    assert {p["id"]: p["area_code"] for p in history.as_of(session, "person", date(2024, 2, 1))}[story["son"]] == VILLAGE_A
    versions = session.exec(select(PersonHistory).where(PersonHistory.id == story["son"]).order_by(PersonHistory.valid_from)).all()
    assert [(v.valid_from, v.valid_to) for v in versions] == [(date(2024, 1, 1), date(2024, 6, 15))]


def test_correction_in_the_middle_splits_a_version(session: Session, story: dict[str, int], county: County) -> None:
    update_person(session, county.cadre_b, story["mother"], {"phone": "19900001111"}, effective=date(2024, 4, 1))
    session.commit()
    phone = {d: {p["id"]: p["phone"] for p in history.as_of(session, "person", d)}[story["mother"]]
             for d in (date(2024, 3, 31), date(2024, 4, 1), date(2024, 12, 31), date(2025, 6, 1))}
    assert phone == {date(2024, 3, 31): None, date(2024, 4, 1): "19900001111",
                     date(2024, 12, 31): "19900001111", date(2025, 6, 1): "19900001111"}


def test_stale_save_is_refused_and_names_the_other_change(session: Session, story: dict[str, int], county: County) -> None:
    from app.models import Person

    seen = session.get(Person, story["mother"]).row_version
    update_person(session, county.cadre_b, story["mother"], {"phone": "19900002222"}, expected_version=seen)
    session.commit()
    with pytest.raises(Conflict) as err:
        update_person(session, county.cadre_b, story["mother"], {"education": "80"}, expected_version=seen)
    session.rollback()
    assert err.value.issues[0].code == "edit-conflict"
    assert "19900002222" in err.value.issues[0].message and "乙村干部" in err.value.issues[0].message
    assert "联系电话：（空）→19900002222" in err.value.issues[0].message and "phone" not in err.value.issues[0].message
    assert session.get(Person, story["mother"]).education is None  # nothing written


def test_unchanged_values_record_nothing(session: Session, story: dict[str, int], county: County) -> None:
    before = len(history.record_history(session, "person", story["mother"]))
    change = update_person(session, county.cadre_b, story["mother"], {"name": "测试母"})
    session.commit()
    assert change.fields == {}
    assert len(history.record_history(session, "person", story["mother"])) == before

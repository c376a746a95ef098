"""The synthetic demo county (``seed_demo`` / ``ybt seed-demo``): deterministic, valid, realistic.

Each database test seeds a small county (3,000 persons) into the test's own migrated database, on
SQLite and on PostgreSQL.
"""

from __future__ import annotations

import shutil
from collections import Counter, defaultdict
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select, text

from app import bulk
from app.db import Database
from app.models import Area, ChangeBatch, ChangeLog, Household, Person, PersonHistory, Tag, User
from app.models.user import ROLES
from app.seed.demo import SeedSummary, seed_demo
from app.services.history import as_of, tags_as_of_select
from app.services.tags import check_attrs, tag_types
from app.validators.idcard import check_id_number

TODAY = date(2026, 11, 22)
PERSONS = 3_000
SEED = 11


def _seed(url: str, persons: int = PERSONS, seed: int = SEED) -> tuple[Database, SeedSummary]:
    db = Database(url)
    return db, seed_demo(db, persons, seed, TODAY)


@pytest.fixture
def seeded(db_url: str):
    db, summary = _seed(db_url)
    yield db, summary
    db.engine.dispose()


def _age(birth: date, on: date = TODAY) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def test_counts_and_identifiers(seeded) -> None:
    db, summary = seeded
    assert summary.counts["person"] == PERSONS
    with db.session() as s:
        persons = s.execute(select(Person)).scalars().all()
        assert len(persons) == PERSONS
        assert len({p.id_number for p in persons}) == PERSONS
        for p in persons:
            result = check_id_number(p.id_number, birth_date=p.birth_date, sex=p.sex, today=TODAY)
            assert result.ok and not result.issues, (p.id_number, result.issues)
            assert p.id_number.startswith("339901")
            assert p.area_code.startswith("339901") and len(p.area_code) == 15
            assert len(p.name) in (2, 3)
            assert p.phone is None or (p.phone.startswith("19900") and len(p.phone) == 11)
        alive = [p for p in persons if p.living_status == "1"]
        ages = [_age(p.birth_date) for p in alive]
        share = lambda cond: sum(1 for a in ages if cond(a)) / len(ages)  # noqa: E731
        assert 0.01 <= share(lambda a: a >= 80) <= 0.07
        assert share(lambda a: 50 <= a < 70) > share(lambda a: 20 <= a < 40)
        assert 0.47 <= sum(p.sex == "1" for p in alive) / len(alive) <= 0.55
        residence = Counter(p.residence_type for p in alive)
        assert 0.65 <= residence["1"] / len(alive) <= 0.85 and 0.08 <= residence["2"] / len(alive) <= 0.22
        assert not any(p.marital_status == "20" and _age(p.birth_date) < 20 for p in persons)
        # households: numbers unique, persons share their household's area, sizes 1–8
        households = {h.id: h for h in s.execute(select(Household)).scalars()}
        assert len({h.number for h in households.values()}) == len(households)
        assert 2.6 <= PERSONS / len(households) <= 3.1
        for p in persons:
            assert p.area_code == households[p.household_id].area_code or p.living_status != "1"


def test_households_have_one_living_head(seeded) -> None:
    db, _ = seeded
    with db.session() as s:
        persons = s.execute(select(Person)).scalars().all()
        households = s.execute(select(Household)).scalars().all()
    living: dict[int, list[Person]] = defaultdict(list)
    for p in persons:
        if p.living_status == "1":
            living[p.household_id].append(p)
    ended = 0
    for h in households:
        members = living.get(h.id, [])
        if h.status == "1":
            assert 1 <= len(members) <= 8, h.number
            assert sum(m.relation == "02" for m in members) == 1, (h.number, [m.relation for m in members])
        else:
            ended += 1
            assert h.status_date is not None and not members
    assert ended > 0


def test_events_and_history(seeded) -> None:
    db, _ = seeded
    with db.session() as s:
        persons = {p.id: p for p in s.execute(select(Person)).scalars()}
        hist = s.execute(select(PersonHistory)).scalars().all()
        tags = s.execute(select(Tag)).scalars().all()
        logs = s.execute(select(ChangeLog).where(ChangeLog.entity == "person")).scalars().all()
        deceased = [p for p in persons.values() if p.living_status == "2"]
        moved = [p for p in persons.values() if p.living_status == "3"]
        # ~7 per mille a year over three years; ~1 % a year moving out
        assert 0.008 * PERSONS <= len(deceased) <= 0.04 * PERSONS
        assert 0.01 * PERSONS <= len(moved) <= 0.06 * PERSONS
        window = TODAY - timedelta(days=3 * 365 + 1)
        for p in deceased + moved:
            assert p.status_date is not None and window <= p.status_date < TODAY
            assert p.valid_from >= p.status_date  # later only when the village merge moved the record
            assert (p.moved_to is not None) == (p.living_status == "3")
        by_person: dict[int, list[PersonHistory]] = defaultdict(list)
        for h in hist:
            by_person[h.id].append(h)
        for pid, versions in by_person.items():
            versions.sort(key=lambda v: v.valid_from)
            for a, b in zip(versions, versions[1:], strict=False):
                assert a.valid_to == b.valid_from
            assert all(v.valid_from < v.valid_to for v in versions)
            assert versions[-1].valid_to == persons[pid].valid_from
            assert persons[pid].row_version >= len(versions) + 1
        for p in deceased + moved:
            (last_alive,) = [v for v in by_person[p.id] if v.valid_to == p.status_date]
            assert last_alive.living_status == "1"
        # no tag of a person outlives them
        ends = {p.id: p.status_date for p in deceased + moved}
        for tag in tags:
            assert tag.valid_to is None or tag.valid_to > tag.valid_from
            if tag.person_id in ends:
                assert tag.valid_to is not None and tag.valid_to <= ends[tag.person_id]
        # change log: one create per person, and the real old → new values of each death
        creates = Counter(int(entry.entity_id) for entry in logs if entry.action == "create")
        assert len(creates) == PERSONS and set(creates.values()) == {1}
        first_day = {pid: min([persons[pid].valid_from] + [v.valid_from for v in by_person.get(pid, [])]) for pid in persons}
        for entry in logs:
            if entry.action == "create":
                assert entry.effective_date == first_day[int(entry.entity_id)] and entry.changes == {"seed": [None, True]}
        tag_creates = s.execute(text(
            "SELECT COUNT(*) FROM change_log c JOIN tag t ON c.entity = 'tag' AND c.entity_id = CAST(t.id AS VARCHAR(20)) "
            "AND c.action = 'create' AND c.effective_date = t.valid_from")).scalar_one()
        assert tag_creates == len(tags)
        tag_ends = s.execute(text("SELECT COUNT(*) FROM change_log WHERE entity = 'tag' AND action = 'end'")).scalar_one()
        assert tag_ends == sum(1 for t in tags if t.valid_to is not None)
        death_logs = {int(e.entity_id): e for e in logs if e.changes.get("living_status") == ["1", "2"]}
        assert set(death_logs) == {p.id for p in deceased}
        for p in deceased:
            assert death_logs[p.id].effective_date == p.status_date
            assert death_logs[p.id].changes["status_date"] == [None, p.status_date.isoformat()]
        # as of the day before a death the person is alive; on the day, deceased
        victim = min(deceased, key=lambda p: p.id)
        before = {r["id"]: r for r in as_of(s, "person", victim.status_date - timedelta(days=1))}
        on = {r["id"]: r for r in as_of(s, "person", victim.status_date)}
        assert before[victim.id]["living_status"] == "1"
        assert on[victim.id]["living_status"] == "2"
        # persons born after the system start appear from their birth date on
        baby = next(p for p in persons.values() if p.birth_date > TODAY - timedelta(days=700) and p.living_status == "1")
        assert baby.valid_from == baby.birth_date
        assert baby.id not in {r["id"] for r in as_of(s, "person", baby.birth_date - timedelta(days=1))}
        # some heads died or left: their successors became head with a recorded change
        successions = [e for e in logs if e.changes.get("relation", [None, None])[1] == "02"]
        assert successions


def test_tag_rates(seeded) -> None:
    db, _ = seeded
    with db.session() as s:
        persons = {p.id: p for p in s.execute(select(Person).where(Person.living_status == "1")).scalars()}
        households = set(s.execute(select(Household.id).where(Household.status == "1")).scalars())
        open_tags = s.execute(tags_as_of_select(TODAY)).scalars().all()
        all_tags = s.execute(select(Tag)).scalars().all()
    held: dict[str, set[int]] = defaultdict(set)
    for tag in open_tags:
        held[tag.tag_code].add(tag.person_id or tag.household_id)
    old = {pid for pid, p in persons.items() if _age(p.birth_date) >= 60}

    def rate(code: str, among: set[int]) -> float:
        return len(held[code] & among) / len(among)

    everyone = set(persons)
    assert 0.90 <= rate("medical_insured", everyone) <= 0.99
    assert 0.30 <= rate("family_doctor", everyone) <= 0.50
    assert 0.04 <= rate("disabled", everyone) <= 0.085
    assert 0.008 <= rate("veteran", everyone) <= 0.035
    assert 0.04 <= rate("party_member", everyone) <= 0.085
    assert 0.001 <= rate("tekun", everyone) <= 0.012
    assert 0.21 <= rate("hypertension", old) <= 0.35
    assert 0.05 <= rate("diabetes2", old) <= 0.14
    assert 0.015 <= rate("dibao", households) <= 0.05
    assert 0.03 <= rate("poverty_exit", households) <= 0.075
    assert 0.003 <= rate("monitored", households) <= 0.025
    assert held["left_behind_child"] and held["migrant_worker"]
    # party members are political status 01; pension receivers are 60 or older
    assert all(persons[pid].political_status == "01" for pid in held["party_member"])
    for tag in open_tags:
        if tag.tag_code == "pension_insured" and tag.person_id in persons:
            assert (tag.attrs["receiving"] == "1") == (_age(persons[tag.person_id].birth_date, tag.valid_from) >= 60)
        if tag.tag_code == "disabled":
            assert tag.attrs["category"] in "1234567" and tag.attrs["grade"] in "1234"
        if tag.tag_code == "dibao":
            assert tag.attrs["kind"] in ("1", "2") and tag.attrs["monthly_amount"] > 0
    # some tags ended in the past, so the state on an earlier date differs
    assert sum(1 for t in all_tags if t.valid_to is not None) > 0.02 * len(all_tags)
    # attributes follow the tag types' schemas and code lists (checked by the service that edits them)
    with db.session() as s:
        types = tag_types(s)
        by_code: dict[str, list[Tag]] = defaultdict(list)
        for tag in all_tags:
            by_code[tag.tag_code].append(tag)
        for code, tags in by_code.items():
            for tag in tags[:40]:
                clean, issues = check_attrs(s, types[code], tag.attrs)
                assert not issues and clean == tag.attrs, (code, tag.attrs, issues)


def test_merged_village(seeded) -> None:
    db, summary = seeded
    with db.session() as s:
        merged = s.execute(select(Area).where(Area.level == 5, Area.valid_to.is_not(None))).scalars().all()
        assert len(merged) == 1
        old = merged[0]
        assert old.successor_code and old.successor_code != old.code
        assert abs((TODAY - old.valid_to).days - 730) < 40
        assert summary.merged and old.code in summary.merged[0]
        new = s.get(Area, old.successor_code)
        assert new.valid_to is None and new.parent_code == old.parent_code
        # nobody is in the old village now; before the merge its people were there
        assert not s.execute(select(func.count()).select_from(Person).where(Person.area_code.startswith(old.code))).scalar_one()
        before = as_of(s, "person", old.valid_to - timedelta(days=1), area_prefix=old.code)
        assert before
        assert not as_of(s, "person", old.valid_to, area_prefix=old.code)
        after = {r["id"]: r for r in as_of(s, "person", old.valid_to)}
        for r in before:
            assert after[r["id"]]["area_code"].startswith(new.code)
        households = as_of(s, "household", old.valid_to - timedelta(days=1), area_prefix=old.code)
        assert households
        area_logs = s.execute(select(ChangeLog).where(ChangeLog.entity == "area", ChangeLog.action == "end")).scalars().all()
        assert old.code in {e.entity_id for e in area_logs}
        moved_logs = s.execute(select(ChangeLog).where(ChangeLog.entity == "person", ChangeLog.effective_date == old.valid_to)).scalars().all()
        assert any(e.changes.get("area_code", [""])[0].startswith(old.code) for e in moved_logs)


def test_users_batches_and_observations(seeded) -> None:
    db, _ = seeded
    with db.session() as s:
        roles = {u.role for u in s.execute(select(User)).scalars()}
        assert roles == set(ROLES)
        sources = {b.source for b in s.execute(select(ChangeBatch)).scalars()}
        assert sources == {"seed"}
        obs = dict(s.execute(text("SELECT item_code, COUNT(*) FROM observation GROUP BY item_code")).all())
        assert set(obs) == {"cropland_area", "sown_area", "grain_output", "contracted_land", "collective_income", "dibao_paid"}
        # 低保金 paid in the last month ≈ the monthly amounts of the village's 低保 households then
        last = s.execute(text("SELECT MAX(period) FROM observation WHERE item_code = 'dibao_paid'")).scalar_one()
        paid = dict(s.execute(text("SELECT subject_id, value FROM observation WHERE item_code = 'dibao_paid' AND period = :p"),
                              {"p": last}).all())
        month_start = date.fromisoformat(last + "-01")
        month_end = (month_start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        expected: Counter[str] = Counter()
        for tag, household in s.execute(select(Tag, Household).join(Household, Tag.household_id == Household.id)
                                        .where(Tag.tag_code == "dibao")).all():
            if tag.valid_from <= month_end and (tag.valid_to is None or tag.valid_to > month_start):
                expected[household.area_code[:12]] += tag.attrs["monthly_amount"]
        assert sum(expected.values()) > 0
        for village, value in paid.items():
            assert abs(value - expected[village]) <= 0.011 * expected[village] + 1, village
        uscc = s.execute(text("SELECT uscc FROM organisation WHERE kind = '8'")).scalars().all()
        assert len(uscc) == 200 and all(u.startswith("N2339901") for u in uscc)


def test_deterministic(sqlite_template: Path, tmp_path: Path) -> None:
    tables = []
    for name in ("a", "b", "c"):
        path = tmp_path / f"{name}.sqlite3"
        shutil.copyfile(sqlite_template, path)
        db, _ = _seed(f"sqlite:///{path}", persons=1_500, seed=5 if name != "c" else 6)
        with db.engine.connect() as conn:
            tables.append({t: conn.execute(text(f"SELECT * FROM {t} ORDER BY 1")).all()
                           for t in ("person", "person_history", "household", "tag", "change_log")})
        db.engine.dispose()
    assert tables[0] == tables[1]
    assert tables[0]["person"] != tables[2]["person"]


def _schema(db: Database) -> dict[str, tuple]:
    insp = inspect(db.engine)
    return {
        t: (sorted((i["name"], tuple(i["column_names"]), bool(i["unique"])) for i in insp.get_indexes(t)),
            sorted((f["name"], tuple(f["constrained_columns"]), f["referred_table"]) for f in insp.get_foreign_keys(t)))
        for t in insp.get_table_names()
    }


def test_refuses_non_empty_database(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.issues import ValidationFailed

    # a failure in the middle leaves nothing behind
    real = bulk.bulk_insert

    def failing(target, table, data):
        if table == "tag":
            raise RuntimeError("disk full")
        return real(target, table, data)

    monkeypatch.setattr(bulk, "bulk_insert", failing)
    db = Database(db_url)
    schema = _schema(db)
    with pytest.raises(RuntimeError):
        seed_demo(db, 500, 1, TODAY)
    with db.engine.connect() as conn:
        for table in ("area", "person", "household", "change_batch", "change_log", "app_user"):
            assert conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one() == 0, table
    assert _schema(db) == schema  # the indexes and foreign keys dropped for the load are back
    monkeypatch.setattr(bulk, "bulk_insert", real)
    seed_demo(db, 500, 1, TODAY)
    assert _schema(db) == schema
    with pytest.raises(ValidationFailed) as info:
        seed_demo(db, 500, 1, TODAY)
    assert "空库" in str(info.value)
    db.engine.dispose()


def test_cli(runner, db_url: str) -> None:
    result = runner.invoke(args=["seed-demo", "--persons", "400", "--seed", "3", "--today", "2026-11-22", "--quiet"])
    assert result.exit_code == 0, result.output
    assert "400 人" in result.output and "person" in result.output
    again = runner.invoke(args=["seed-demo", "--persons", "400", "--quiet"])
    assert again.exit_code != 0 and "空库" in again.output
    skipped = runner.invoke(args=["seed-demo", "--persons", "400", "--if-empty", "--quiet"])
    assert skipped.exit_code == 0 and "跳过" in skipped.output


def _holders_today(session) -> dict[str, set[int]]:
    held: dict[str, set[int]] = defaultdict(set)
    for tag in session.execute(tags_as_of_select(TODAY)).scalars():
        held[tag.tag_code].add(tag.person_id or tag.household_id)
    return held


def test_cli_leaves_no_tag_type_without_holders(runner, db_url: str) -> None:
    """Every tag type of the dictionary (高龄津贴 included) has holders today, so no report column of a
    tag is always 0 in the demo; the rare kinds (孤儿) get at least one even in a small county."""
    result = runner.invoke(args=["seed-demo", "--persons", "2000", "--seed", "5", "--today", TODAY.isoformat(), "--quiet"])
    assert result.exit_code == 0, result.output
    db = Database(db_url)
    try:
        with db.session() as s:
            types = tag_types(s)
            held = _holders_today(s)
    finally:
        db.engine.dispose()
    assert "aged_allowance" in types and len(types) >= 20
    assert {code for code in types if not held[code]} == set()


def test_care_tags_and_aged_allowance(seeded) -> None:
    """The kinds added later: at plausible rates, on the right people, with their attributes."""
    db, _ = seeded
    with db.session() as s:
        persons = {p.id: p for p in s.execute(select(Person).where(Person.living_status == "1")).scalars()}
        households = set(s.execute(select(Household.id).where(Household.status == "1")).scalars())
        held = _holders_today(s)
        aged_tags = [t for t in s.execute(tags_as_of_select(TODAY)).scalars() if t.tag_code == "aged_allowance"]
        all_aged = s.execute(select(Tag).where(Tag.tag_code == "aged_allowance")).scalars().all()
    everyone = set(persons)
    registered = {pid for pid, p in persons.items() if p.residence_type in ("1", "2")}
    assert 0.005 <= len(held["dibao_edge"] & households) / len(households) <= 0.03
    assert not held["dibao_edge"] & held["dibao"]
    assert 1 <= len(held["orphan"]) <= 3 and 1 <= len(held["unsupported_child"]) <= 5
    assert not held["orphan"] & held["unsupported_child"]
    for pid in held["orphan"] | held["unsupported_child"]:
        assert _age(persons[pid].birth_date) < 18
    assert held["left_behind_elderly"] and all(_age(persons[p].birth_date) >= 60 for p in held["left_behind_elderly"] & everyone)
    assert 1 <= len(held["severe_mental"]) <= 0.008 * len(everyone)
    assert all(_age(persons[p].birth_date) >= 18 for p in held["severe_mental"] & everyone)
    # 高龄津贴: most of the registered 80+ (granted up to two months after the birthday), nobody younger,
    # one open tag each, the band and amount of the age today
    aged80 = {pid for pid in registered if _age(persons[pid].birth_date, TODAY - timedelta(days=90)) >= 80}
    allowance = held["aged_allowance"] & everyone
    assert 0.8 <= len(allowance & aged80) / len(aged80) <= 1.0
    assert all(_age(persons[p].birth_date) >= 80 for p in allowance)
    assert len(aged_tags) == len({t.person_id for t in aged_tags})
    for tag in aged_tags:
        if tag.person_id in persons:
            age = _age(persons[tag.person_id].birth_date)
            band = "1" if age < 90 else "2" if age < 100 else "3"
            assert tag.attrs == {"band": band, "monthly_amount": {"1": 100.0, "2": 200.0, "3": 500.0}[band]}
    # a band change at the 90th birthday: the 80–89 tag ends the day the 90–99 one starts
    by_person: dict[int, list[Tag]] = defaultdict(list)
    for tag in all_aged:
        by_person[tag.person_id].append(tag)
    changed = [sorted(ts, key=lambda t: t.valid_from) for ts in by_person.values() if len(ts) > 1]
    for first, second, *_ in changed:
        assert first.valid_to == second.valid_from and (first.attrs["band"], second.attrs["band"]) in (("1", "2"), ("2", "3"))
        assert _age(persons[first.person_id].birth_date, second.valid_from) in (90, 100) if first.person_id in persons else True

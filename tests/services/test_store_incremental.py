"""The report store brought forward after writes equals the store read whole, frame for frame.

Random sequences of writes through the services (create, update, end, move, retroactive
correction, tag start/end, observation, village merge); after each step the incremental store
(``SnapshotCache`` in memory) and a store started in a "new process" from the persisted files plus
the changes since them must both equal a full read of the database (``YBT_SNAPSHOTS=off``).
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest
from hand_county import County, id_number
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal
from sqlalchemy import select

from app.db import Database
from app.issues import IssueError
from app.models import Area, Household, Person, Tag
from app.reporting import frames
from app.reporting.frames import SnapshotCache
from app.reporting.store_read import read_table
from app.services.areas import merge_area
from app.services.households import create_household
from app.services.observations import record_observation
from app.services.persons import create_person, end_person, move_person, update_person
from app.services.tags import end_tag, grant_tag

TABLES = ("persons", "households", "houses", "organisations", "tags", "areas", "observations")
KEYS = {"tags": ["id"], "areas": ["code"], "observations": ["item_code", "area_code", "period"]}
DAY0 = date(2020, 1, 1)
OPS = ("household", "person", "person", "update", "retro", "end", "move", "tag", "untag", "observation", "merge")


def _canonical(name: str, frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort(KEYS.get(name, ["id", "valid_from"]))


def _full(engine) -> dict[str, pl.DataFrame]:  # noqa: ANN001
    """Every table read whole from the database, in a canonical order."""
    return {name: _canonical(name, read_table(engine, name)) for name in TABLES}


def _assert_same(store: frames.Store, full: dict[str, pl.DataFrame], codes: list[str]) -> None:
    for name in TABLES:
        assert_frame_equal(_canonical(name, store.table(name)), full[name])
    for code in codes:
        expected = frames._parse_tags(full["tags"].filter(pl.col("tag_code") == code), code)
        assert_frame_equal(store.tag_frame(code).sort("id"), expected.sort("id"))


class Writer:
    """Applies one random write; a write the services refuse (a rule, a date) is rolled back and skipped."""

    def __init__(self, db: Database, county: County):
        self.db, self.county, self.seq = db, county, 0

    def run(self, op: str, a: int, b: int) -> None:
        try:
            with self.db.transaction() as s:
                getattr(self, f"_{op}")(s, a, b)
        except IssueError:
            pass

    def _pick(self, s, model, a: int, *where):  # noqa: ANN001, ANN202
        ids = s.execute(select(model.id).where(*where).order_by(model.id)).scalars().all()
        return ids[a % len(ids)] if ids else None

    def _villages(self, s) -> list[str]:  # noqa: ANN001
        return s.execute(select(Area.code).where(Area.level == 5, Area.valid_to.is_(None)).order_by(Area.code)).scalars().all()

    def _household(self, s, a: int, b: int) -> None:  # noqa: ANN001
        self.seq += 1
        villages = self._villages(s)
        create_household(s, self.county.admin, {"number": f"P{self.seq:05d}-{a}", "area_code": villages[a % len(villages)]},
                         effective=DAY0 + timedelta(days=b % 1500))

    def _person(self, s, a: int, b: int) -> None:  # noqa: ANN001
        hid = self._pick(s, Household, a, Household.status == "1")
        if hid is None:
            return
        self.seq += 1
        birth = date(1940, 1, 1) + timedelta(days=(a * 37 + b) % 25000)
        create_person(s, self.county.admin, {"id_number": id_number(birth, 100 + self.seq % 800), "name": f"测试{self.seq}",
                                             "household_id": hid, "area_code": s.get(Household, hid).area_code, "relation": "20"},
                      effective=max(birth, DAY0 + timedelta(days=b % 1500)), confirm_warnings=True)

    def _alive(self, s, a: int):  # noqa: ANN001, ANN202
        return self._pick(s, Person, a, Person.living_status == "1")

    def _update(self, s, a: int, b: int) -> None:  # noqa: ANN001
        pid = self._alive(s, a)
        if pid is not None:
            person = s.get(Person, pid)
            on = min(date.today(), person.valid_from + timedelta(days=1 + b % 400))
            update_person(s, self.county.admin, pid, {"phone": f"139{b:08d}"[:11]}, effective=on, confirm_warnings=True)

    def _retro(self, s, a: int, b: int) -> None:  # noqa: ANN001
        pid = self._pick(s, Person, a)
        if pid is not None:
            person = s.get(Person, pid)
            on = max(person.birth_date or DAY0, person.valid_from - timedelta(days=1 + b % 900))
            update_person(s, self.county.admin, pid, {"education": ["10", "20", "30", "40"][b % 4]}, effective=on,
                          confirm_warnings=True)

    def _end(self, s, a: int, b: int) -> None:  # noqa: ANN001
        pid = self._alive(s, a)
        if pid is not None:
            on = min(date.today(), s.get(Person, pid).valid_from + timedelta(days=b % 300))
            end_person(s, self.county.admin, pid, "death", on, confirm_warnings=True)

    def _move(self, s, a: int, b: int) -> None:  # noqa: ANN001
        pid, hid = self._alive(s, a), self._pick(s, Household, b, Household.status == "1")
        if pid is not None and hid is not None and s.get(Person, pid).household_id != hid:
            on = min(date.today(), s.get(Person, pid).valid_from + timedelta(days=1 + b % 200))
            move_person(s, self.county.admin, pid, hid, on, confirm_warnings=True)

    def _tag(self, s, a: int, b: int) -> None:  # noqa: ANN001
        hid = self._pick(s, Household, a, Household.status == "1")
        if hid is not None:
            grant_tag(s, self.county.mca, "dibao", hid, DAY0 + timedelta(days=b % 1500),
                      attrs={"kind": str(1 + b % 2), "monthly_amount": 100 + b % 900}, confirm_warnings=True)

    def _untag(self, s, a: int, b: int) -> None:  # noqa: ANN001
        tid = self._pick(s, Tag, a, Tag.valid_to.is_(None))
        if tid is not None:
            end_tag(s, self.county.mca, tid, s.get(Tag, tid).valid_from + timedelta(days=b % 500))

    def _observation(self, s, a: int, b: int) -> None:  # noqa: ANN001
        villages = self._villages(s)
        record_observation(s, self.county.admin, "cropland_area", villages[a % len(villages)], str(2020 + b % 5), float(b % 5000))

    def _merge(self, s, a: int, b: int) -> None:  # noqa: ANN001
        villages = self._villages(s)
        if len(villages) > 1:
            old = villages[a % len(villages)]
            into = [v for v in villages if v != old][b % (len(villages) - 1)]
            merge_area(s, self.county.admin, old, into, min(date.today(), DAY0 + timedelta(days=400 + b % 1500)))


steps = st.lists(st.tuples(st.sampled_from(OPS), st.integers(0, 10_000), st.integers(0, 10_000)), min_size=3, max_size=6)


@settings(max_examples=4, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@example(writes=[("household", 1, 7), ("person", 0, 3), ("person", 1, 900), ("tag", 0, 10), ("untag", 0, 40),
                 ("update", 0, 5), ("retro", 1, 300), ("move", 0, 1), ("end", 1, 20), ("observation", 0, 2),
                 ("merge", 0, 0)])  # every kind of write at least once, whatever the random draws
@given(writes=steps)
def test_incremental_store_equals_full_read(db: Database, county: County, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             writes: list[tuple[str, int, int]]) -> None:
    monkeypatch.setattr(frames, "PERSIST_AFTER_ROWS", 3)  # write files often, so older files plus changes are used too
    directory = tmp_path / "snapshots"
    warm = SnapshotCache()
    warm.configure(db.engine, directory=directory)
    writer = Writer(db, county)
    # a first household so that persons can be made; the county is shared by the examples of one test
    writer.run("household", 0, 100)
    store = warm.store(db.engine)
    for name in TABLES:
        store.table(name)
    store.tag_frame("dibao")
    for op, a, b in writes:
        writer.run(op, a, b)
        store = warm.store(db.engine)
        _assert_same(store, _full(db.engine), ["dibao"])
    assert store.disk is not None and store.disk.dir.is_dir()
    fresh = SnapshotCache()  # a new process: the files on disk and the changes since them
    fresh.configure(db.engine, directory=directory)
    _assert_same(fresh.store(db.engine), _full(db.engine), ["dibao"])

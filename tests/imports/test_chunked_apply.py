"""An import applied in chunks (issue 15 item 7): each chunk commits on its own with its own change batch,
so other writers get in between chunks; a save made between two chunks is read again, not overwritten; an
apply that stops half-way leaves the import ``partial`` with every committed chunk whole, and applying
it again completes it exactly as an uninterrupted apply would; a preview rolls each chunk back and
tells the same outcome as one long transaction.

The file is the hand-made ledger of test_apply (12 records: households, persons, a household tag), cut
into chunks of 2 records, so every kind of reference crosses a chunk boundary: a person's new household
(H-100, chunk 1) and a tag's new household holder (last chunk)."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from hand_county import VILLAGE_A, County
from ledger import dead_pid, parsed, pid, tag
from sqlalchemy import func, select
from sqlmodel import Session
from test_apply import LI, SUN, ZHAO, ZHOU, base, ledger
from test_service import CONTENT, count

from app.db import Database, FairLock
from app.models import ChangeBatch, ChangeLog, Household, ImportBatch, ImportConflict, Person, Tag
from app.services import imports
from app.services import persons as person_service
from app.services import tags as tag_service
from app.services.ledger_import import apply as apply_module

# what the ledger adds to base(): worked out from the file by hand (test_apply's outcome table)
NEW_PERSONS = {SUN: "孙三", LI: "李四", ZHOU: "周五"}
NEW_HOUSEHOLDS = {"H-100"}


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(apply_module, "CHUNK_RECORDS", 2)
    monkeypatch.setattr(apply_module, "SQLITE_CHUNK_PAUSE_S", 0.0)


@pytest.fixture
def reader(monkeypatch: pytest.MonkeyPatch) -> list:
    records = ledger()
    monkeypatch.setattr(imports, "parse", lambda session, content, file_name, **kw: parsed(records, name=file_name))
    return records


def _final_state(session: Session) -> dict:
    """What an apply leaves, by keys (ids differ between runs)."""
    session.expire_all()
    people = {p.id_number: (p.name, p.phone) for p in session.execute(select(Person)).scalars()}
    numbers = {h.id: h.number for h in session.execute(select(Household)).scalars()}
    members = {p.id_number: numbers.get(p.household_id) for p in session.execute(select(Person)).scalars()}
    tags = sorted((t.tag_code, numbers.get(t.household_id), dict(t.attrs)) for t in session.execute(select(Tag)).scalars())
    conflicts = sorted((c.record_key, c.field, c.file_value) for c in session.execute(select(ImportConflict)).scalars())
    return {"people": people, "members": members, "tags": tags, "conflicts": conflicts}


def _expected_after_base_and_file(before: dict) -> dict:
    people = {**before["people"], **{k: (name, None) for k, name in NEW_PERSONS.items()}}
    people[ZHAO] = ("赵一", "13800000001")  # the name disagrees (queued), the phone fills a blank
    members = {**before["members"], SUN: "H-100", LI: "H-100", ZHOU: "H-100"}
    return {"people": people, "members": members, "tags": [("dibao", "H-100", {"kind": "2"})],
            "conflicts": [(ZHAO, "name", "赵壹")]}


def test_chunks_commit_with_their_own_batches(session: Session, county: County, reader: list, small_chunks: None) -> None:
    base(session, county)
    before = _final_state(session)
    seen: list[tuple[int, int]] = []
    batch, result = imports.run_import(session, county.cadre_a, CONTENT, "台账.xlsx", area_code=VILLAGE_A, dry_run=False,
                                       on_chunk=lambda done, total: seen.append((done, total)))
    assert batch.status == "applied"
    assert _final_state(session) == _expected_after_base_and_file(before)
    # 12 records in chunks of 2, each chunk ended (committed) on its own
    assert seen == [(2, 12), (4, 12), (6, 12), (8, 12), (10, 12), (12, 12)]
    chunk_batches = session.execute(select(ChangeBatch.id).where(ChangeBatch.import_id == batch.id)).scalars().all()
    # chunks that changed nothing leave no batch: 1 (H-100) · 2 (赵一's phone) · 3 (孙三, 李四) · 4 (周五) · 6 (the tag)
    assert len(chunk_batches) == 5 and result.change_batch_ids == sorted(chunk_batches)
    assert batch.change_batch_id == min(chunk_batches)
    changes, total = imports.import_changes(session, county.cadre_a, batch.id)
    assert total == 1 + 1 + 3 + 1 and {c.entity for c in changes} == {"household", "person", "tag"}
    assert {k: batch.counts[k] for k in ("applied", "conflict", "rejected")} == {"applied": 3, "conflict": 1, "rejected": 4}


def test_preview_in_chunks_tells_what_one_transaction_tells(session: Session, county: County,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    # and a person tag whose holder (周五, new, in the new household H-100) an earlier chunk created
    records = [*ledger(), tag(8, "pension_insured", ZHOU, attrs={"receiving": "1"})]
    monkeypatch.setattr(imports, "parse", lambda session, content, file_name, **kw: parsed(records, name=file_name))
    base(session, county)
    before = (_final_state(session), count(session, ChangeLog), count(session, ChangeBatch))
    whole, whole_result = imports.run_import(session, county.cadre_a, CONTENT, "台账.xlsx", area_code=VILLAGE_A)
    monkeypatch.setattr(apply_module, "CHUNK_RECORDS", 2)
    chunked, chunked_result = imports.run_import(session, county.cadre_a, CONTENT, "台账.xlsx", area_code=VILLAGE_A)
    outcome = [(o.record.entity, o.record.key, o.status, [i.code for i in o.issues]) for o in chunked_result.outcomes]
    assert outcome == [(o.record.entity, o.record.key, o.status, [i.code for i in o.issues]) for o in whole_result.outcomes]
    # the tag's holder (H-100) and 李四's household were created by earlier, rolled-back chunks: still "new", not refused
    assert ("tag", "dibao:H-100", "new", []) in outcome and ("person", LI, "new", []) in outcome
    assert ("tag", f"pension_insured:{ZHOU}", "new", []) in outcome
    assert chunked.counts == whole.counts and chunked.status == whole.status == "previewed"
    assert (_final_state(session), count(session, ChangeLog), count(session, ChangeBatch)) == before


def test_a_save_between_two_chunks_is_read_again(session: Session, db: Database, county: County, reader: list,
                                                 small_chunks: None) -> None:
    ids = base(session, county)
    held = session.get(Person, ids["zhao"])  # a row the import's session already holds (as after an earlier chunk)

    def cadre_saves_meanwhile(done: int, _total: int) -> None:
        if done == 2:  # after the households' chunk, before 赵一's row is compared
            with db.session() as other:
                person_service.update_person(other, county.cadre_a, ids["zhao"], {"name": "赵壹"}, effective=date(2024, 6, 1))
                other.commit()

    batch, result = imports.run_import(session, county.cadre_a, CONTENT, "台账.xlsx", area_code=VILLAGE_A, dry_run=False,
                                       on_chunk=cadre_saves_meanwhile)
    zhao = next(o for o in result.outcomes if o.record.key == ZHAO)
    # the file's name now agrees with the database: no conflict asked, the phone filled, the cadre's save kept
    assert (zhao.status, zhao.conflicts, zhao.changes) == ("changed", {}, {"phone": (None, "13800000001")})
    assert count(session, ImportConflict) == 0
    session.expire_all()
    assert (held.name, held.phone) == ("赵壹", "13800000001")


def test_an_interrupted_apply_is_partial_and_completes_when_applied_again(
        session: Session, county: County, reader: list, small_chunks: None, monkeypatch: pytest.MonkeyPatch) -> None:
    base(session, county)
    before = _final_state(session)
    real_grant = tag_service.grant_tag

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(tag_service, "grant_tag", broken)  # the last chunk (the tag) fails
    with pytest.raises(RuntimeError):
        imports.run_import(session, county.cadre_a, CONTENT, "台账.xlsx", area_code=VILLAGE_A, dry_run=False)
    session.expire_all()
    batch = session.execute(select(ImportBatch)).scalar_one()
    assert batch.status == "partial"
    assert batch.summary["interrupted"] == {"done": 10, "total": 12, "error": "RuntimeError"}
    # the committed chunks are whole: the household, the three new persons and the phone; nothing of the failed chunk
    state = _final_state(session)
    assert state["people"] == _expected_after_base_and_file(before)["people"] and state["tags"] == []
    assert batch.change_batch_id == session.execute(select(func.min(ChangeBatch.id)).where(ChangeBatch.import_id == batch.id)).scalar()

    monkeypatch.setattr(tag_service, "grant_tag", real_grant)
    resumed, result = imports.apply_import(session, county.cadre_a, batch.id)
    assert (resumed.id, resumed.status, resumed.summary.get("resumed")) == (batch.id, "applied", True)
    assert _final_state(session) == _expected_after_base_and_file(before)  # the conflict is not asked twice
    assert [o.status for o in result.outcomes if o.record.entity == "tag"] == ["new"]
    _changes, total = imports.import_changes(session, county.cadre_a, batch.id)
    assert total == 1 + 1 + 3 + 1  # both runs' batches belong to the import


def test_a_failure_in_the_first_chunk_writes_nothing(session: Session, county: County, reader: list,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """One chunk (the default size holds this file) is one transaction: nothing of it stays."""
    base(session, county)
    before = (count(session, Person), count(session, Household), count(session, ChangeLog), count(session, ChangeBatch))
    monkeypatch.setattr(tag_service, "grant_tag", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("disk full")))
    with pytest.raises(RuntimeError):
        imports.run_import(session, county.cadre_a, CONTENT, "台账.xlsx", area_code=VILLAGE_A, dry_run=False)
    session.expire_all()
    assert (count(session, Person), count(session, Household), count(session, ChangeLog), count(session, ChangeBatch)) == before
    assert count(session, ImportBatch) == 0


def test_another_writer_saves_between_chunks_of_a_running_import(db: Database, session: Session, county: County,
                                                                  reader: list, small_chunks: None) -> None:
    """The import runs in a thread; parked between its first two chunks, a save of another village goes
    through at once (with one long transaction it would wait for the whole import on SQLite)."""
    base(session, county)
    between, saved = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def park(done: int, _total: int) -> None:
        if done == 2:
            between.set()
            saved.wait(20)

    def run() -> None:
        with db.session() as own:
            try:
                imports.run_import(own, county.cadre_a, CONTENT, "台账.xlsx", area_code=VILLAGE_A, dry_run=False, on_chunk=park)
            except BaseException as exc:  # reported below
                failures.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    assert between.wait(20)
    done: list[str] = []

    def save() -> None:
        with db.session() as other:
            person_service.create_person(other, county.cadre_b, {"id_number": pid(date(1992, 2, 2), 81), "name": "乙村新人",
                                                                 "area_code": county.cadre_b.area_code}, effective=date(2024, 6, 1))
            other.commit()
            done.append("saved")

    saver = threading.Thread(target=save)
    saver.start()
    saver.join(10)
    finished_while_import_ran = done == ["saved"] and worker.is_alive()
    saved.set()
    worker.join(30)
    assert finished_while_import_ran and not failures
    session.expire_all()
    assert session.execute(select(ImportBatch.status)).scalar_one() == "applied"


def test_fair_lock_hands_over_in_arrival_order() -> None:
    lock = FairLock()
    order: list[str] = []
    assert lock.acquire()
    ready = [threading.Event() for _ in range(3)]

    def waiter(name: str, i: int) -> None:
        ready[i].set()
        assert lock.acquire(5)
        order.append(name)
        lock.release()

    threads = []
    for i, name in enumerate(("a", "b", "c")):
        t = threading.Thread(target=waiter, args=(name, i))
        t.start()
        ready[i].wait(5)
        while len(lock._waiters) < i + 1:  # queued before the next one comes
            threading.Event().wait(0.001)
        threads.append(t)
    lock.release()  # the holder lets go and at once asks again: it comes after the three waiters
    assert lock.acquire(5)
    order.append("holder again")
    lock.release()
    for t in threads:
        t.join(5)
    assert order == ["a", "b", "c", "holder again"]
    assert lock.acquire(0.01)  # free again: taken at once
    lock.release()


def test_an_apply_whose_process_was_killed_is_found_partial(session: Session, county: County) -> None:
    """``ybt import`` killed (kill -9) half-way: no job row to sweep, but the import names the process that
    writes it; looking at the import finds that process gone and makes it 写入中断. A live writer is left alone."""
    import os
    import socket

    host, pid = socket.gethostname()[:60], dead_pid()
    killed = ImportBatch(file_name="被中断.xlsx", sha256="c" * 64, area_code=VILLAGE_A, status="applying",
                         actor_id=county.cadre_a.id, summary={"runner": f"{host}:{pid}"})
    running = ImportBatch(file_name="正在写.xlsx", sha256="d" * 64, area_code=VILLAGE_A, status="applying",
                          actor_id=county.cadre_a.id, summary={"runner": f"{host}:{os.getpid()}"})
    elsewhere = ImportBatch(file_name="别处.xlsx", sha256="e" * 64, area_code=VILLAGE_A, status="applying",
                            actor_id=county.cadre_a.id, summary={"runner": f"another-host:{pid}"})
    session.add_all([killed, running, elsewhere])
    session.commit()
    ids = (killed.id, running.id, elsewhere.id)
    seen = [imports.get_import(session, county.cadre_a, i) for i in ids]
    assert [b.status for b in seen] == ["partial", "applying", "applying"]
    session.expire_all()
    stored = session.get(ImportBatch, ids[0])
    assert stored.status == "partial" and stored.summary["interrupted"]["error"] == "写入它的进程已中断"

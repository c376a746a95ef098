"""Imports as a whole: dry run writes nothing, apply is atomic and idempotent, every import is listed
with what it changed, the conflict queue keeps or takes values with history, rejects come back."""

from __future__ import annotations

import io
from datetime import date

import pytest
from hand_county import VILLAGE_A, County
from ledger import household, parsed, person, tag
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlmodel import Session
from test_apply import ZHAO, base, ledger

from app.issues import Conflict
from app.models import ChangeBatch, ChangeLog, Household, ImportBatch, ImportConflict, Person, Tag
from app.services import imports
from app.services import persons as person_service
from app.services import tags as tag_service

CONTENT = b"ledger bytes"


@pytest.fixture
def reader(monkeypatch: pytest.MonkeyPatch) -> list:
    """The pipeline replaced by hand-made output (the reader itself is tested with its own fixtures)."""
    records = ledger()
    monkeypatch.setattr(imports, "parse", lambda session, content, file_name, **kw: parsed(records, name=file_name))
    return records


def count(session: Session, model: type) -> int:
    return session.execute(select(func.count()).select_from(model)).scalar_one()


def test_dry_run_writes_nothing_but_its_record(session: Session, county: County, reader: list) -> None:
    base(session, county)
    persons_before, logs_before = count(session, Person), count(session, ChangeLog)
    batch, result = imports.run_import(session, county.cadre_a, CONTENT, "台账.xlsx", area_code=VILLAGE_A)
    assert batch.status == "previewed"
    assert {k: batch.counts[k] for k in ("rows", "applied", "conflict", "rejected")} == {"rows": 8, "applied": 3, "conflict": 1, "rejected": 4}
    assert [s["key"] for s in batch.summary["samples"]["new"]] == ["H-100", imports_key(reader, 5), imports_key(reader, 6),
                                                                   "dibao:H-100", imports_key(reader, 8)]
    assert (count(session, Person), count(session, ChangeLog), count(session, ImportConflict)) == (persons_before, logs_before, 0)
    # applying the preview writes it
    applied, _ = imports.apply_import(session, county.cadre_a, batch.id)
    assert (applied.id, applied.status) == (batch.id, "applied")
    assert count(session, Person) == persons_before + 3
    assert count(session, ImportConflict) == 1
    changes, total = imports.import_changes(session, county.cadre_a, batch.id)
    assert total == 1 + 3 + 1 + 1 and {c.entity for c in changes} == {"household", "person", "tag"}
    assert [b.id for b in imports.list_imports(session, county.cadre_a)] == [batch.id]
    assert imports.list_imports(session, county.cadre_b) == []


def imports_key(records: list, row: int) -> str:
    return next(r.key for r in records if r.entity == "person" and r.source.row == row)


def test_apply_is_atomic(session: Session, county: County, reader: list, monkeypatch: pytest.MonkeyPatch) -> None:
    base(session, county)
    before = (count(session, Person), count(session, Household), count(session, ChangeLog), count(session, Tag))

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(tag_service, "grant_tag", broken)  # fails after the households and persons were written
    with pytest.raises(RuntimeError):
        imports.run_import(session, county.cadre_a, CONTENT, "台账.xlsx", area_code=VILLAGE_A, dry_run=False)
    assert (count(session, Person), count(session, Household), count(session, ChangeLog), count(session, Tag)) == before
    assert count(session, ImportBatch) == 0


def test_same_file_twice_changes_nothing(session: Session, county: County, reader: list) -> None:
    base(session, county)
    first, _ = imports.run_import(session, county.cadre_a, CONTENT, "台账.xlsx", area_code=VILLAGE_A, dry_run=False)
    logs = count(session, ChangeLog)
    batches = count(session, ChangeBatch)
    second, result = imports.run_import(session, county.cadre_a, CONTENT, "台账.xlsx", area_code=VILLAGE_A, dry_run=False)
    assert count(session, ChangeLog) == logs
    assert count(session, ChangeBatch) == batches and second.change_batch_id is None  # not even an empty batch
    assert (second.counts["applied"], second.counts["conflict"], second.counts["rejected"]) == (0, 1, 4)
    assert second.counts["unchanged"] == 3
    assert "已于" in second.summary["notes"][0] and f"第 {first.id} 次导入" in second.summary["notes"][0]
    assert count(session, ImportConflict) == 1


def test_conflict_keep_and_take(session: Session, county: County, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = base(session, county)
    person_service.update_person(session, county.admin, ids["zhao"], {"phone": "13900000000", "education": "20"})
    tag_service.grant_tag(session, county.admin, "dibao", ids["h001"], date(2023, 1, 1), attrs={"kind": "1"})
    session.commit()
    records = [household(4, "H-001", address="甲村一号"), person(4, ZHAO, "赵壹", "H-001", phone="13800000001"),
               tag(4, "dibao", "H-001", attrs={"kind": "2"})]
    monkeypatch.setattr(imports, "parse", lambda s, c, f, **kw: parsed(records, name=f))
    batch, _ = imports.run_import(session, county.cadre_a, CONTENT, "台账.xlsx", area_code=VILLAGE_A, dry_run=False)
    queue = imports.conflicts(session, county.cadre_a, import_id=batch.id)
    assert [(v.conflict.field, v.field_label, v.db_text, v.file_text) for v in queue] == [
        ("address", "住址", "甲村1号", "甲村一号"), ("name", "姓名", "赵一", "赵壹"), ("phone", "联系电话", "13900000000", "13800000001"),
        ("attrs.kind", "低保·低保类别", "1", "2")]
    by_field = {v.conflict.field: v.conflict.id for v in queue}
    assert imports.conflicts(session, county.cadre_b) == []

    imports.resolve_conflicts(session, county.cadre_a, [by_field["name"]], "keep")
    imports.resolve_conflicts(session, county.cadre_a, [by_field["phone"], by_field["attrs.kind"]], "take")
    zhao = session.get(Person, ids["zhao"])
    assert (zhao.name, zhao.phone) == ("赵一", "13800000001")
    kinds = session.execute(select(Tag.attrs, Tag.valid_to).where(Tag.household_id == ids["h001"]).order_by(Tag.id)).all()
    assert [k[0]["kind"] for k in kinds] == ["1", "2"] and kinds[0][1] is not None and kinds[1][1] is None
    taken = session.get(ImportConflict, by_field["phone"])
    assert (taken.status, taken.resolved_by) == ("taken", county.cadre_a.id)
    assert session.execute(select(ChangeLog.changes).where(ChangeLog.batch_id == taken.change_batch_id,
                                                           ChangeLog.entity == "person")).scalar_one() == {
        "phone": ["13900000000", "13800000001"]}

    # someone edits the address meanwhile: taking the stale file value is refused, nothing written
    from app.services import households as household_service
    household_service.update_household(session, county.admin, ids["h001"], {"address": "甲村3号"})
    session.commit()
    with pytest.raises(Conflict):
        imports.resolve_conflicts(session, county.cadre_a, [by_field["address"]], "take")
    assert session.get(ImportConflict, by_field["address"]).status == "open"

    # the same file again: the kept name is not asked again, nothing else is open twice
    again, _ = imports.run_import(session, county.cadre_a, CONTENT, "台账.xlsx", area_code=VILLAGE_A, dry_run=False)
    assert [c.conflict.field for c in imports.conflicts(session, county.cadre_a)] == ["address"]


def test_rejects_workbook(session: Session, county: County, reader: list) -> None:
    base(session, county)
    batch, _ = imports.run_import(session, county.cadre_a, CONTENT, "台账.xlsx", area_code=VILLAGE_A)
    data = imports.rejects_workbook(session, county.cadre_a, batch.id)
    ws = load_workbook(io.BytesIO(data)).worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][-2:] == ("错误原因", "原位置")
    assert [r[-1] for r in rows[1:]] == [f"工作表 花名册 第{n}行" for n in (7, 9, 10, 11)]
    assert "乙村" in rows[1][-2] and "出生日期无法识别" in rows[4][-2]
    assert count(session, Person) == 2  # building it wrote nothing


def test_read_only_roles_cannot_discard_and_tampered_conflict_ids_are_not_found(session: Session, county: County,
                                                                              reader: list) -> None:
    from app.issues import NotFound, PermissionDenied

    base(session, county)
    batch, _ = imports.run_import(session, county.cadre_a, CONTENT, "台账.xlsx", area_code=VILLAGE_A)
    with pytest.raises(PermissionDenied):
        imports.discard_import(session, county.mca, batch.id)  # a department may read the preview, not drop it
    assert session.get(ImportBatch, batch.id).status == "previewed"
    assert imports.discard_import(session, county.cadre_a, batch.id).status == "discarded"
    with pytest.raises(NotFound):
        imports.resolve_conflicts(session, county.admin, [2**70], "keep")  # beyond SQLite's integers: no crash

"""Download → edit offline → upload → preview → apply, on the hand-made village (both backends)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from sqlmodel import Session
from village_data import VILLAGE_A, Village, append_row, edit, find_row, idn, set_cell

from app.clock import today
from app.issues import Conflict, ValidationFailed
from app.models import ChangeBatch, ChangeLog, Household, Person, Tag, WorkbookUpload
from app.services import persons, workbook

NEW_ID = idn(date(1985, 2, 14), 19)


def upload(session: Session, v: Village, content: bytes) -> tuple[WorkbookUpload, workbook.Preview]:
    stored = workbook.store_upload(session, v.cadre, VILLAGE_A, "甲村一表.xlsx", content)
    session.commit()
    return stored, workbook.preview(session, v.cadre, stored)


def summary(preview: workbook.Preview) -> set[tuple[str, str, str]]:
    return {(r.entity, r.kind, r.title.split(" ")[0]) for r in preview.rows}


def test_round_trip_without_edits_changes_nothing(session: Session, village: Village) -> None:
    content = workbook.download_workbook(session, village.cadre, VILLAGE_A).content
    session.commit()
    stored, preview = upload(session, village, content)
    assert preview.rows == [] and not preview.blocked
    assert preview.unchanged == {"household": 2, "person": 4, "tag": 3, "house": 0}
    batches = session.execute(select(func.count()).select_from(ChangeBatch)).scalar()
    workbook.apply(session, village.cadre, stored, digest=preview.digest)
    session.commit()
    # an empty apply still records the act (who applied which file), but changes no record
    assert session.execute(select(func.count()).select_from(ChangeBatch)).scalar() == batches + 1
    assert session.execute(select(func.count()).select_from(ChangeLog).where(ChangeLog.batch_id > batches)).scalar() == 0


def _edit_each_kind(wb) -> None:  # noqa: ANN001
    people, houses, tags = wb["人员"], wb["户"], wb["标签"]
    li = find_row(people, "姓名", "李一")
    set_cell(people, li, "联系电话", "13900001111")
    set_cell(people, li, "婚姻状况", "已婚")
    zhang2 = find_row(people, "姓名", "张二")
    set_cell(people, zhang2, "人员状态", "死亡")
    set_cell(people, zhang2, "死亡或迁出日期", date(2026, 10, 1))
    people.delete_rows(find_row(people, "姓名", "王一"))  # deleted, not ended: asked about, left alone
    append_row(houses, {"户号": "A003", "户别": "家庭户", "住址": "A003号"})
    append_row(people, {"户号": "A003", "公民身份号码": NEW_ID, "姓名": "孙一", "与户主关系": "户主", "民族": "汉族",
                        "居住类型": "户籍人口（本地常住）"})
    append_row(tags, {"对象": NEW_ID, "标签": "党员", "开始日期": "2026-07-01"})
    set_cell(tags, find_row(tags, "标签", "党员"), "结束日期", date(2026, 11, 1))
    set_cell(tags, find_row(tags, "标签", "低保"), "低保·月保障金额", 600)


def test_each_kind_of_edit_previews_and_applies_exactly(session: Session, village: Village) -> None:
    ids = village.ids
    content = edit(workbook.download_workbook(session, village.cadre, VILLAGE_A).content, _edit_each_kind)
    session.commit()
    stored, preview = upload(session, village, content)

    assert summary(preview) == {
        ("household", "new", "户号"), ("person", "new", "孙一"), ("person", "changed", "李一"),
        ("person", "ended", "张二"), ("person", "missing", "王一"),
        ("tag", "new", "党员"), ("tag", "ended", "党员"), ("tag", "changed", "低保"),
    }
    assert preview.counts == {"new": 3, "changed": 2, "ended": 2, "invalid": 0, "conflict": 0, "missing": 1}
    assert preview.unchanged == {"household": 2, "person": 1, "tag": 1, "house": 0}
    li = next(r for r in preview.rows if r.title.startswith("李一"))
    assert [(c.label, c.old, c.new, c.column) for c in li.changes] == [
        ("婚姻状况", "", "已婚", "J"), ("联系电话", "", "13900001111", "N")]
    zhang2 = next(r for r in preview.rows if r.title.startswith("张二"))
    assert [(c.label, c.old, c.new) for c in zhang2.changes] == [("人员状态", "在世", "死亡"), ("死亡或迁出日期", "", "2026-10-01")]
    dibao = next(r for r in preview.rows if r.entity == "tag" and r.kind == "changed")
    assert [(c.old, c.new) for c in dibao.changes] == [("低保类别：农村低保；月保障金额：500；保障人数：3",
                                                       "低保类别：农村低保；月保障金额：600；保障人数：3")]
    before = session.execute(select(func.max(ChangeBatch.id))).scalar()

    batch, _ = workbook.apply(session, village.cadre, stored, digest=preview.digest)
    session.commit()

    assert batch.source == "excel" and batch.file_name == "甲村一表.xlsx" and batch.actor_id == village.cadre.id
    li1, zhang2_, wang1 = (session.get(Person, ids[k]) for k in ("li1", "zhang2", "wang1"))
    assert (li1.phone, li1.marital_status, li1.row_version) == ("13900001111", "20", 2)
    assert (zhang2_.living_status, zhang2_.status_date) == ("2", date(2026, 10, 1))
    assert wang1.living_status == "1"  # the deleted row ended nobody
    a003 = session.execute(select(Household).where(Household.number == "A003")).scalar_one()
    sun = session.execute(select(Person).where(Person.id_number == NEW_ID)).scalar_one()
    assert (a003.area_code, sun.name, sun.household_id, sun.area_code, sun.sex, sun.birth_date) == (
        VILLAGE_A, "孙一", a003.id, VILLAGE_A, "1", date(1985, 2, 14))
    assert session.get(Tag, ids["party"]).valid_to == date(2026, 11, 1)
    old_dibao = session.get(Tag, ids["dibao"])
    new_dibao = session.execute(select(Tag).where(Tag.tag_code == "dibao", Tag.valid_to.is_(None))).scalar_one()
    assert old_dibao.valid_to == today() and new_dibao.valid_from == today()
    assert new_dibao.attrs == {"kind": "2", "monthly_amount": 600.0, "covered_persons": 3.0}
    sun_party = session.execute(select(Tag).where(Tag.person_id == sun.id)).scalar_one()
    assert (sun_party.tag_code, sun_party.valid_from) == ("party_member", date(2026, 7, 1))

    logs = session.execute(select(ChangeLog).where(ChangeLog.batch_id > before)).scalars().all()
    assert {log.batch_id for log in logs} == {batch.id}
    assert sorted((log.entity, log.action) for log in logs) == sorted([
        ("household", "create"), ("person", "create"), ("person", "update"), ("person", "end"),
        ("tag", "end"), ("tag", "end"), ("tag", "create"), ("tag", "create"),
    ])
    li_log = next(log for log in logs if log.entity == "person" and log.entity_id == str(ids["li1"]))
    assert li_log.changes == {"marital_status": [None, "20"], "phone": [None, "13900001111"]}

    assert session.get(WorkbookUpload, stored.id).status == "applied"
    with pytest.raises(Conflict) as refused:
        workbook.apply(session, village.cadre, stored, digest=preview.digest)
    assert refused.value.issues[0].code == "upload-already-decided"


def test_a_record_saved_on_the_server_after_the_download_is_a_conflict(session: Session, village: Village) -> None:
    ids = village.ids
    content = workbook.download_workbook(session, village.cadre, VILLAGE_A).content
    session.commit()
    # meanwhile another cadre saves 李一 (phone) and 王一 (education) in the web
    persons.update_person(session, village.colleague, ids["li1"], {"phone": "13700002222"})
    persons.update_person(session, village.colleague, ids["wang1"], {"education": "20"})
    session.commit()

    def change(wb) -> None:  # noqa: ANN001
        people = wb["人员"]
        li = find_row(people, "姓名", "李一")
        set_cell(people, li, "联系电话", "13900001111")
        set_cell(people, li, "文化程度", "大学本科毕业")

    stored, preview = upload(session, village, edit(content, change))
    assert preview.counts["conflict"] == 1 and preview.writes == 0
    conflict = preview.of("conflict")[0]
    assert conflict.key == f"person:{ids['li1']}" and "甲村文书" in conflict.server_note
    assert [(c.label, c.old, c.new) for c in conflict.changes] == [("文化程度", "", "大学本科毕业"), ("联系电话", "", "13900001111")]
    assert [(c.label, c.old, c.new) for c in conflict.server_changes] == [("联系电话", "", "13700002222")]
    assert preview.unchanged["person"] == 3  # 王一 changed on the server only: the server's value stands

    workbook.apply(session, village.cadre, stored, digest=preview.digest)  # default: keep the server's values
    session.commit()
    li1, wang1 = session.get(Person, ids["li1"]), session.get(Person, ids["wang1"])
    assert (li1.phone, li1.education) == ("13700002222", None)
    assert wang1.education == "20"


def test_taking_the_file_value_in_a_conflict_writes_only_the_cadres_edits(session: Session, village: Village) -> None:
    ids = village.ids
    content = workbook.download_workbook(session, village.cadre, VILLAGE_A).content
    session.commit()
    persons.update_person(session, village.colleague, ids["li1"], {"phone": "13700002222"})
    session.commit()
    stored, preview = upload(session, village, edit(content, lambda wb: set_cell(
        wb["人员"], find_row(wb["人员"], "姓名", "李一"), "文化程度", "大学本科毕业")))
    key = preview.of("conflict")[0].key
    workbook.apply(session, village.cadre, stored, digest=preview.digest, choices={key: workbook.TAKE})
    session.commit()
    li1 = session.get(Person, ids["li1"])
    assert (li1.phone, li1.education, li1.row_version) == ("13700002222", "21", 3)


def test_invalid_cells_are_reported_per_cell_and_block_the_apply(session: Session, village: Village) -> None:
    content = workbook.download_workbook(session, village.cadre, VILLAGE_A).content
    session.commit()

    def change(wb) -> None:  # noqa: ANN001
        people, tags = wb["人员"], wb["标签"]
        set_cell(people, find_row(people, "姓名", "李一"), "民族", "火星族")
        set_cell(people, find_row(people, "姓名", "张二"), "死亡或迁出日期", "2025-13-45")
        wang = find_row(people, "姓名", "王一")
        set_cell(people, wang, "公民身份号码", idn(date(1975, 8, 4), 15)[:-1] + "0")  # wrong check digit
        append_row(people, {"户号": "A009", "公民身份号码": float(NEW_ID[:15]), "姓名": "钱一"})
        append_row(people, {"户号": "A001", "公民身份号码": NEW_ID, "姓名": "周一", "人员状态": "在世"})
        set_cell(tags, find_row(tags, "标签", "低保"), "持证残疾·残疾类别", "肢体残疾")

    stored, preview = upload(session, village, edit(content, change))
    assert preview.blocked
    found = {(i.location["sheet"], i.location["row"], i.location.get("column"), i.code)
             for r in preview.of("invalid") for i in r.issues}
    assert found == {
        ("人员", 4, "H", "unknown-code"),
        ("人员", 5, "P", "bad-date"),
        ("人员", 6, "D", "id-checksum"),
        ("人员", 7, "D", "id-number-as-number"),
        ("标签", 3, "M", "attribute-of-other-tag"),
    }
    assert [r.title for r in preview.of("new")] == [f"周一 {NEW_ID}"]  # a valid new member of A001
    before = session.execute(select(func.count()).select_from(ChangeLog)).scalar()
    with pytest.raises(ValidationFailed):
        workbook.apply(session, village.cadre, stored, digest=preview.digest)
    session.rollback()
    assert session.execute(select(func.count()).select_from(ChangeLog)).scalar() == before
    assert session.get(WorkbookUpload, stored.id).status == "pending"


def test_a_failure_during_the_apply_writes_nothing(session: Session, village: Village, monkeypatch) -> None:  # noqa: ANN001
    content = edit(workbook.download_workbook(session, village.cadre, VILLAGE_A).content, _edit_each_kind)
    session.commit()
    stored, preview = upload(session, village, content)
    before = session.execute(select(func.count()).select_from(ChangeLog)).scalar()

    from app.services import tags as tag_service

    def refuse(*_a, **_k):  # noqa: ANN002, ANN003, ANN202
        raise ValidationFailed(tag_service.Issue("boom", "标签写入失败"))

    monkeypatch.setattr(tag_service, "grant_tag", refuse)
    with pytest.raises(ValidationFailed) as failed:
        workbook.apply(session, village.cadre, stored, digest=preview.digest)
    session.rollback()
    assert failed.value.issues[0].location["sheet"] == "标签"
    assert session.execute(select(func.count()).select_from(ChangeLog)).scalar() == before
    assert session.get(Person, village.ids["li1"]).phone is None
    assert session.get(WorkbookUpload, stored.id).status == "pending"


def test_an_outdated_preview_is_not_applied(session: Session, village: Village) -> None:
    content = edit(workbook.download_workbook(session, village.cadre, VILLAGE_A).content, lambda wb: set_cell(
        wb["人员"], find_row(wb["人员"], "姓名", "李一"), "联系电话", "13900001111"))
    session.commit()
    stored, preview = upload(session, village, content)
    persons.update_person(session, village.colleague, village.ids["li1"], {"education": "20"})
    session.commit()
    with pytest.raises(Conflict) as refused:
        workbook.apply(session, village.cadre, stored, digest=preview.digest)
    assert refused.value.issues[0].code == "preview-outdated"
    session.rollback()
    assert session.get(Person, village.ids["li1"]).phone is None


def test_cross_field_rules_judge_the_file_as_a_whole(session: Session, village: Village) -> None:
    """Heads swapped between two rows are fine; a second head, or an under-age spouse, is not."""
    ids = village.ids
    content = workbook.download_workbook(session, village.cadre, VILLAGE_A).content
    session.commit()

    def swap(wb) -> None:  # noqa: ANN001
        people = wb["人员"]
        set_cell(people, find_row(people, "姓名", "张一"), "与户主关系", "配偶")
        set_cell(people, find_row(people, "姓名", "李一"), "与户主关系", "户主")
        append_row(people, {"户号": "A002", "公民身份号码": idn(date(2015, 3, 3), 21), "姓名": "王小", "与户主关系": "配偶"})
        append_row(people, {"户号": "A002", "公民身份号码": idn(date(1995, 3, 3), 23), "姓名": "王二", "与户主关系": "户主"})
        append_row(people, {"户号": "A002", "公民身份号码": idn(date(1910, 3, 3), 25), "姓名": "王老", "与户主关系": "其他"})

    stored, preview = upload(session, village, edit(content, swap))
    found = {(i.location["row"], i.location.get("column"), i.code) for r in preview.of("invalid") for i in r.issues}
    assert found == {(7, "I", "spouse-under-age"), (8, "I", "second-head")}
    assert {r.title.split(" ")[0] for r in preview.of("changed")} == {"张一", "李一"}
    old = next(r for r in preview.of("new") if r.title.startswith("王老"))
    assert [(w.code, w.severity) for w in old.warnings] == [("age-over-110", "warning")]

    def swap_only(wb) -> None:  # noqa: ANN001
        people = wb["人员"]
        set_cell(people, find_row(people, "姓名", "张一"), "与户主关系", "配偶")
        set_cell(people, find_row(people, "姓名", "李一"), "与户主关系", "户主")
        append_row(people, {"户号": "A002", "公民身份号码": idn(date(1910, 3, 3), 25), "姓名": "王老", "与户主关系": "其他"})

    stored, preview = upload(session, village, edit(content, swap_only))
    assert not preview.blocked and preview.counts["changed"] == 2 and preview.counts["new"] == 1
    workbook.apply(session, village.cadre, stored, digest=preview.digest)  # the warning is confirmed by applying
    session.commit()
    assert (session.get(Person, ids["zhang1"]).relation, session.get(Person, ids["li1"]).relation) == ("10", "02")
    assert session.execute(select(Person).where(Person.name == "王老")).scalar_one().birth_date == date(1910, 3, 3)


def test_the_same_edit_made_on_the_server_is_no_conflict(session: Session, village: Village) -> None:
    content = workbook.download_workbook(session, village.cadre, VILLAGE_A).content
    session.commit()
    persons.update_person(session, village.colleague, village.ids["li1"], {"phone": "13900001111"})
    session.commit()
    stored, preview = upload(session, village, edit(content, lambda wb: set_cell(
        wb["人员"], find_row(wb["人员"], "姓名", "李一"), "联系电话", "13900001111")))
    assert preview.rows == [] and preview.unchanged["person"] == 4

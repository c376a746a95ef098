"""The 房屋 sheet of the village workbook: download, edit offline (a new safety grade, a demolition, a new
house of a household added in the same file), preview, apply through the house service; bad cells and
conflicts (both backends)."""

from __future__ import annotations

import io
from datetime import date, timedelta

from openpyxl import load_workbook
from sqlalchemy import select
from sqlmodel import Session
from village_data import VILLAGE_A, VILLAGE_B, Village, append_row, edit, find_row, header_index, set_cell

from app.clock import today
from app.clock import today as service_today
from app.models import ChangeBatch, ChangeLog, House, Household
from app.services import houses, workbook
from app.services.history import as_of

SINCE = date(2020, 1, 1)


def _houses(session: Session, v: Village) -> dict[str, int]:
    ids = {}
    for key, address, household, area, grade, floor in (
            ("old", "A001号房", "h1", VILLAGE_A, "B", 120.0), ("shed", "A002号房", "h2", VILLAGE_A, "C", 80.0),
            ("b", "B001号房", "hb", VILLAGE_B, "A", 100.0)):
        ids[key] = houses.create_house(session, v.admin, {
            "address": address, "area_code": area, "house_type": "1", "floor_area": floor, "structure": "2",
            "safety_grade": grade, "household_id": v.ids[household]}, effective=SINCE).id
    session.commit()
    return ids


def _upload(session: Session, v: Village, content: bytes) -> tuple[object, workbook.Preview]:
    stored = workbook.store_upload(session, v.cadre, VILLAGE_A, "甲村一表.xlsx", content)
    session.commit()
    return stored, workbook.preview(session, v.cadre, stored)


def test_the_house_sheet_lists_the_villages_houses_in_use(session: Session, village: Village) -> None:
    ids = _houses(session, village)
    houses.demolish_house(session, village.admin, ids["shed"], date(2024, 5, 1))
    session.commit()
    download = workbook.download_workbook(session, village.cadre, VILLAGE_A)
    session.commit()
    ws = load_workbook(io.BytesIO(download.content))["房屋"]
    cols = header_index(ws)
    assert list(cols) == ["记录号", "版本", "房屋地址", "居住户户号", "房屋类型", "建筑面积", "房屋结构", "安全等级", "状态"]
    rows = [[ws.cell(r, c).value for c in cols.values()] for r in range(3, ws.max_row + 1)]
    # 乙村's house and the demolished one are not in 甲村's workbook
    assert rows == [[ids["old"], 1, "A001号房", "A001", "农村自建房", 120, "砖混结构", "B级", "正常"]]
    assert ws.cell(2, cols["建筑面积"]).value == "单位：平方米"
    assert download.record.record_ids["house"] == [ids["old"]] and download.counts["houses"] == 1


def _edit_houses(wb) -> None:  # noqa: ANN001
    sheet = wb["房屋"]
    set_cell(sheet, find_row(sheet, "房屋地址", "A001号房"), "安全等级", "D级")
    set_cell(sheet, find_row(sheet, "房屋地址", "A002号房"), "状态", "注销")
    append_row(wb["户"], {"户号": "A003", "户别": "家庭户", "住址": "A003号"})
    append_row(sheet, {"房屋地址": "A003号新房", "居住户户号": "A003", "房屋类型": "安置房", "建筑面积": 95.5,
                       "房屋结构": "钢混结构", "安全等级": "A级"})


def test_grade_demolition_and_a_new_house_preview_and_apply(session: Session, village: Village) -> None:
    ids = _houses(session, village)
    content = edit(workbook.download_workbook(session, village.cadre, VILLAGE_A).content, _edit_houses)
    session.commit()
    stored, preview = _upload(session, village, content)
    assert {(r.entity, r.kind, r.title) for r in preview.rows} == {
        ("household", "new", "户号 A003"), ("house", "changed", "房屋 A001号房"), ("house", "ended", "房屋 A002号房"),
        ("house", "new", "房屋 A003号新房")}
    assert preview.unchanged["house"] == 0 and not preview.blocked
    by_title = {r.title: r for r in preview.rows}
    assert [(c.label, c.old, c.new, c.column) for c in by_title["房屋 A001号房"].changes] == [("安全等级", "B级", "D级", "H")]
    assert [(c.label, c.old, c.new) for c in by_title["房屋 A002号房"].changes] == [("状态", "正常", "注销")]
    assert [(c.label, c.new) for c in by_title["房屋 A003号新房"].changes] == [
        ("房屋地址", "A003号新房"), ("居住户户号", "A003"), ("房屋类型", "安置房"), ("建筑面积", 95.5), ("房屋结构", "钢混结构"),
        ("安全等级", "A级")]

    batch, _ = workbook.apply(session, village.cadre, stored, digest=preview.digest)
    session.commit()
    on = service_today()
    old, shed = session.get(House, ids["old"]), session.get(House, ids["shed"])
    assert (old.safety_grade, old.valid_from, old.row_version, old.status) == ("D", on, 2, "1")
    assert (shed.status, shed.valid_from, shed.safety_grade) == ("2", on, "C")
    a003 = session.execute(select(Household).where(Household.number == "A003")).scalar_one()
    new = session.execute(select(House).where(House.address == "A003号新房")).scalar_one()
    assert (new.household_id, new.area_code, new.house_type, new.floor_area, new.structure, new.safety_grade, new.status,
            new.valid_from) == (a003.id, VILLAGE_A, "3", 95.5, "1", "A", "1", on)
    logs = session.execute(select(ChangeLog).where(ChangeLog.batch_id == batch.id, ChangeLog.entity == "house")).scalars().all()
    assert sorted((int(log.entity_id), log.action) for log in logs) == sorted(
        [(ids["old"], "update"), (ids["shed"], "end"), (new.id, "create")])
    assert next(log for log in logs if log.action == "update").changes == {"safety_grade": ["B", "D"]}
    assert session.get(ChangeBatch, batch.id).source == "excel"
    # the state before the upload day is kept: B until yesterday

    before = {r["id"]: r for r in as_of(session, "house", on - timedelta(days=1))}
    assert before[ids["old"]]["safety_grade"] == "B" and before[ids["shed"]]["status"] == "1"


def test_bad_house_rows_are_shown_at_their_cells_and_block_the_apply(session: Session, village: Village) -> None:
    _houses(session, village)

    def change(wb) -> None:  # noqa: ANN001
        sheet = wb["房屋"]
        set_cell(sheet, find_row(sheet, "房屋地址", "A001号房"), "建筑面积", "很大")
        append_row(sheet, {"房屋地址": "某处", "居住户户号": "Z999", "房屋类型": "农村自建房"})
        append_row(sheet, {"房屋地址": "另一处", "房屋类型": "农村自建房", "建筑面积": 88000, "状态": "注销"})
        append_row(sheet, {"房屋类型": "农村自建房", "居住户户号": "B001"})  # another village's household, no address

    stored, preview = _upload(session, village, edit(workbook.download_workbook(session, village.cadre, VILLAGE_A).content,
                                                     change))
    assert preview.blocked and preview.counts["invalid"] == 4
    found = sorted((i.location["row"], i.location.get("column"), i.message) for r in preview.of("invalid") for i in r.issues)
    assert found == [
        (3, "F", "建筑面积须为数字，现为“很大”"),
        (5, "D", "户号 Z999 不在本村，也不在“户”表的新增行中"),
        (6, "F", "建筑面积 88000 平方米超过 5000，请核实单位"),
        (6, "I", "新增的房屋须为正常（在用）状态"),
        (7, "C", "房屋地址不能为空"),
        (7, "D", "户号 B001 不在本村，也不在“户”表的新增行中"),
    ]


def test_a_house_changed_on_the_server_after_the_download_is_a_conflict(session: Session, village: Village) -> None:
    ids = _houses(session, village)
    content = workbook.download_workbook(session, village.cadre, VILLAGE_A).content
    session.commit()
    houses.update_house(session, village.colleague, ids["old"], {"floor_area": 125.0})  # meanwhile, in the web
    session.commit()

    def change(wb) -> None:  # noqa: ANN001
        sheet = wb["房屋"]
        set_cell(sheet, find_row(sheet, "房屋地址", "A001号房"), "安全等级", "C级")

    stored, preview = _upload(session, village, edit(content, change))
    assert preview.counts["conflict"] == 1 and preview.writes == 0
    conflict = preview.of("conflict")[0]
    assert conflict.key == f"house:{ids['old']}" and "甲村文书" in conflict.server_note
    assert [(c.label, c.old, c.new) for c in conflict.changes] == [("安全等级", "B级", "C级")]
    assert [(c.label, c.old, c.new) for c in conflict.server_changes] == [("建筑面积", 120, 125.0)]
    workbook.apply(session, village.cadre, stored, digest=preview.digest, choices={conflict.key: workbook.TAKE})
    session.commit()
    house = session.get(House, ids["old"])
    assert (house.safety_grade, house.floor_area) == ("C", 125.0)


def test_a_workbook_without_the_house_sheet_changes_no_house(session: Session, village: Village) -> None:
    ids = _houses(session, village)

    def drop(wb) -> None:  # noqa: ANN001
        del wb["房屋"]

    stored, preview = _upload(session, village, edit(workbook.download_workbook(session, village.cadre, VILLAGE_A).content, drop))
    assert not preview.blocked and preview.file_issues == []
    assert [(r.entity, r.kind, r.title) for r in preview.rows] == [
        ("house", "missing", "房屋 A001号房"), ("house", "missing", "房屋 A002号房")]  # asked, left alone
    workbook.apply(session, village.cadre, stored, digest=preview.digest)
    session.commit()
    assert session.get(House, ids["old"]).row_version == 1 and today() >= SINCE

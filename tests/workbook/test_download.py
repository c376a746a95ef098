"""The downloaded workbook as Excel sees it: sheets, dropdowns, text ID numbers, protection, meta."""

from __future__ import annotations

import io

from openpyxl import load_workbook
from sqlalchemy import select
from sqlmodel import Session
from village_data import VILLAGE_A, Village, header_index

from app.models import WorkbookDownload
from app.services import workbook
from app.services.workbook.download import data_version


def test_the_workbook_has_dropdowns_text_ids_locked_keys_and_its_meta(session: Session, village: Village) -> None:
    download = workbook.download_workbook(session, village.cadre, VILLAGE_A)
    session.commit()
    wb = load_workbook(io.BytesIO(download.content))
    assert [(ws.title, ws.sheet_state) for ws in wb] == [
        ("人员", "visible"), ("户", "visible"), ("标签", "visible"), ("房屋", "visible"), ("说明", "visible"),
        ("_代码表", "hidden"), ("_meta", "hidden")]
    assert wb.security.lockStructure  # sheets cannot be unhidden, renamed or deleted

    people = wb["人员"]
    cols = header_index(people)
    assert list(cols)[:6] == ["记录号", "版本", "户号", "公民身份号码", "姓名", "性别"]
    assert people.cell(2, cols["出生日期"]).value == "必填；须与身份证号一致；日期，如 2025-03-01"
    assert people.freeze_panes == "A3"
    names = [people.cell(r, cols["姓名"]).value for r in range(3, people.max_row + 1)]
    assert names == ["张一", "李一", "张二", "王一"]  # 乙村's 赵一 is not in 甲村's workbook
    id_cell = people.cell(3, cols["公民身份号码"])
    assert id_cell.data_type == "s" and id_cell.value == "339901196005010118" and id_cell.number_format == "@"
    assert people.cell(3, cols["性别"]).value == "男" and people.cell(3, cols["民族"]).value == "汉族"

    # protection: the sheet is protected without a password; key columns locked and hidden, the rest editable
    assert people.protection.sheet and not people.protection.password
    assert people.cell(3, cols["记录号"]).protection.locked and people.column_dimensions["A"].hidden
    assert not id_cell.protection.locked and not people.cell(3, cols["姓名"]).protection.locked
    assert people.cell(3, cols["姓名"]).value == "张一"

    validations = {str(dv.sqref).split(":")[0]: dv.formula1 for dv in people.data_validations.dataValidation}
    sex_col = people.cell(3, cols["性别"]).column_letter
    codes = wb["_代码表"]
    sex_ref = validations[f"{sex_col}3"]
    column = sex_ref.split("!")[1].split(":")[0].replace("$", "")[0]
    assert codes[f"{column}1"].value == "sex"
    assert [codes[f"{column}{r}"].value for r in range(2, 6)] == ["未知的性别", "男", "女", "未说明的性别"]
    assert sex_ref == f"'_代码表'!${column}$2:${column}$5"
    assert len(validations) == 8  # 性别 民族 关系 婚姻 文化 政治面貌 居住类型 人员状态

    meta = dict(wb["_meta"].iter_rows(values_only=True))
    record = session.execute(select(WorkbookDownload)).scalar_one()
    assert meta["format"] == "ybt-village-workbook" and meta["village_code"] == VILLAGE_A
    assert int(meta["download_id"]) == record.id and int(meta["data_version"]) == record.data_version == data_version(session)
    assert record.actor_id == village.cadre.id
    assert sorted(record.record_ids["person"]) == sorted(village.ids[k] for k in ("zhang1", "li1", "zhang2", "wang1"))
    assert sorted(record.record_ids["tag"]) == sorted(village.ids[k] for k in ("dibao", "disabled", "party"))

    tags = wb["标签"]
    tcols = header_index(tags)
    row = {h: tags.cell(3, c).value for h, c in tcols.items()}
    assert (row["对象"], row["标签"], row["低保·低保类别"], row["低保·月保障金额"]) == ("A001", "低保", "农村低保", 500)

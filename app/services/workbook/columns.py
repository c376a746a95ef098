"""The workbook's sheets and columns, derived from the canonical model (labels, code lists, help).

Adding a field to ``PersonFields``, ``HouseholdFields`` or ``HouseFields`` adds a column to the workbook: the header is
the column's label, the explanation row its help text and unit, a code-list column gets a dropdown.
Only the key columns and a few links (户号 instead of the household's internal id) are declared here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import SQLModel

from app.models import House, Household, Person, TagType

# kinds of cell: how a value is written, read back and explained
KEY, VERSION, TEXT, ID_NUMBER, CODE, DATE, NUMBER, INFO = "key", "version", "text", "id_number", "code", "date", "number", "info"

PERSON_SHEET, HOUSEHOLD_SHEET, TAG_SHEET, HOUSE_SHEET = "人员", "户", "标签", "房屋"
README_SHEET, CODES_SHEET, META_SHEET = "说明", "_代码表", "_meta"
FORMAT_NAME = "ybt-village-workbook"
FORMAT_VERSION = "1"
HEADER_ROW, NOTE_ROW, FIRST_DATA_ROW = 1, 2, 3

# fields kept by the platform itself, not by the cadre in the workbook
PERSON_SKIP = {"household_id", "area_code"}
HOUSEHOLD_SKIP = {"area_code"}
HOUSE_SKIP = {"area_code", "household_id"}
TAG_NAME_LIST = "_tag_types"  # the pseudo code list of tag names (dropdown of 标签)


@dataclass(frozen=True)
class WbColumn:
    key: str  # model field, or a link such as ``household_number``
    header: str
    kind: str
    note: str = ""
    code_list: str | None = None
    width: float = 12.0
    tag_code: str | None = None  # attribute columns of the tag sheet: the tag type they belong to

    @property
    def locked(self) -> bool:
        return self.kind in (KEY, VERSION, INFO)

    @property
    def hidden(self) -> bool:
        return self.kind in (KEY, VERSION)


def _kind(model: type[SQLModel], name: str) -> str:
    column = model.__table__.columns[name]
    if name == "id_number":
        return ID_NUMBER
    if column.info.get("code_list"):
        return CODE
    if column.type.python_type is date:
        return DATE
    if column.type.python_type in (int, float):
        return NUMBER
    return TEXT


def _note(kind: str, info: dict, required: bool) -> str:
    parts = ["必填" if required else ""]
    if info.get("help"):
        parts.append(info["help"])
    if kind == CODE:
        parts.append("从下拉列表选择")
    elif kind == DATE:
        parts.append("日期，如 2025-03-01")
    elif kind == ID_NUMBER:
        parts.append("文本格式") if not info.get("help") else None
    if info.get("unit"):
        parts.append(f"单位：{info['unit']}")
    return "；".join(p for p in parts if p)


def _model_columns(model: type[SQLModel], skip: set[str]) -> list[WbColumn]:
    out = []
    bookkeeping = {"id", "hid", "valid_from", "valid_to", "batch_id", "row_version"}
    for column in model.__table__.columns:
        if column.name in bookkeeping or column.name in skip:
            continue
        kind = _kind(model, column.name)
        required = not column.nullable and column.default is None
        width = {ID_NUMBER: 21.0, DATE: 12.0, CODE: 12.0}.get(kind, 14.0)
        if getattr(column.type, "length", 0) and column.type.length >= 100:
            width = 24.0
        out.append(WbColumn(column.name, column.info.get("label", column.name), kind,
                            _note(kind, column.info, required), column.info.get("code_list"), width))
    return out


def key_columns() -> list[WbColumn]:
    return [WbColumn("id", "记录号", KEY, "系统生成，请勿修改", width=8.0),
            WbColumn("row_version", "版本", VERSION, "系统生成，请勿修改", width=6.0)]


def person_columns() -> list[WbColumn]:
    link = WbColumn("household_number", "户号", TEXT, "必填；所属户的户号，须在“户”表中", width=16.0)
    return [*key_columns(), link, *_model_columns(Person, PERSON_SKIP)]


def household_columns() -> list[WbColumn]:
    return [*key_columns(), *_model_columns(Household, HOUSEHOLD_SKIP)]


def house_columns() -> list[WbColumn]:
    """Houses in use; the household living there by its 户号. Setting 状态 to 注销 records the demolition."""
    link = WbColumn("household_number", "居住户户号", TEXT, "住在这栋房屋里的户的户号（本村）；无人居住不填", width=16.0)
    columns = _model_columns(House, HOUSE_SKIP)
    columns = [WbColumn(c.key, c.header, c.kind, c.note + "；改为“注销”即登记拆除（自写入之日起）", c.code_list, c.width)
               if c.key == "status" else c for c in columns]
    return [*key_columns(), *columns[:1], link, *columns[1:]]


def tag_columns(tag_types: list[TagType]) -> list[WbColumn]:
    """Tag rows: subject, tag, interval, evidence, then one column per attribute of every tag type
    (headed ``低保·低保类别``); a row fills only the attributes of its own tag."""
    out = [
        *key_columns(),
        WbColumn("subject", "对象", TEXT, "必填；人员标签填公民身份号码，户标签填户号", width=21.0),
        WbColumn("subject_name", "姓名（户主）", INFO, "仅供核对，不必填写", width=10.0),
        WbColumn("tag_code", "标签", CODE, "必填；从下拉列表选择", TAG_NAME_LIST, width=14.0),
        WbColumn("valid_from", "开始日期", DATE, "必填；日期，如 2025-03-01"),
        WbColumn("valid_to", "结束日期", DATE, "标签结束时填写（不含当日）；日期"),
        WbColumn("evidence", "证明材料", TEXT, "认定依据、证件号等", width=18.0),
    ]
    for tag_type in tag_types:
        for spec in tag_type.attributes:
            kind = {"code": CODE, "date": DATE, "number": NUMBER}.get(spec.get("type", "text"), TEXT)
            note = f"仅“{tag_type.name}”填写" + ("（必填）" if spec.get("required") else "")
            if spec.get("unit"):
                note += f"；单位：{spec['unit']}"
            out.append(WbColumn(f"{tag_type.code}.{spec['name']}", f"{tag_type.name}·{spec['label']}", kind, note,
                                spec.get("code_list"), 14.0, tag_type.code))
    return out

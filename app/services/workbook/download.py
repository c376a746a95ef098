"""Download: the village's current base data as one workbook (人员, 户, 标签, 房屋, 说明 + hidden code and meta sheets)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, or_, select
from sqlmodel import Session

from app import clock
from app.issues import Issue, NotFound, ValidationFailed
from app.models import Area, ChangeBatch, House, Household, Person, Tag, TagType, User, WorkbookDownload
from app.models.base import utcnow
from app.services.codelists import code_lists
from app.services.persons import ALIVE
from app.services.scope import require_read
from app.services.tags import tag_types
from app.services.workbook import xlsx_writer as xw
from app.services.workbook.columns import (
    CODE,
    CODES_SHEET,
    DATE,
    FORMAT_NAME,
    FORMAT_VERSION,
    HOUSE_SHEET,
    HOUSEHOLD_SHEET,
    INFO,
    KEY,
    META_SHEET,
    NUMBER,
    PERSON_SHEET,
    README_SHEET,
    TAG_NAME_LIST,
    TAG_SHEET,
    VERSION,
    WbColumn,
    house_columns,
    household_columns,
    person_columns,
    tag_columns,
)

ACTIVE_HOUSEHOLD = "1"
HOUSE_IN_USE = "1"
SPARE_ROWS = 1000  # dropdowns and unlocked cells reach this far below the data, for new rows
STYLE_OF = {KEY: xw.KEY, VERSION: xw.KEY, INFO: xw.INFO, DATE: xw.DATE, NUMBER: xw.NUMBER}
WORKBOOK_AREA_LEVELS = (5, 6)  # a village, or a grid below it


@dataclass
class Download:
    content: bytes
    file_name: str
    record: WorkbookDownload
    counts: dict[str, int]


def in_area(column: Any, code: str) -> Any:
    """Codes of an area and everything below it, as a range the column's index can serve (a LIKE
    with a bound prefix cannot use it on either backend)."""
    return column.between(code, code + "999")


def village_of(session: Session, actor: User, code: str) -> Area:
    """The village (or grid) a workbook is about, checked against the actor's scope."""
    area = session.get(Area, code)
    if area is None:
        raise NotFound(Issue("not-found", f"区划 {code} 不存在", {"record": code}))
    if area.level not in WORKBOOK_AREA_LEVELS:
        raise ValidationFailed(Issue("not-a-village", f"{area.name}不是村（社区）或网格，一表按村下载", {"record": code}))
    require_read(actor, code)
    return area


def data_version(session: Session) -> int:
    """The newest change batch: the version of the base data a workbook shows."""
    return int(session.execute(select(func.max(ChangeBatch.id))).scalar() or 0)


def _current_tags(session: Session, persons: list[int], households: list[int], on: date) -> list[Any]:
    """Current tags of the listed subjects, as plain rows (12,000 ORM objects would cost half a second)."""
    tags = Tag.__table__
    current = or_(tags.c.valid_to.is_(None), tags.c.valid_to > on)
    out: list[Any] = []
    for column, ids in ((tags.c.person_id, persons), (tags.c.household_id, households)):
        for start in range(0, len(ids), 5000):  # stay under SQLite's bound-parameter limit
            chunk = ids[start:start + 5000]
            out += session.execute(select(tags).where(column.in_(chunk), current)).all()
    return out


def gather(session: Session, code: str) -> dict[str, Any]:
    """The rows of the three data sheets as plain values (codes, not labels), keyed by column."""
    person_cols, household_cols = person_columns(), household_columns()
    p_fields = [c.key for c in person_cols if c.key != "household_number"]
    h_rows = session.execute(
        select(*[getattr(Household, c.key) for c in household_cols])
        .where(in_area(Household.area_code, code), Household.status == ACTIVE_HOUSEHOLD)
        .order_by(Household.number)
    ).all()
    p_rows = session.execute(
        select(Household.number, *[getattr(Person, k) for k in p_fields])
        .outerjoin(Household, Person.household_id == Household.id)
        .where(in_area(Person.area_code, code), Person.living_status == ALIVE)
        .order_by(Household.number, Person.relation, Person.birth_date, Person.id)
    ).all()
    persons = [dict(zip(["household_number", *p_fields], r, strict=True)) for r in p_rows]
    households = [dict(zip([c.key for c in household_cols], r, strict=True)) for r in h_rows]
    tags = _current_tags(session, [p["id"] for p in persons], [h["id"] for h in households], clock.today())
    house_fields = [c.key for c in house_columns() if c.key != "household_number"]
    house_rows = session.execute(
        select(Household.number, *[getattr(House, k) for k in house_fields])
        .outerjoin(Household, House.household_id == Household.id)
        .where(in_area(House.area_code, code), House.status == HOUSE_IN_USE)
        .order_by(House.address, House.id)
    ).all()
    houses = [dict(zip(["household_number", *house_fields], r, strict=True)) for r in house_rows]
    return {"persons": persons, "households": households, "tags": tags, "houses": houses}


def _tag_rows(tags: list[Any], persons: list[dict], households: list[dict], columns: list[WbColumn],
              types: dict[str, TagType]) -> list[dict[str, Any]]:
    by_person = {p["id"]: p for p in persons}
    heads = {p["household_number"]: p["name"] for p in persons if p.get("relation") == "02"}
    by_household = {h["id"]: h for h in households}
    attributes: dict[str, list[tuple[str, str, bool]]] = {}
    for c in columns:
        if c.tag_code:
            attributes.setdefault(c.tag_code, []).append((c.key, c.key.split(".", 1)[1], c.kind == DATE))
    out = []
    for tag in sorted(tags, key=lambda t: (t.tag_code, t.id)):
        if tag.person_id is not None:
            person = by_person[tag.person_id]
            subject, name = person["id_number"], person["name"]
        else:
            number = by_household[tag.household_id]["number"]
            subject, name = number, heads.get(number)
        row = {"id": tag.id, "row_version": tag.row_version, "subject": subject, "subject_name": name,
               "tag_code": tag.tag_code, "valid_from": tag.valid_from, "valid_to": tag.valid_to,
               "evidence": tag.evidence}
        attrs = tag.attrs or {}
        for key, name_, is_date in attributes.get(tag.tag_code, ()):
            value = attrs.get(name_)
            row[key] = date.fromisoformat(value) if is_date and isinstance(value, str) and value else value
        out.append(row)
    return out


def _codes_sheet(lists: dict[str, dict[str, str]], wanted: list[str]) -> tuple[xw.Sheet, dict[str, str]]:
    """The hidden sheet of dropdown values: one column per code list, labels from row 2."""
    formulas: dict[str, str] = {}
    columns: list[list[str]] = []
    for i, name in enumerate(wanted):
        items = list(lists.get(name, {}).values())
        letter = xw.get_column_letter(i + 1)
        formulas[name] = f"'{CODES_SHEET}'!${letter}$2:${letter}${len(items) + 1}"
        columns.append(items)
    depth = max((len(c) for c in columns), default=0)
    rows = [[c[r] if r < len(c) else None for c in columns] for r in range(depth)]
    sheet = xw.Sheet(CODES_SHEET, [(list(wanted), xw.LOCKED_TEXT)], rows, [xw.LOCKED_TEXT] * len(wanted),
                     [14.0] * len(wanted), state="hidden", protect=True)
    return sheet, formulas


def _data_sheet(name: str, columns: list[WbColumn], rows: list[dict[str, Any]], lists: dict[str, dict[str, str]],
                formulas: dict[str, str]) -> xw.Sheet:
    labels = [(c.key, lists.get(c.code_list or "", {}) if c.kind == CODE else None) for c in columns]
    body = ([r.get(k) if m is None or r.get(k) is None else m.get(str(r[k]), str(r[k])) for k, m in labels] for r in rows)
    return xw.Sheet(
        name,
        head=[([c.header for c in columns], xw.HEADER), ([c.note for c in columns], xw.NOTE)],
        rows=body,
        col_styles=[STYLE_OF.get(c.kind, xw.TEXT) for c in columns],
        widths=[c.width for c in columns],
        hidden_cols={i for i, c in enumerate(columns) if c.hidden},
        protect=True,
        freeze_rows=2,
        validations=[(i, formulas[c.code_list], c.header) for i, c in enumerate(columns) if c.kind == CODE and c.code_list in formulas],
        validation_rows=len(rows) + 2 + SPARE_ROWS,
    )


def _readme(area: Area, record: WorkbookDownload, actor: User, counts: dict[str, int]) -> xw.Sheet:
    lines = [
        f"{area.name}（{area.code}）基础数据一表",
        f"下载时间：{clock.display(record.downloaded_at)}　下载人：{actor.display_name}　数据版本：{record.data_version}",
        f"人员 {counts['persons']} 人（在世）、户 {counts['households']} 户（正常户）、当前标签 {counts['tags']} 条、"
        f"房屋 {counts['houses']} 栋（在用）。",
        "",
        "怎样填写：",
        "1. 直接修改“人员”“户”“标签”表中的内容；带下拉箭头的列请从列表中选择；日期按 2025-03-01 填写。",
        "2. 新增：在表的末尾另起一行填写，“记录号”留空。新增人员须填写户号（可以是“户”表中新增的户）。",
        "3. 死亡或迁出：把“人员状态”改为死亡或迁出，并填写“死亡或迁出日期”（迁出还须填写迁往地）。不要删除该行——删除的行不会注销人员，只会在上传时提示“表中缺少”。",
        "4. 结束标签：在“结束日期”中填写结束日期。新增标签另起一行。标签属性改变时，自原标签结束、新标签开始（自上传写入之日起）。",
        "5. 房屋：在“房屋”表中修改（如新的安全鉴定等级）；新增房屋另起一行，“居住户户号”填本村的户号（无人居住不填）；"
        "房屋拆除时把“状态”改为“注销”，自写入之日起不再计入统计。",
        "6. 灰色的记录号、版本列是系统用于核对的，请勿修改；表格结构已保护（无密码），只能修改白色单元格。",
        "7. 填好后在“一表”页面上传：系统先显示预览（新增、修改、注销、有误、冲突），确认后才写入。",
        "8. 下载后若有他人在系统中修改了同一条记录，上传时显示为“冲突”，由您逐条选择保留系统的值或采用表中的值。",
    ]
    return xw.Sheet(README_SHEET, [], ([line] for line in lines), [xw.WRAP], [110.0], protect=True)


def _meta(area: Area, record: WorkbookDownload, actor: User) -> xw.Sheet:
    pairs = [
        ("format", FORMAT_NAME), ("format_version", FORMAT_VERSION), ("download_id", str(record.id)),
        ("village_code", area.code), ("village_name", area.name), ("data_version", str(record.data_version)),
        ("downloaded_at", record.downloaded_at.isoformat()), ("downloaded_by", actor.username),
    ]
    return xw.Sheet(META_SHEET, [], ([k, v] for k, v in pairs), [xw.LOCKED_TEXT] * 2, [16.0, 40.0],
                    state="hidden", protect=True)


def download_workbook(session: Session, actor: User, code: str) -> Download:
    """Build the workbook of one village and record the download (the caller commits)."""
    area = village_of(session, actor, code)
    version = data_version(session)
    data = gather(session, code)
    types = tag_types(session)
    lists = {**code_lists(session), TAG_NAME_LIST: {t.code: t.name for t in types.values()}}
    p_cols, h_cols, t_cols = person_columns(), household_columns(), tag_columns(list(types.values()))
    house_cols = house_columns()
    record = WorkbookDownload(
        actor_id=actor.id, village_code=code, downloaded_at=utcnow(), data_version=version,
        record_ids={"person": [p["id"] for p in data["persons"]], "household": [h["id"] for h in data["households"]],
                    "tag": [t.id for t in data["tags"]], "house": [h["id"] for h in data["houses"]]},
    )
    session.add(record)
    session.flush()
    wanted = list(dict.fromkeys(c.code_list for c in (*p_cols, *h_cols, *t_cols, *house_cols)
                                if c.kind == CODE and c.code_list))
    codes, formulas = _codes_sheet(lists, wanted)
    counts = {"persons": len(data["persons"]), "households": len(data["households"]), "tags": len(data["tags"]),
              "houses": len(data["houses"])}
    sheets = [
        _data_sheet(PERSON_SHEET, p_cols, data["persons"], lists, formulas),
        _data_sheet(HOUSEHOLD_SHEET, h_cols, data["households"], lists, formulas),
        _data_sheet(TAG_SHEET, t_cols, _tag_rows(data["tags"], data["persons"], data["households"], t_cols, types),
                    lists, formulas),
        _data_sheet(HOUSE_SHEET, house_cols, data["houses"], lists, formulas),
        _readme(area, record, actor, counts),
        codes,
        _meta(area, record, actor),
    ]
    buffer = io.BytesIO()
    props = {"title": f"{area.name}基础数据一表", "subject": "一表通 村级基础数据", "creator": actor.display_name,
             "keywords": f"{FORMAT_NAME} {area.code}", "description": f"download {record.id}, data version {version}"}
    xw.write(sheets, buffer, props, record.downloaded_at)
    file_name = f"{area.name}一表_{record.downloaded_at:%Y%m%d_%H%M}.xlsx"
    return Download(buffer.getvalue(), file_name, record, counts)

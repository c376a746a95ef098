"""What the preview compares with: the database side of an upload (``Context``), value normalisation,
issue placement, and conflicts (a row whose record the server changed after the download)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from app import clock
from app.issues import Issue
from app.models import ChangeBatch, ChangeLog, House, Household, Person, Tag, TagType, User, WorkbookDownload
from app.models.history import SOURCES
from app.services.codelists import code_lists
from app.services.tags import tag_types
from app.services.workbook.columns import (
    CODE,
    DATE,
    HOUSE_SHEET,
    HOUSEHOLD_SHEET,
    PERSON_SHEET,
    TAG_NAME_LIST,
    TAG_SHEET,
    WbColumn,
    house_columns,
    household_columns,
    person_columns,
    tag_columns,
)
from app.services.workbook.download import in_area
from app.services.workbook.plan import CellChange, RowPlan
from app.services.workbook.reader import Parsed, Row

ENDED_PERSON = {"2": "death", "3": "moved_out"}
ENDED_HOUSEHOLD = "2"
CHUNK = 5000


def chunks(ids: list[int]) -> list[list[int]]:
    return [ids[i:i + CHUNK] for i in range(0, len(ids), CHUNK)]


def norm(value: Any) -> Any:
    """Comparable form of a value from the file, the database or a change-log entry."""
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class Context:
    """What the comparison needs from the database, read once per preview."""

    def __init__(self, session: Session, download: WorkbookDownload, village_code: str):
        self.session = session
        self.download = download
        self.village_code = village_code
        self.types: dict[str, TagType] = tag_types(session)
        self.lists = {**code_lists(session), TAG_NAME_LIST: {t.code: t.name for t in self.types.values()}}
        self.columns = {PERSON_SHEET: person_columns(), HOUSEHOLD_SHEET: household_columns(),
                        TAG_SHEET: tag_columns(list(self.types.values())), HOUSE_SHEET: house_columns()}
        self.households: dict[int, Household] = {}
        self.household_by_number: dict[str, Household] = {}
        self.persons: dict[int, Person] = {}
        self.person_by_id_number: dict[str, Person] = {}
        self.tags: dict[int, Tag] = {}
        self.houses: dict[int, House] = {}

    def load(self, parsed: Parsed) -> None:
        """The village's households and persons, and every record the file or the download names.

        Read as plain rows (not ORM objects: 20,000 of those cost a second); the few records that
        change are loaded as objects when their row is checked.
        """
        s, code = self.session, self.village_code
        ids = {e: set(self.download.record_ids.get(e, [])) for e in ("person", "household", "tag", "house")}
        for entity, sheet in (("person", PERSON_SHEET), ("household", HOUSEHOLD_SHEET), ("tag", TAG_SHEET),
                              ("house", HOUSE_SHEET)):
            ids[entity] |= {r.record_id for r in parsed.rows.get(sheet, []) if r.record_id is not None}
        households, persons, tags = Household.__table__, Person.__table__, Tag.__table__
        for h in s.execute(select(households).where(in_area(households.c.area_code, code))):
            self.households[h.id] = h
        for chunk in chunks(sorted(ids["household"] - set(self.households))):
            for h in s.execute(select(households).where(households.c.id.in_(chunk))):
                self.households[h.id] = h
        self.household_by_number = {h.number: h for h in self.households.values()}
        for p in s.execute(select(persons).where(in_area(persons.c.area_code, code))):
            self.persons[p.id] = p
        for chunk in chunks(sorted(ids["person"] - set(self.persons))):
            for p in s.execute(select(persons).where(persons.c.id.in_(chunk))):
                self.persons[p.id] = p
        self.person_by_id_number = {p.id_number: p for p in self.persons.values()}
        for chunk in chunks(sorted(ids["tag"])):
            for t in s.execute(select(tags).where(tags.c.id.in_(chunk))):
                self.tags[t.id] = t
        houses = House.__table__
        for chunk in chunks(sorted(ids["house"])):
            for house in s.execute(select(houses).where(houses.c.id.in_(chunk))):
                self.houses[house.id] = house

    def display(self, column: WbColumn, value: Any) -> Any:
        if value is None:
            return ""
        if column.kind == CODE and column.code_list:
            return self.lists.get(column.code_list, {}).get(str(value), str(value))
        if isinstance(value, date):
            return value.isoformat()
        return value

    def in_village(self, area_code: str | None) -> bool:
        return bool(area_code) and area_code.startswith(self.village_code)


def locate(row: Row, issues: list[Issue], labels: dict[str, str]) -> list[Issue]:
    """Service issues (located by model field) placed at the row's sheet, row and column."""
    out = []
    for issue in issues:
        key = issue.location.get("field")
        key = "household_number" if key in ("household_id", "area_code") else key
        out.append(issue.at(sheet=row.sheet, row=row.number, column=row.columns.get(key),
                            field=labels.get(key, issue.location.get("field"))))
    return out


def errors(issues: list[Issue]) -> list[Issue]:
    return [i for i in issues if i.severity == "error"]


# ------------------------------------------------------------------------------ conflicts


def server_changes(ctx: Context, entity: str, record_id: int) -> tuple[dict[str, Any], str]:
    """Fields the server changed since the download (field -> value at download time) and who did it."""
    entries = ctx.session.execute(
        select(ChangeLog, ChangeBatch, User)
        .join(ChangeBatch, ChangeLog.batch_id == ChangeBatch.id)
        .join(User, ChangeBatch.actor_id == User.id, isouter=True)
        .where(ChangeLog.entity == entity, ChangeLog.entity_id == str(record_id),
               ChangeLog.batch_id > ctx.download.data_version)
        .order_by(ChangeLog.id)
    ).all()
    original: dict[str, Any] = {}
    notes = []
    for log, batch, user in entries:
        for name, (old, _new) in log.changes.items():
            original.setdefault(name, old)
        who = user.display_name if user else "系统"
        notes.append(f"{who}于{clock.display(batch.created_at)}（{SOURCES.get(batch.source, batch.source)}）")
    return original, "；".join(dict.fromkeys(notes))


def conflict_row(ctx: Context, row: Row, entity: str, record: Any, file_values: dict[str, Any],
              current: dict[str, Any], columns: list[WbColumn], title: str) -> RowPlan | None:
    """A stale row: the cadre's edits (file vs the record at download time) and the server's since."""
    original, note = server_changes(ctx, entity, record.id)
    if "household_id" in original:
        old = original.pop("household_id")
        h = ctx.households.get(int(old)) if old is not None else None
        original["household_number"] = h.number if h else None
    at_download = {k: original.get(k, current[k]) for k in current}
    # the cadre's edits: what differs from the download, unless the server already holds that value
    mine = {k: v for k, v in file_values.items() if norm(v) != norm(at_download[k]) and norm(v) != norm(current[k])}
    if not mine:
        return None  # nothing of the cadre's left to write: the server's newer values simply stand
    labels = {c.key: c for c in columns}
    plan = RowPlan(entity, "conflict", row.sheet, row.number, record.id, title, values=mine,
                   expected_version=record.row_version, server_note=note)
    plan.changes = [CellChange(k, labels[k].header, ctx.display(labels[k], typed(labels[k], at_download[k])),
                               ctx.display(labels[k], v), row.columns.get(k)) for k, v in mine.items()]
    plan.server_changes = [
        CellChange(k, labels[k].header, ctx.display(labels[k], typed(labels[k], at_download[k])),
                   ctx.display(labels[k], current[k]))
        for k in original if k in labels and norm(original[k]) != norm(current[k])
    ]
    return plan


def typed(column: WbColumn, value: Any) -> Any:
    if column.kind == DATE and isinstance(value, str) and value:
        return date.fromisoformat(value)
    return value



def column(columns: list[WbColumn], key: str) -> WbColumn:
    return next(c for c in columns if c.key == key)

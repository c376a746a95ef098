"""Matching a parsed file's records with the database and deciding each field: the Applier's state, the
preload of the rows the file names, area resolution and write scope, a key repeated inside the file, and
the comparison of a record with its row under the policy (fill blanks, let the file win, keep the
database, or queue a conflict). The writing per entity lives in services.ledger_import.apply."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from app import clock
from app.issues import Issue
from app.models import (
    Area,
    ChangeBatch,
    Household,
    ImportBatch,
    ImportConflict,
    Person,
    User,
)
from app.models.area import level_of, scope_prefix
from app.services.fields import label as field_label
from app.services.ledger_import import writes
from app.services.ledger_import.outcomes import (
    ENTITY_LABELS,
    MODELS,
    Outcome,
    is_blank,
    plain_value,
)
from app.services.scope import require_write
from importers.model import Record

CHUNK = 500


class Matcher:
    """What the Applier knows and decides before it writes: one parsed file, one target area, one policy."""

    batch: ChangeBatch  # the change batch of the chunk being written (the Applier opens one per chunk)

    def __init__(self, session: Session, actor: User, area_code: str, policy: str, import_batch: ImportBatch | None,
                 on_progress: Callable[[int, int], None] | None, effective: date | None = None):
        self.session, self.actor, self.area_code, self.policy = session, actor, area_code, policy
        self.import_batch, self.on_progress = import_batch, on_progress
        self.today = effective or clock.today()  # the date the file's facts take effect (--effective back-dates)
        self.persons: dict[str, Person] = {}
        self.households: dict[str, Household] = {}
        self.new_households: dict[str, int] = {}  # household number -> id reserved for a bulk insert
        self.new_household_ids: set[int] = set()
        self.household_areas: dict[int, str] = {}  # household id -> area code (existing and new)
        self.new_persons: dict[str, int] = {}
        self.rejected_keys: set[tuple[str, str]] = set()
        self.area_names: dict[str, str] = {}
        self.prefix = scope_prefix(area_code, level_of(area_code))
        self._names: dict[str, list[str]] | None = None
        self.fast_check = writes.FastPersonCheck(session)
        self.household_check = writes.FastPersonCheck(session, Household)
        self._writable: set[str] = set()
        self._area_cache: dict[tuple[Any, Any], tuple[str | None, Issue | None]] = {}
        self._heads: dict[int, str] = {}  # household id -> name of the head this file adds
        self._members: dict[int, int] = {}  # household id -> living members this file adds
        self._chunk_no = 0

    # -------------------------------------------------------------- lookups

    def preload(self, records: list[Record]) -> None:
        person_keys = sorted({r.key for r in records if r.entity == "person"}
                             | {r.key.split(":", 1)[1] for r in records if r.entity == "tag" and ":" in r.key})
        household_keys = sorted({r.key for r in records if r.entity == "household"}
                                | {str(r.values["household_number"]) for r in records
                                   if r.entity == "person" and not is_blank(r.values.get("household_number"))}
                                | {r.key.split(":", 1)[1] for r in records if r.entity == "tag" and ":" in r.key})
        fresh = {"populate_existing": True}  # a chunked apply reads again what a save between chunks changed
        for chunk in _chunks(person_keys):
            for p in self.session.execute(select(Person).where(Person.id_number.in_(chunk)).execution_options(**fresh)).scalars():
                self.persons[p.id_number] = p
        for chunk in _chunks(household_keys):
            for h in self.session.execute(select(Household).where(Household.number.in_(chunk)).execution_options(**fresh)).scalars():
                self.households[h.number] = h
                self.household_areas[h.id] = h.area_code
        # households without a 户号 are keyed by their head's ID number: the head's current household
        head_ids = sorted({str(r.values["head_id_number"]) for r in records
                           if r.entity in ("household", "tag") and not is_blank(r.values.get("head_id_number"))}
                          - set(self.households))
        for chunk in _chunks(head_ids):
            for id_number, h in self.session.execute(select(Person.id_number, Household).join(
                    Household, Person.household_id == Household.id).where(Person.id_number.in_(chunk)).execution_options(**fresh)):
                self.households.setdefault(id_number, h)
                self.household_areas[h.id] = h.area_code

    def preload_areas(self) -> None:
        self._areas = list(self.session.execute(select(Area)).scalars())  # held, so session.get finds them
        self.area_names = {a.code: a.name for a in self._areas}

    def _area_of(self, record: Record) -> tuple[str | None, Issue | None]:
        """The area a new record goes to: its own area code (within the target) or the target village."""
        key = (record.values.get("area_code"), record.values.get("area_name"))
        found = self._area_cache.get(key)
        if found is None:
            found = self._area_cache[key] = self._find_area(record)
        return found

    def _find_area(self, record: Record) -> tuple[str | None, Issue | None]:
        own = record.values.get("area_code")
        if is_blank(own) and not is_blank(record.values.get("area_name")):
            named = self._area_by_name(str(record.values["area_name"]))
            if len(named) != 1:
                why = "找不到" if not named else "有多个同名村"
                return None, Issue("unknown-area-name", f"本次导入范围内{why}“{record.values['area_name']}”", {"field": "所在村"},
                                   hint="可改填12位区划代码")
            own = named[0]
        if not is_blank(own):
            if not self._in_target(str(own)):
                return None, Issue("outside-target-area", f"该行所属区划 {own} 不在本次导入的范围（{self._area_label(self.area_code)}）内",
                                   {"field": "所在村（网格）"})
            if own not in self.area_names:
                return None, Issue("unknown-area", f"区划 {own} 不存在", {"field": "所在村（网格）"})
            return str(own), None
        if level_of(self.area_code) < 5:
            return None, Issue("area-required", "导入范围是乡镇或以上时，每行须注明所属村（社区）", {"field": "所在村（网格）"},
                               hint="请在文件中加入“所属村”列，或选择一个村作为导入范围")
        return self.area_code, None

    def _area_by_name(self, name: str) -> list[str]:
        """Villages (and grids) in the target whose name matches, ignoring 村民委员会 / 居民委员会 suffixes."""
        if self._names is None:
            self._names = {}
            for code, n in self.area_names.items():
                if len(code) >= 12 and level_of(code) >= 5 and self._in_target(code):
                    for k in {_name_key(n), _name_key(n).removesuffix("村")}:
                        self._names.setdefault(k, []).append(code)
        wanted = _name_key(name)
        return sorted(set(self._names.get(wanted, []) or self._names.get(wanted.removesuffix("村"), [])))

    def _require_write(self, area: str) -> None:
        if area not in self._writable:
            require_write(self.actor, area)
            self._writable.add(area)

    def _area_label(self, code: str) -> str:
        return f"{self.area_names.get(code, code)}（{code}）"

    def _in_target(self, area_code: str) -> bool:
        return area_code.startswith(self.prefix)

    def _locate(self, record: Record, issue: Issue) -> Issue:
        """An issue located at the record's row and the column of its field, when the reader knows it."""
        f = issue.location.get("field")
        loc: dict[str, Any] = {"sheet": record.source.sheet, "row": record.source.row}
        columns = record.source.columns
        letter = columns.get(f) or columns.get(f"{record.entity}.{f}") or columns.get(f"person.{f}")
        if letter and "column" not in issue.location:
            loc["column"] = letter
        if f and record.entity in MODELS and f in MODELS[record.entity].__table__.c:
            loc["field"] = field_label(MODELS[record.entity], f)
        return issue.at(**loc)

    # -------------------------------------------------------------- the run

    def _repeat(self, out: Outcome, first: Record) -> Outcome:
        """The same key again in the file: harmless when it says nothing new (a household's member
        rows repeat the household); a contradiction rejects this row and names the first."""
        r = out.record
        differing = [f for f, v in r.values.items() if not is_blank(v) and not is_blank(first.values.get(f)) and first.values.get(f) != v]
        if (r.entity, r.key) in self.rejected_keys and r.entity != "household":
            return out.reject(Issue("duplicate-in-file", f"{ENTITY_LABELS[r.entity]} {r.key} 在第{first.source.row}行已出现且被拒绝", {}))
        if differing or r.entity == "person":
            what = "、".join(differing) if differing else "同一身份证号"
            return out.reject(Issue("duplicate-in-file", f"{ENTITY_LABELS[r.entity]} {r.key} 与工作表 {first.source.sheet} "
                                                         f"第{first.source.row}行重复（{what}）", {},
                                    hint="同一人在文件中只能出现一次，请合并后重新导入"))
        if (r.entity, r.key) in self.rejected_keys:
            return out.reject(Issue("household-rejected", f"户 {r.key} 在第{first.source.row}行被拒绝", {}))
        out.note = f"同第{first.source.row}行"
        return out

    # -------------------------------------------------------------- comparing with the database

    def _diff(self, out: Outcome, row: Any, values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, tuple[Any, Any]]]:
        """(fields to write now, disagreements): blanks in the file are skipped, blanks in the database filled."""
        fill: dict[str, Any] = {}
        disagree: dict[str, tuple[Any, Any]] = {}
        for name, new in values.items():
            if is_blank(new) or name not in type(row).__table__.c:
                continue
            old = getattr(row, name)
            if old == new:
                continue
            if is_blank(old):
                fill[name] = new
            else:
                disagree[name] = (old, new)
        return fill, disagree

    def _decide(self, out: Outcome, entity: str, row: Any, fill: dict[str, Any], disagree: dict[str, tuple[Any, Any]]) -> dict[str, Any]:
        """Under the policy: the fields to write now; queued disagreements are remembered on ``out``."""
        writes_now = dict(fill)
        if disagree and self.policy == "file":
            writes_now.update({k: new for k, (_old, new) in disagree.items()})
        elif disagree and self.policy == "queue":
            pending = self._already_decided(entity, row.id, disagree)
            out.conflicts = {k: v for k, v in disagree.items() if k not in pending}
        elif disagree:
            out.note = "以系统数据为准，未采用文件中的不同值：" + "、".join(disagree)
        return writes_now

    def _already_decided(self, entity: str, entity_id: int, disagree: dict[str, tuple[Any, Any]]) -> set[str]:
        """Fields someone already chose to keep for exactly these two values (a re-import asks nothing again)."""
        kept = set()
        for c in self.session.execute(select(ImportConflict).where(
            ImportConflict.entity == entity, ImportConflict.entity_id == entity_id, ImportConflict.status == "kept",
            ImportConflict.field.in_(list(disagree)),
        )).scalars():
            old, new = disagree[c.field]
            if c.db_value == plain_value(old) and c.file_value == plain_value(new):
                kept.add(c.field)
        return kept

    def _queue(self, out: Outcome, entity: str, entity_id: int, label: str, area_code: str) -> None:
        if not out.conflicts:
            return
        out.status = "conflict"
        if self.import_batch is None:
            return
        src = out.record.source
        for name, (old, new) in out.conflicts.items():
            open_values = self.session.execute(select(ImportConflict.file_value).where(
                ImportConflict.entity == entity, ImportConflict.entity_id == entity_id, ImportConflict.field == name,
                ImportConflict.status == "open",
            )).scalars().all()
            if plain_value(new) in open_values:  # already waiting in the queue from an earlier import
                continue
            self.session.add(ImportConflict(
                import_id=self.import_batch.id, entity=entity, entity_id=entity_id, record_key=out.record.key, label=label,
                area_code=area_code, field=name, db_value=plain_value(old), file_value=plain_value(new), sheet=src.sheet, row=src.row,
            ))


def _name_key(text: str) -> str:
    return re.sub(r"\s+|(村民|居民)?委员会$", "", text)


def _chunks(keys: list[str]) -> Iterable[list[str]]:
    for i in range(0, len(keys), CHUNK):
        yield keys[i:i + CHUNK]


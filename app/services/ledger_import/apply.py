"""The apply layer: compare a parsed file's records with the database, decide per record, write.

For every record: ``new`` (not in the database), ``changed`` (blank fields filled, or the file won a
disagreement), ``unchanged``, ``conflict`` (file and database disagree on a field; queued for a person
under the default policy) or ``rejected`` (the reader's per-cell issues, or a database-level reason:
the ID number belongs to a person of another village, a duplicate inside the file, a service rule).
A blank cell is never a disagreement: ledgers often hold only some fields.

Writes go through ``app.services`` (same validation, scope and history), except new persons and
households, which are validated with the same ``check_*`` functions and then inserted in bulk
(``services.ledger_import.writes``) with their change-log entries — the ORM path is ten times slower.

The caller owns the transaction: ``apply_parsed`` writes into the session and never commits; a dry
run is the same work rolled back. Any unexpected error propagates, so nothing is half-written.

Here: the run over the records and the writes per entity; the lookups, area resolution and the
comparison under the policy live in services.ledger_import.matching (the Applier's base class).
"""

from __future__ import annotations

import time
from array import array
from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import or_, select
from sqlmodel import Session

from app import clock
from app.issues import Issue, IssueError, ValidationFailed
from app.models import (
    Area,
    ChangeLog,
    Household,
    ImportBatch,
    Organisation,
    Person,
    Tag,
    TagType,
    User,
)
from app.procstat import release_free_memory
from app.services import history, rules
from app.services import households as household_service
from app.services import organisations as organisation_service
from app.services import persons as person_service
from app.services import tags as tag_service
from app.services.ledger_import import writes
from app.services.ledger_import.matching import Matcher
from app.services.ledger_import.outcomes import (
    ENTITY_LABELS,
    POLICIES,
    ApplyResult,
    Outcome,
    is_blank,
)
from app.services.scope import require_write, scope_of
from importers.model import ParsedFile, Record

END_STATUSES = {"2": "death", "3": "moved_out"}


#: In a chunked apply (``apply_parsed(chunks=…)``) a transaction ends after this many records or this
#: many seconds, whichever comes first: SQLite's single write lock is held for one chunk at a time, so
#: other villages' saves wait at most about a chunk (bench/bench_import_memory.py measures it).
CHUNK_RECORDS = 2000
CHUNK_SECONDS = 0.5
#: SQLite: a pause between chunks, so a writer of another process (which polls the lock every 100 ms at
#: most) gets its turn; writers of this process are handed the lock in turn (``db.FairLock``).
SQLITE_CHUNK_PAUSE_S = 0.02
#: Every this many chunks the C heap's freed pages go back to the system (``procstat.release_free_memory``).
TRIM_EVERY_CHUNKS = 5
GROUPS = ("household", "person", "tag", "organisation")
CHUNK_MODES = ("commit", "rollback")


class Applier(Matcher):
    """One application of one parsed file to one target area, under one policy: the writes per entity.

    ``chunks``: ``None`` for one transaction that the caller ends; ``"commit"`` to commit each chunk
    with its own change batch (an apply); ``"rollback"`` to roll each chunk back (a dry run). In a
    chunked run each chunk reads its records' rows again from the database (so a save made between
    two chunks is seen, not overwritten), and a dry run puts back, at the start of a chunk, the new
    rows of earlier (rolled-back) chunks that this chunk's records point at.
    """

    def __init__(self, session: Session, actor: User, area_code: str, policy: str, import_batch: ImportBatch | None,
                 on_progress: Callable[[int, int], None] | None, effective: date | None, *, chunks: str | None,
                 on_chunk: Callable[[int, int], None] | None, source: str, file_name: str):
        super().__init__(session, actor, area_code, policy, import_batch, on_progress, effective)
        self.chunks, self.on_chunk, self.source = chunks, on_chunk, source
        self.file_name, self.note = file_name[:255], f"导入 {file_name}"[:500]

    def run(self, records: list[Record]) -> list[Outcome]:
        """Households first (persons point at them), then persons (tags point at them), then tags;
        new households and persons are inserted in bulk at the end of their group (and of each chunk)."""
        order = array("l", (i for group in GROUPS for i, r in enumerate(records) if r.entity == group))
        last_of_row = _last_of_row(records, order) if self.chunks else None
        outcomes: list[Outcome | None] = [None] * len(records)
        seen: dict[str, dict[str, Record]] = {group: {} for group in GROUPS}  # entity -> key -> first record
        total, pos = len(order), 0
        self.batch_ids: list[int] = []
        self._chunk_ends = 0
        self.preload_areas()
        while True:
            end = min(total, pos + CHUNK_RECORDS) if self.chunks else total
            self._start_chunk([records[i] for i in order[pos:end]])
            started, group, first = time.monotonic(), None, pos
            while pos < end:
                record = records[order[pos]]
                if record.entity != group and group in ("household", "person"):
                    writes.flush(self, group)
                group = record.entity
                outcomes[order[pos]] = self._one(record, seen).settle()
                pos += 1
                if self.on_progress and (pos % 2000 == 0 or pos == total):
                    self.on_progress(pos, total)
                if self.chunks and time.monotonic() - started >= CHUNK_SECONDS:
                    break
            self._end_chunk(pos, total)
            if last_of_row is not None:
                _shed_written_rows(records, order, outcomes, last_of_row, first, pos)
            if pos >= total:
                break
        return outcomes  # type: ignore[return-value]  # every place filled: ``order`` covers every record

    def _start_chunk(self, chunk: list[Record]) -> None:
        """Read the chunk's rows (again), then open its change batch (on SQLite: take the write lock).
        Persons read for earlier chunks are let go: a re-import of a village holds one chunk's persons, not
        all. (Households stay: a member row can name its household by the head's ID number, found through
        the household's own record in an earlier chunk.)"""
        if self.chunks:
            self.persons.clear()
        self.preload(chunk)
        self.batch = history.open_batch(self.session, self.actor, self.source, note=self.note, file_name=self.file_name)
        if self.import_batch is not None:
            self.batch.import_id = self.import_batch.id
        writes.start_chunk(self)
        if self.chunks == "rollback" and self._chunk_no:
            writes.restore(self, *self._earlier_new_rows(chunk))
        self._chunk_no += 1

    def _earlier_new_rows(self, chunk: list[Record]) -> tuple[set[int], set[int]]:
        """(household ids, person ids) created by earlier chunks of a dry run that ``chunk`` points at."""
        households: set[int] = set()
        persons: set[int] = set()
        for r in chunk:
            if r.entity == "person":
                number = r.values.get("household_number")
                if not is_blank(number) and str(number) in self.new_households:
                    households.add(self.new_households[str(number)])
            elif r.entity == "tag" and ":" in r.key:
                key = r.key.split(":", 1)[1]
                if key in self.new_persons:
                    persons.add(self.new_persons[key])
                if key in self.new_households:
                    households.add(self.new_households[key])
        return households, persons

    def _end_chunk(self, done: int, total: int) -> None:
        """Insert the queued new rows; drop the batch when it changed nothing (no empty batch moves the
        data version forward); commit or roll back a chunked run."""
        writes.flush(self, "household")
        writes.flush(self, "person")
        self.session.flush()
        if self.chunks == "rollback":
            pass  # the chunk goes away whole, its batch with it (and the rows put back under it)
        elif self.session.execute(select(ChangeLog.id).where(ChangeLog.batch_id == self.batch.id).limit(1)).first() is None:
            self.session.delete(self.batch)
            self.session.flush()
        else:
            self.batch_ids.append(self.batch.id)
        if self.chunks == "commit":
            self.session.commit()
        elif self.chunks == "rollback":
            self.session.rollback()
        if self.chunks:
            self._chunk_ends += 1
            if self._chunk_ends % TRIM_EVERY_CHUNKS == 0:
                release_free_memory()
            if self.on_chunk:
                self.on_chunk(done, total)
            if self.session.get_bind().dialect.name == "sqlite" and done < total:
                time.sleep(SQLITE_CHUNK_PAUSE_S)

    def _one(self, record: Record, seen: dict[str, dict[str, Record]]) -> Outcome:
        out = Outcome(record)
        if not record.ok:
            out.status = "rejected"
            out.issues = list(record.issues)
            self.rejected_keys.add((record.entity, record.key))
            return out
        first = seen[record.entity].get(record.key)
        if first is not None:
            return self._repeat(out, first)
        seen[record.entity][record.key] = record
        try:
            if record.entity == "person":
                self._person(out)
            elif record.entity == "household":
                self._household(out)
            elif record.entity == "tag":
                self._tag(out)
            else:
                self._organisation(out)
        except IssueError as exc:
            out.status = "rejected"
            out.issues += [self._locate(record, i) for i in exc.issues]
        if out.status == "rejected":
            self.rejected_keys.add((record.entity, record.key))
            out.changes, out.conflicts = {}, {}
        return out

    # -------------------------------------------------------------- households

    def _household(self, out: Outcome) -> None:
        r = out.record
        values = {k: v for k, v in r.values.items() if k != "area_name" and (k != "area_code" or not is_blank(v))}
        values.setdefault("number", r.key)
        existing = self.households.get(r.key)
        if existing is None:
            area, issue = self._area_of(r)
            if issue:
                out.reject(self._locate(r, issue))
                return
            self._require_write(area)
            # = households.check_household: field checks, and the area exists (it does: _area_of found it)
            clean, issues = self.household_check.check({**values, "area_code": area})  # type: ignore[misc]
            if issues:
                raise ValidationFailed(issues)
            clean = {k: v for k, v in clean.items() if k in self.household_check.columns}
            out.entity_id = writes.reserve(self, "household", r.key, clean)
            out.status = "new"
            return
        out.entity_id = existing.id
        if not self._in_target(existing.area_code):
            out.reject(Issue("household-in-other-area", f"户号 {r.key} 已登记在 {self._area_label(existing.area_code)}，"
                                                        "不在本次导入范围", {"field": "户号"}))
            return
        fill, disagree = self._diff(out, existing, {k: v for k, v in values.items() if k != "number"})
        now = self._decide(out, "household", existing, fill, disagree)
        if now:
            change = household_service.update_household(self.session, self.actor, existing.id, now, effective=self.today, batch=self.batch)
            out.changes = change.fields
            out.status = "changed" if change.fields else out.status
        self._queue(out, "household", existing.id, r.key, existing.area_code)

    def _household_id(self, number: Any) -> tuple[int | None, Issue | None]:
        if is_blank(number):
            return None, None
        number = str(number)
        if ("household", number) in self.rejected_keys:
            return None, Issue("household-rejected", f"所属户 {number} 在本文件中被拒绝，该人员一并拒绝", {"field": "户号"})
        if number in self.new_households:
            return self.new_households[number], None
        h = self.households.get(number)
        if h is None:
            return None, Issue("unknown-household", f"户号 {number} 在系统和本文件中都不存在", {"field": "户号"},
                               hint="请在文件中填写该户的信息，或先登记该户")
        if not self._in_target(h.area_code):
            return None, Issue("household-in-other-area", f"户号 {number} 属于 {self._area_label(h.area_code)}，不在本次导入范围",
                               {"field": "户号"})
        return h.id, None

    # -------------------------------------------------------------- organisations

    def _organisation(self, out: Outcome) -> None:
        """An organisation row, matched by its USCC, through the organisation service (its checks,
        scope and history); disagreements with the database follow the policy like persons'."""
        r = out.record
        values = {k: v for k, v in r.values.items() if k != "area_name" and (k != "area_code" or not is_blank(v))}
        existing = self.session.execute(select(Organisation).where(Organisation.uscc == r.key)).scalar_one_or_none()
        if existing is None:
            area, issue = self._area_of(r)
            if issue:
                out.reject(self._locate(r, issue))
                return
            org = organisation_service.create_organisation(self.session, self.actor, {**values, "area_code": area},
                                                           effective=self.today, batch=self.batch)
            out.entity_id, out.status = org.id, "new"
            return
        out.entity_id = existing.id
        if not self._in_target(existing.area_code):
            out.reject(Issue("organisation-in-other-area", f"统一社会信用代码 {r.key}（{existing.name}）已登记在 "
                                                           f"{self._area_label(existing.area_code)}，不在本次导入范围",
                             {"field": "统一社会信用代码"}))
            return
        fill, disagree = self._diff(out, existing, {k: v for k, v in values.items() if k not in ("uscc", "area_code")})
        now = self._decide(out, "organisation", existing, fill, disagree)
        if now:
            change = organisation_service.update_organisation(self.session, self.actor, existing.id, now, effective=self.today,
                                                              batch=self.batch)
            out.changes = change.fields
            out.status = "changed" if change.fields else out.status
        self._queue(out, "organisation", existing.id, existing.name, existing.area_code)

    # -------------------------------------------------------------- persons

    def _person(self, out: Outcome) -> None:
        r = out.record
        values = {k: v for k, v in r.values.items()
                  if k not in ("household_number", "area_name") and (k != "area_code" or not is_blank(v))}
        values.setdefault("id_number", r.key)
        household_id, issue = self._household_id(r.values.get("household_number"))
        if issue:
            out.reject(self._locate(r, issue))
            return
        existing = self.persons.get(r.key)
        if existing is None:
            area, issue = self._area_of(r)
            if issue:
                out.reject(self._locate(r, issue))
                return
            self._require_write(area)
            values = {**values, "area_code": area, "household_id": household_id}
            fast = self.fast_check.check({**values, "household_id": None})
            clean, issues = fast or person_service.check_person(self.session, {**values, "household_id": None})
            issues = [i for i in issues if i.severity == "error"]
            h_area = self.household_areas.get(household_id) if household_id is not None else None
            if h_area is not None and h_area[:12] != area[:12]:
                issues.append(Issue("household-area", "人员所在村与所属户所在村不一致", {"field": "area_code"},
                                    hint=f"该户属于 {self._area_label(h_area)}"))
            if not issues:
                issues = self._person_rules(clean, household_id)
            if issues:
                raise ValidationFailed(issues)
            clean = {k: v for k, v in clean.items() if k in self.fast_check.columns}
            clean["household_id"] = household_id
            if clean.get("living_status", person_service.ALIVE) == person_service.ALIVE and household_id is not None:
                self._members[household_id] = self._members.get(household_id, 0) + 1
                if clean.get("relation") == rules.HEAD:
                    self._heads.setdefault(household_id, clean["name"])
            out.entity_id = writes.reserve(self, "person", r.key, clean)
            out.status = "new"
            return
        out.entity_id = existing.id
        if not self._in_target(existing.area_code):
            out.reject(Issue("id-in-other-area", f"身份证号 {r.key}（{existing.name}）已登记在 {self._area_label(existing.area_code)}，"
                                                 "不在本次导入范围", {"field": "公民身份号码"},
                             hint="同一人只能属于一个村；如已迁入本村，请先由原村办理迁出"))
            return
        if household_id is not None:
            values["household_id"] = household_id
        fill, disagree = self._diff(out, existing, values)
        now = self._decide(out, "person", existing, fill, disagree)
        if now:
            out.changes = self._write_person(existing, now)
            out.status = "changed" if out.changes else out.status
        self._queue(out, "person", existing.id, existing.name, existing.area_code)

    def _person_rules(self, values: dict[str, Any], household_id: int | None) -> list[Issue]:
        """The services' cross-field rules for a new person (``rules.person_rules``), with the persons this
        file adds to the same household counted too (they reach the database only at the bulk insert)."""
        in_db = household_id is not None and household_id not in self.new_household_ids
        issues = rules.person_rules(self.session, {**values, "household_id": household_id if in_db else None}, on=self.today)
        alive = values.get("living_status", person_service.ALIVE) == person_service.ALIVE
        if household_id is not None and alive:
            head = self._heads.get(household_id)
            if values.get("relation") == rules.HEAD and head is not None:
                issues.append(Issue("second-head", f"该户已有户主{head}，一户只能有一位户主", {"field": "relation"},
                                    hint="同一户在文件中只能有一位户主"))
            size = self._members.get(household_id, 0) + 1
            if not in_db and size >= rules.LARGE_HOUSEHOLD:
                issues.append(Issue("large-household", f"加入后该户将有{size}名在世成员（{rules.LARGE_HOUSEHOLD}人及以上），请核实",
                                    {"field": "household_id"}, severity="warning"))
        return issues

    def _write_person(self, person: Person, changes: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
        """A change of living status to deceased / moved out is an end (its tags end too), not an edit."""
        status = changes.get("living_status")
        if status in END_STATUSES and person.living_status == person_service.ALIVE:
            on = changes.get("status_date") or person.status_date
            if on is None:
                raise ValidationFailed(Issue("status-date-required", "死亡或迁出的人员须填写日期", {"field": "status_date"}))
            rest = {k: v for k, v in changes.items() if k not in ("living_status", "status_date", "moved_to")}
            fields: dict[str, tuple[Any, Any]] = {}
            if rest:
                fields.update(person_service.update_person(self.session, self.actor, person.id, rest, effective=self.today,
                                                           batch=self.batch).fields)
            fields.update(person_service.end_person(self.session, self.actor, person.id, END_STATUSES[status], on,
                                                    moved_to=changes.get("moved_to") or person.moved_to or
                                                    ("不详" if status == "3" else None), batch=self.batch).fields)
            return fields
        return person_service.update_person(self.session, self.actor, person.id, changes, effective=self.today, batch=self.batch).fields

    # -------------------------------------------------------------- tags

    def _tag(self, out: Outcome) -> None:
        r = out.record
        code = str(r.values.get("code") or r.key.split(":", 1)[0])
        subject_key = r.key.split(":", 1)[1] if ":" in r.key else ""
        tag_type = self.session.get(TagType, code)
        if tag_type is None:
            out.reject(Issue("unknown-tag", f"标签“{code}”不在标签字典中", {"field": "标签"}))
            return
        entity = tag_type.subject
        if (entity, subject_key) in self.rejected_keys:
            out.reject(Issue("subject-rejected", f"{ENTITY_LABELS[entity]} {subject_key} 在本文件中被拒绝，其标签一并拒绝", {}))
            return
        pending = self.new_persons if entity == "person" else self.new_households
        subject_id = pending.get(subject_key)
        if subject_id is None:
            subject = (self.persons if entity == "person" else self.households).get(subject_key)
            if subject is None:
                out.reject(Issue("unknown-subject", f"标签所属{ENTITY_LABELS[entity]} {subject_key} 在系统和本文件中都不存在", {}))
                return
            subject_id = subject.id
        attrs = {k: v for k, v in (r.values.get("attrs") or {}).items() if not is_blank(v)}
        valid_from = r.values.get("valid_from") or self.today
        valid_to = r.values.get("valid_to")
        column = Tag.person_id if entity == "person" else Tag.household_id
        current = self.session.execute(select(Tag).where(
            Tag.tag_code == code, column == subject_id,
            or_(Tag.valid_to.is_(None), Tag.valid_to > self.today, Tag.valid_from == valid_from),
        ).order_by(Tag.valid_from.desc())).scalars().first()
        if current is None:
            tag = tag_service.grant_tag(self.session, self.actor, code, subject_id, valid_from, attrs=attrs, valid_to=valid_to,
                                        evidence=f"导入：{self.batch.file_name or ''}"[:500], batch=self.batch,
                                        pending=r.values.get("pending"))
            out.entity_id, out.status = tag.id, "new"
            out.changes = {"tag_code": (None, code), "valid_from": (None, valid_from), **{k: (None, v) for k, v in tag.attrs.items()}}
            return
        out.entity_id = current.id
        # an attribute still 待补充 on the tag is a blank: the file fills it, under any policy
        fills = {k: v for k, v in attrs.items() if k in (current.pending_attrs or ()) and is_blank(current.attrs.get(k))}
        if fills:
            out.changes = self._retag(current, fills)
            out.status = "changed"
            return
        disagree = {k: (current.attrs.get(k), v) for k, v in attrs.items() if str(current.attrs.get(k)) != str(v)}
        if valid_to is not None and (current.valid_to is None or current.valid_to > valid_to) and valid_to >= current.valid_from:
            tag_service.end_tag(self.session, self.actor, current.id, valid_to, batch=self.batch)
            out.changes["valid_to"] = (current.valid_to, valid_to)
            out.status = "changed"
            return
        if not disagree:
            return
        if self.policy == "file":
            out.changes = self._retag(current, attrs)
            out.status = "changed"
        elif self.policy == "queue":
            out.conflicts = {f"attrs.{k}": v for k, v in disagree.items() if not self._already_decided("tag", current.id, {f"attrs.{k}": v})}
            self._queue(out, "tag", current.id, f"{tag_type.name} {subject_key}", self._subject_area(tag_type, subject_id))
        else:
            out.note = "以系统数据为准，未采用文件中的不同属性"

    def _retag(self, tag: Tag, attrs: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
        """The file's attributes onto a tag, through the one attribute-edit service (``tags.edit_tag_attrs``:
        from the file's date on, the old values kept for earlier dates, filled 待补充 cleared)."""
        old = dict(tag.attrs or {})
        tag_service.edit_tag_attrs(self.session, self.actor, tag.id, {**old, **attrs}, max(self.today, tag.valid_from),
                                   batch=self.batch)
        return {f"attrs.{k}": (old.get(k), v) for k, v in attrs.items() if old.get(k) != v}

    def _subject_area(self, tag_type: TagType, subject_id: int) -> str:
        model = Person if tag_type.subject == "person" else Household
        row = self.session.get(model, subject_id)
        return row.area_code if row is not None else self.area_code


def _last_of_row(records: list[Record], order: array) -> bytearray:
    """For each place in the processing order: 1 when it is the last record of its input row to be
    processed (a row's records are consecutive in the file and processed group by group)."""
    last = bytearray(len(order))
    done_rows: set[int] = set()
    for place in range(len(order) - 1, -1, -1):
        row = id(records[order[place]].source)
        if row not in done_rows:
            done_rows.add(row)
            last[place] = 1
    return last


def _shed_written_rows(records: list[Record], order: array, outcomes: list[Outcome | None], last_of_row: bytearray,
                       start: int, end: int) -> None:
    """After a chunk: the input cells of rows whose records are all decided and none refused
    are dropped (only the rejects workbook reads cells, for refused rows). A 50 MB ledger's cells are
    about a sixth of what an apply holds (bench/bench_import_memory.py)."""
    for place in range(start, end):
        if not last_of_row[place]:
            continue
        source = records[order[place]].source
        i = order[place]
        while i >= 0 and records[i].source is source:  # the row's records: consecutive, this one among them
            i -= 1
        j = i + 1
        refused = False
        while j < len(records) and records[j].source is source:
            outcome = outcomes[j]
            refused = refused or outcome is None or outcome.status == "rejected"
            j += 1
        if not refused:
            source.shed()


def check_target(session: Session, actor: User, area_code: str) -> Area:
    """The import's target area must exist and lie in the actor's writable scope."""
    area = session.get(Area, area_code)
    if area is None:
        raise ValidationFailed(Issue("unknown-area", f"区划 {area_code} 不存在", {"field": "导入范围"}))
    require_write(actor, area_code)
    if not scope_of(actor).covers(area_code):  # pragma: no cover - require_write refuses first
        raise ValidationFailed(Issue("out-of-scope", "超出管辖范围", {"field": "导入范围"}))
    return area


def apply_parsed(
    session: Session,
    actor: User,
    parsed: ParsedFile,
    *,
    area_code: str,
    policy: str = "queue",
    import_batch: ImportBatch | None = None,
    source: str = "import",
    on_progress: Callable[[int, int], None] | None = None,
    effective: date | None = None,
    chunks: str | None = None,
    on_chunk: Callable[[int, int], None] | None = None,
) -> ApplyResult:
    """Apply a parsed file to the database; returns every outcome.

    Without ``chunks`` the work is written into the caller's transaction, which the caller ends. With
    ``chunks="commit"`` each chunk of records commits on its own with its own change batch (an
    import's apply: others can write between chunks; ``import_batch`` must already be in the session,
    it is committed with the first chunk); ``chunks="rollback"`` rolls each chunk back (a dry run that
    does not hold SQLite's write lock for its whole length). ``on_chunk(done, total)`` runs after each
    chunk ended. A file with file-level errors applies nothing. ``import_batch`` (when given)
    receives the conflict rows; a dry run passes none.
    """
    if policy not in POLICIES:
        raise ValidationFailed(Issue("bad-policy", f"冲突处理方式“{policy}”无效", {"field": "policy"}, hint="可选：queue、file、db"))
    if chunks is not None and chunks not in CHUNK_MODES:
        raise ValueError(f"chunks must be one of {CHUNK_MODES}, not {chunks!r}")
    check_target(session, actor, area_code)
    if effective is not None and effective > clock.today():
        raise ValidationFailed(Issue("effective-in-future", f"生效日期 {effective} 晚于今天，不能预先导入", {"field": "effective"},
                                     hint="补录旧台账时生效日期应为台账所反映的日期（不晚于今天）"))
    if not parsed.ok:
        return ApplyResult([Outcome(r, "rejected", issues=list(r.issues) or [
            Issue("file-rejected", "文件有错误，整个文件未导入", {"sheet": r.source.sheet, "row": r.source.row})])
            for r in parsed.records], parsed.issues, parsed.rows_read)
    applier = Applier(session, actor, area_code, policy, import_batch, on_progress, effective, chunks=chunks, on_chunk=on_chunk,
                      source=source, file_name=parsed.file_name)
    outcomes = applier.run(parsed.records)
    ids = applier.batch_ids
    return ApplyResult(outcomes, parsed.issues, parsed.rows_read, ids[0] if ids else None, list(ids))

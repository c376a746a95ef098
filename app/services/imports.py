"""Imports as the web and the CLI use them: preview (dry run) or apply a file, list imports with what
they changed, work the conflict queue, and build the rejected rows workbook.

Reading is ``importers.pipeline.parse_file`` (the legacy-ledger reader); deciding and writing is
``services.ledger_import.apply``. Each call is one transaction: the ``ImportBatch`` row and every write of the
import commit together, or nothing does — except an apply, which commits chunk by chunk so that a large
file does not hold SQLite's write lock for its whole length: an apply that stops half-way leaves the
import ``partial`` (each chunk whole), and applying it again completes it (records already written
compare as unchanged).
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from sqlalchemy import func, or_, select
from sqlmodel import Session

from app import clock
from app.issues import Conflict, Issue, IssueError, NotFound, ValidationFailed
from app.models import (
    ChangeBatch,
    ChangeLog,
    Household,
    ImportBatch,
    ImportConflict,
    ImportFile,
    Tag,
    TagType,
    User,
)
from app.models.base import utcnow
from app.models.imports import IMPORT_STATUSES
from app.procstat import runner_gone, runner_id
from app.services import history
from app.services import households as household_service
from app.services import persons as person_service
from app.services import tags as tag_service
from app.services.codelists import code_lists
from app.services.fields import label as field_label
from app.services.ledger_import.apply import apply_parsed, check_target
from app.services.ledger_import.outcomes import MODELS, ApplyResult, value_for
from app.services.scope import import_clause, require_import_visible, require_read, require_write, scope_of
from importers.model import ParsedFile, Record, compact
from importers.rejects import write_rejects

Progress = Callable[[int, int], None]
SAMPLES = 20


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def parse(session: Session, content: bytes, file_name: str, *, mapping: dict[str, Any] | None = None,
          max_bytes: int | None = None, on_progress: Progress | None = None, isolated: bool = False) -> ParsedFile:
    """Read a ledger with the import pipeline (header band, synonyms, normalising, per-cell issues).

    ``isolated``: read in a child process under memory and CPU limits (uploads in the web server), so a
    crafted file that crashes the native reader ends the child, not the worker."""
    kwargs: dict[str, Any] = {"file_name": file_name, "code_lists": code_lists(session), "mapping": mapping}
    if max_bytes is not None:
        kwargs["max_bytes"] = max_bytes
    if on_progress is not None:
        kwargs["on_progress"] = on_progress
    if isolated:
        from importers.isolated import parse_file_isolated

        return parse_file_isolated(content, **kwargs)
    from importers.pipeline import parse_file

    parsed = parse_file(content, **kwargs)
    compact(parsed.records)  # as the isolated reader's records arrive: one shape of record for the apply
    return parsed


def _summary(parsed: ParsedFile, result: ApplyResult, earlier: ImportBatch | None) -> dict[str, Any]:
    notes = []
    if earlier is not None:
        notes.append(f"同一文件（内容完全相同）已于 {clock.display(earlier.created_at)} 导入过（第 {earlier.id} 次导入）；"
                     "按内容比对，已有的数据不会重复写入")
    return {
        "file_issues": [i.to_dict() for i in parsed.issues],
        "samples": result.samples(SAMPLES),
        "sheets": parsed.sheets,
        "notes": notes,
    }


def _finish(batch: ImportBatch, parsed: ParsedFile, result: ApplyResult, earlier: ImportBatch | None) -> None:
    batch.counts = result.counts()
    batch.counts["rows_read"] = parsed.rows_read
    batch.summary = _summary(parsed, result, earlier)
    if not parsed.ok:
        batch.status = "rejected"


def _earlier(session: Session, digest: str) -> ImportBatch | None:
    return session.execute(select(ImportBatch).where(ImportBatch.sha256 == digest, ImportBatch.status == "applied")
                           .order_by(ImportBatch.id)).scalars().first()


def run_import(
    session: Session,
    actor: User,
    content: bytes,
    file_name: str,
    *,
    area_code: str,
    policy: str = "queue",
    dry_run: bool = True,
    parsed: ParsedFile | None = None,
    mapping: dict[str, Any] | None = None,
    max_bytes: int | None = None,
    on_progress: Progress | None = None,
    apply_progress: Progress | None = None,
    isolated: bool = False,
    effective: date | None = None,
    on_chunk: Progress | None = None,
) -> tuple[ImportBatch, ApplyResult]:
    """Preview (``dry_run``, the default: nothing but the ImportBatch row is kept) or apply a file.

    Both run chunk by chunk (``apply_parsed(chunks=…)``): a preview rolls each chunk back, an apply
    commits each. ``on_progress`` follows the reading, ``apply_progress`` the comparing and writing
    (records done, total), ``on_chunk`` runs after each chunk ended."""
    check_target(session, actor, area_code)
    parsed = parsed or parse(session, content, file_name, mapping=mapping, max_bytes=max_bytes, on_progress=on_progress,
                             isolated=isolated)
    digest = sha256(content)
    earlier = _earlier(session, digest)
    actor_id = actor.id
    batch = ImportBatch(kind="ledger", file_name=file_name[:255], sha256=digest, size_bytes=len(content), area_code=area_code,
                        policy=policy, status="previewed" if dry_run else "applied", actor_id=actor_id)
    try:
        if dry_run:
            result = apply_parsed(session, actor, parsed, area_code=area_code, policy=policy, on_progress=apply_progress,
                                  effective=effective, chunks="rollback", on_chunk=on_chunk)
            session.rollback()  # a dry run writes nothing but its own record
            session.add(batch)
            session.flush()
            session.add(ImportFile(import_id=batch.id, content=content))
        else:
            batch.status = "applying"
            session.add(batch)
            session.flush()
            session.add(ImportFile(import_id=batch.id, content=content))  # kept from the first chunk on: a resume reads it
            result = _apply_in_chunks(session, actor, parsed, batch, area_code=area_code, policy=policy,
                                      apply_progress=apply_progress, on_chunk=on_chunk, effective=effective)
        _finish(batch, parsed, result, earlier)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return batch, result


def _apply_in_chunks(session: Session, actor: User, parsed: ParsedFile, batch: ImportBatch, *, area_code: str, policy: str,
                     apply_progress: Progress | None, on_chunk: Progress | None, effective: date | None = None) -> ApplyResult:
    """Apply with a commit per chunk (``apply_parsed(chunks="commit")``); ``batch`` is marked ``applied``
    here but committed by the caller with the summary. When the apply stops after some chunks were
    committed, the import is marked ``partial`` (what is written stays; applying it again completes it)."""
    written = [0, 0]

    def chunk_done(done: int, total: int) -> None:
        written[:] = [done, total]
        if on_chunk is not None:
            on_chunk(done, total)

    batch.summary = {**(batch.summary or {}), "runner": runner_id()}  # who writes it (a killed process is found)
    try:
        result = apply_parsed(session, actor, parsed, area_code=area_code, policy=policy, import_batch=batch,
                              on_progress=apply_progress, effective=effective, chunks="commit", on_chunk=chunk_done)
    except BaseException as exc:
        session.rollback()
        why = exc.issues[0].message if isinstance(exc, IssueError) and exc.issues else type(exc).__name__
        if mark_partial(session, batch.id, *written, why) is not None:
            session.commit()
        raise
    batch.status, batch.applied_at = "applied", utcnow()
    batch.change_batch_id = batch.change_batch_id or result.change_batch_id  # a resumed import keeps its first
    return result


def mark_partial(session: Session, import_id: int | None, done: int, total: int, why: str) -> ImportBatch | None:
    """An import still ``applying`` whose writing stopped (an error, or its process is gone) becomes
    ``partial`` (写入中断): how far it got and why, and its first chunk's batch. Returns it, or None when
    there is nothing to mark (the row is gone, or no chunk was committed: it is back to 已预览). The
    caller commits."""
    stored = session.get(ImportBatch, import_id, populate_existing=True) if import_id is not None else None
    if stored is None or stored.status != "applying":
        return None
    stored.status = "partial"
    stored.summary = {**(stored.summary or {}), "interrupted": {"done": done, "total": total, "error": why[:300]}}
    stored.change_batch_id = stored.change_batch_id or session.execute(
        select(func.min(ChangeBatch.id)).where(ChangeBatch.import_id == import_id)).scalar()
    return stored


def get_import(session: Session, actor: User, import_id: int) -> ImportBatch:
    batch = session.get(ImportBatch, import_id)
    if batch is None:
        raise NotFound(Issue("not-found", f"导入批次 #{import_id} 不存在", {"record": import_id}))
    require_read(actor, batch.area_code)
    require_import_visible(session, actor, batch)
    if batch.status == "applying" and runner_gone(str((batch.summary or {}).get("runner", ""))):
        mark_partial(session, batch.id, 0, 0, "写入它的进程已中断")  # killed (kill -9, a crash): 写入中断
        session.commit()
    return batch


APPLIABLE = ("previewed", "partial")


def require_appliable(batch: ImportBatch) -> None:
    if batch.status not in APPLIABLE:
        state = IMPORT_STATUSES.get(batch.status, batch.status)
        raise ValidationFailed(Issue("not-previewed", f"该导入的状态是“{state}”，只有预览过或写入中断的导入可以执行",
                                     {"record": batch.id}))


def apply_import(session: Session, actor: User, import_id: int, *, policy: str | None = None,
                 mapping: dict[str, Any] | None = None, isolated: bool = False, on_progress: Progress | None = None,
                 apply_progress: Progress | None = None, on_chunk: Progress | None = None) -> tuple[ImportBatch, ApplyResult]:
    """Apply a previewed import (or complete an interrupted one, status ``partial``): the stored file is
    read again and compared with today's database, and written chunk by chunk (``_apply_in_chunks``).

    ``on_progress`` follows the reading, ``apply_progress`` the comparing and writing (as ``run_import``);
    ``on_chunk`` runs after each committed chunk."""
    batch = get_import(session, actor, import_id)
    require_write(actor, batch.area_code)
    require_appliable(batch)
    stored = session.get(ImportFile, import_id)
    if stored is None:
        raise NotFound(Issue("file-missing", "该导入的原文件已不存在，请重新上传", {"record": import_id}))
    content, area_code = stored.content, batch.area_code or actor.area_code
    parsed = parse(session, content, batch.file_name, mapping=mapping, isolated=isolated, on_progress=on_progress)
    earlier = _earlier(session, batch.sha256)
    resumed = batch.status == "partial"
    try:
        batch.policy = policy or batch.policy
        batch.status = "applying"
        result = _apply_in_chunks(session, actor, parsed, batch, area_code=area_code, policy=batch.policy,
                                  apply_progress=apply_progress, on_chunk=on_chunk)
        _finish(batch, parsed, result, earlier)
        if resumed:  # rows the interrupted run wrote count as 未变 now: say so beside the counts
            batch.summary = {**batch.summary, "resumed": True}
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return batch, result


def discard_import(session: Session, actor: User, import_id: int) -> ImportBatch:
    batch = get_import(session, actor, import_id)
    require_write(actor, batch.area_code)  # discarding is a change: a read-only role may only look
    if batch.status == "previewed":
        batch.status = "discarded"
        session.commit()
    return batch


def list_imports(session: Session, actor: User, *, kind: str | None = None, limit: int = 100) -> list[ImportBatch]:
    query = select(ImportBatch).where(scope_of(actor).clause(ImportBatch.area_code), import_clause(actor, ImportBatch.actor_id))
    if kind == "ledger":
        query = query.where(ImportBatch.kind == "ledger")
    elif kind == "flowback":
        query = query.where(ImportBatch.kind != "ledger")
    return list(session.execute(query.order_by(ImportBatch.id.desc()).limit(limit)).scalars())


def import_changes(session: Session, actor: User, import_id: int, *, limit: int = 500) -> tuple[list[ChangeLog], int]:
    """The change-log entries the import wrote (first ``limit``) and their number."""
    batch = get_import(session, actor, import_id)
    if batch.change_batch_id is None:
        return [], 0
    mine = ChangeLog.batch_id.in_(change_batches_of(batch))
    total = session.execute(select(func.count()).select_from(ChangeLog).where(mine)).scalar_one()
    rows = session.execute(select(ChangeLog).where(mine).order_by(ChangeLog.id).limit(limit))
    return list(rows.scalars()), total


def change_batches_of(batch: ImportBatch) -> Any:
    """The change batches an import wrote, as a subquery: one per committed chunk (``change_batch.import_id``),
    or the one batch of a flow-back import."""
    return select(ChangeBatch.id).where(or_(ChangeBatch.import_id == batch.id, ChangeBatch.id == batch.change_batch_id))


def rejects_workbook(session: Session, actor: User, import_id: int) -> bytes:
    """The rejected rows of an import as a workbook to fix and import again."""
    batch = get_import(session, actor, import_id)
    stored = session.get(ImportFile, import_id)
    if stored is None:
        raise NotFound(Issue("file-missing", "该导入的原文件已不存在", {"record": import_id}))
    parsed = parse(session, stored.content, batch.file_name)
    try:
        result = apply_parsed(session, actor, parsed, area_code=batch.area_code or actor.area_code, policy="db")
    finally:
        session.rollback()  # only to learn the outcome per row; nothing is kept
    return rejected_workbook(parsed, result)


def rejected_records(result: ApplyResult) -> list[Record]:
    """Every record of a rejected row, carrying all the reasons found for it (reader's and database's); of
    a row that wrote something else, only its refused records (the reason says the rest was written)."""
    rows = result.row_status()
    out = []
    for o in result.outcomes:
        status = rows[(o.record.source.sheet, o.record.source.row)]
        if status == "rejected":
            out.append(replace(o.record, issues=list(o.issues) if o.status == "rejected" else []))
        elif o.status == "rejected":
            note = Issue("row-partly-written", "（本行其余数据已写入，只需改正上述问题后重新导入）",
                         {"sheet": o.record.source.sheet, "row": o.record.source.row}, "warning")
            out.append(replace(o.record, issues=[*o.issues, note]))
    return out


def rejected_workbook(parsed: ParsedFile, result: ApplyResult) -> bytes:
    """The rejected rows (original cells, reasons, offending cells red) as the reader's rejects workbook."""
    buffer = io.BytesIO()
    write_rejects(parsed, rejected_records(result), buffer)
    return buffer.getvalue()


# ------------------------------------------------------------------ the conflict queue


@dataclass
class ConflictView:
    conflict: ImportConflict
    field_label: str
    db_text: str
    file_text: str


def _text(session: Session, entity: str, name: str, value: Any) -> str:
    if value is None:
        return ""
    if entity == "person" and name == "household_id":
        h = session.get(Household, int(value))
        return h.number if h else str(value)
    model = MODELS.get(entity)
    if model is not None and name in model.__table__.c:
        code_list = model.__table__.c[name].info.get("code_list")
        if code_list:
            return f"{code_lists(session).get(code_list, {}).get(str(value), '')}（{value}）"
    return str(value)


def _label(session: Session, c: ImportConflict) -> str:
    if c.entity == "tag":
        tag = session.get(Tag, c.entity_id)
        tag_type = session.get(TagType, tag.tag_code) if tag else None
        attr = c.field.removeprefix("attrs.")
        spec = next((a for a in (tag_type.attributes if tag_type else []) if a["name"] == attr), None)
        return f"{tag_type.name if tag_type else ''}·{spec['label'] if spec else attr}"
    return field_label(MODELS[c.entity], c.field)


def conflicts(session: Session, actor: User, *, import_id: int | None = None, status: str = "open",
              limit: int = 500) -> list[ConflictView]:
    query = select(ImportConflict).where(scope_of(actor).clause(ImportConflict.area_code), _visible_imports(actor, ImportConflict.import_id))
    if import_id is not None:
        query = query.where(ImportConflict.import_id == import_id)
    if status:
        query = query.where(ImportConflict.status == status)
    rows = session.execute(query.order_by(ImportConflict.id).limit(limit)).scalars()
    return [ConflictView(c, _label(session, c), _text(session, c.entity, c.field, c.db_value),
                         _text(session, c.entity, c.field, c.file_value)) for c in rows]


def open_conflict_count(session: Session, actor: User) -> int:
    return session.execute(select(func.count()).select_from(ImportConflict).where(
        scope_of(actor).clause(ImportConflict.area_code), _visible_imports(actor, ImportConflict.import_id),
        ImportConflict.status == "open")).scalar_one()


def _visible_imports(actor: User, import_column: Any) -> Any:
    """SQL: rows belonging to an import the actor may see (need-to-know: departments see their own uploads)."""
    return import_column.in_(select(ImportBatch.id).where(import_clause(actor, ImportBatch.actor_id)))


def _take(session: Session, actor: User, c: ImportConflict, batch: Any) -> None:
    today = clock.today()
    if c.entity == "tag":
        tag = session.get(Tag, c.entity_id)
        if tag is None or (tag.valid_to is not None and tag.valid_to <= today):
            raise Conflict(Issue("stale-conflict", "该标签已结束或已被修改，请重新核对", {"record": c.id}))
        attr = c.field.removeprefix("attrs.")
        if str(tag.attrs.get(attr)) != str(c.db_value):
            raise Conflict(Issue("stale-conflict", f"该属性已被改为“{tag.attrs.get(attr)}”，与导入时不同，请重新核对", {"record": c.id}))
        tag_service.edit_tag_attrs(session, actor, tag.id, {**tag.attrs, attr: c.file_value}, max(today, tag.valid_from),
                                   batch=batch)
        return
    model = MODELS[c.entity]
    row = session.get(model, c.entity_id)
    if row is None:
        raise NotFound(Issue("not-found", "记录不存在", {"record": c.id}))
    current = getattr(row, c.field)
    if (current.isoformat() if isinstance(current, date) else current) != c.db_value:
        raise Conflict(Issue("stale-conflict", f"{_label(session, c)}已被改为“{_text(session, c.entity, c.field, current)}”，"
                                               "与导入时不同，请重新核对", {"record": c.id}, hint="刷新页面查看最新内容"))
    value = value_for(c.entity, c.field, c.file_value)
    if c.entity == "person":
        person_service.update_person(session, actor, c.entity_id, {c.field: value}, effective=today, batch=batch)
    elif c.entity == "organisation":
        from app.services import organisations as organisation_service

        organisation_service.update_organisation(session, actor, c.entity_id, {c.field: value}, effective=today, batch=batch)
    else:
        household_service.update_household(session, actor, c.entity_id, {c.field: value}, effective=today, batch=batch)


def resolve_conflicts(session: Session, actor: User, conflict_ids: list[int], decision: str) -> int:
    """Keep the database's value or take the file's (applied with history), for each conflict; one
    transaction: if one cannot be taken, none is."""
    if decision not in ("keep", "take"):
        raise ValidationFailed(Issue("bad-decision", "只能选择“保留系统值”或“采用文件值”", {"field": "decision"}))
    items = [session.get(ImportConflict, i) if 0 < i < 2**31 else None for i in conflict_ids]  # tampered ids: not found
    missing = [i for i, c in zip(conflict_ids, items, strict=True) if c is None]
    if missing:
        raise NotFound(Issue("not-found", f"冲突 #{missing[0]} 不存在", {"record": missing[0]}))
    try:
        batch = None
        done = 0
        for c in items:
            assert c is not None
            require_write(actor, c.area_code)
            if c.status != "open":
                continue
            if decision == "take":
                batch = batch or history.open_batch(session, actor, "import", note=f"导入冲突处理（导入 #{c.import_id}）")
                _take(session, actor, c, batch)
                c.change_batch_id = batch.id
            c.status = "taken" if decision == "take" else "kept"
            c.resolved_by, c.resolved_at = actor.id, utcnow()
            done += 1
        session.commit()
    except IssueError:
        session.rollback()
        raise
    except BaseException:
        session.rollback()
        raise
    return done


def open_conflict_ids(session: Session, actor: User, import_id: int) -> list[int]:
    get_import(session, actor, import_id)
    return list(session.execute(select(ImportConflict.id).where(
        ImportConflict.import_id == import_id, ImportConflict.status == "open",
        scope_of(actor).clause(ImportConflict.area_code)).order_by(ImportConflict.id)).scalars())

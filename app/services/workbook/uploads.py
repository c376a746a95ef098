"""Uploads: keep the file, preview it against the current database, apply it atomically, or discard it."""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import select, update
from sqlmodel import Session

from app.issues import Conflict, Issue, IssueError, NotFound, PermissionDenied, ValidationFailed
from app.models import Area, ChangeBatch, Household, Person, Tag, User, WorkbookDownload, WorkbookUpload
from app.models.base import utcnow
from app.services import history
from app.services import households as household_service
from app.services import houses as house_service
from app.services import persons as person_service
from app.services import tags as tag_service
from app.services.codelists import code_lists
from app.services.persons import today
from app.services.rules import HEAD
from app.services.scope import require_write
from app.services.workbook.columns import (
    HOUSE_SHEET,
    HOUSEHOLD_SHEET,
    PERSON_SHEET,
    TAG_NAME_LIST,
    TAG_SHEET,
    house_columns,
    household_columns,
    person_columns,
    tag_columns,
)
from app.services.workbook.context import ENDED_PERSON, Context
from app.services.workbook.download import village_of
from app.services.workbook.house_rows import houses_plan
from app.services.workbook.plan import Preview, RowPlan
from app.services.workbook.preview import households_plan, missing, persons_plan, tags_plan
from app.services.workbook.reader import Parsed, read_workbook

TAKE, KEEP = "take", "keep"  # a conflict's choice: the file's values, or the server's (nothing written)
DEFAULT_MAX_BYTES = 50 * 1024 * 1024


def _parse(session: Session, content: bytes, file_name: str) -> Parsed:
    types = tag_service.tag_types(session)
    lists = {**code_lists(session), TAG_NAME_LIST: {t.code: t.name for t in types.values()}}
    columns = {PERSON_SHEET: person_columns(), HOUSEHOLD_SHEET: household_columns(), TAG_SHEET: tag_columns(list(types.values())),
               HOUSE_SHEET: house_columns()}
    return read_workbook(content, file_name, columns, lists)


def _download_for(session: Session, meta: dict[str, str], code: str, file_name: str) -> WorkbookDownload:
    download = session.get(WorkbookDownload, int(meta["download_id"]))
    if meta.get("village_code") != code:
        other = session.get(Area, meta.get("village_code", ""))
        name = other.name if other else meta.get("village_code", "")
        raise ValidationFailed(Issue("wrong-village", f"这是{name}（{meta.get('village_code')}）的一表，不能上传到本村",
                                     {"file": file_name}, hint="请上传本村下载的一表"))
    if download is None or download.village_code != code:
        raise ValidationFailed(Issue("unknown-download", "找不到这份一表的下载记录（文件可能来自其他系统或被改动）",
                                     {"file": file_name}, hint="请重新下载一表，在新文件中修改后上传"))
    return download


def store_upload(session: Session, actor: User, code: str, file_name: str, content: bytes,
                 *, max_bytes: int = DEFAULT_MAX_BYTES) -> WorkbookUpload:
    """Check the file is this village's workbook and keep it, pending; the caller commits.

    Anything else (another village's workbook, a renamed picture, a damaged or oversized file) is
    refused with a Chinese message and nothing is stored.
    """
    village_of(session, actor, code)
    require_write(actor, code)
    file_name = (file_name or "一表.xlsx")[-255:]
    if len(content) > max_bytes:
        raise ValidationFailed(Issue("too-large", f"上传的文件超过 {max_bytes // (1024 * 1024)} MB 的上限", {"file": file_name}))
    parsed = _parse(session, content, file_name)
    download = _download_for(session, parsed.meta, code, file_name)
    upload = WorkbookUpload(actor_id=actor.id, village_code=code, download_id=download.id, file_name=file_name,
                            sha256=hashlib.sha256(content).hexdigest(), size_bytes=len(content), uploaded_at=utcnow(),
                            content=content)
    session.add(upload)
    session.flush()
    return upload


def get_upload(session: Session, actor: User, code: str, upload_id: int) -> WorkbookUpload:
    upload = session.get(WorkbookUpload, upload_id)
    if upload is None or upload.village_code != code:
        raise NotFound(Issue("not-found", f"上传记录 #{upload_id} 不存在", {"record": upload_id}))
    require_write(actor, upload.village_code)
    if upload.actor_id != actor.id and actor.role != "admin":
        raise PermissionDenied(Issue("not-your-upload", "这是其他人上传的一表，只有上传人可以查看和确认", {"record": upload_id}))
    return upload


def pending_uploads(session: Session, actor: User, code: str) -> list[WorkbookUpload]:
    require_write(actor, code)
    return list(session.execute(
        select(WorkbookUpload).where(WorkbookUpload.village_code == code, WorkbookUpload.actor_id == actor.id)
        .order_by(WorkbookUpload.id.desc()).limit(20)
    ).scalars())


def preview(session: Session, actor: User, upload: WorkbookUpload) -> Preview:
    """What applying the upload would do now, against the current database."""
    area = village_of(session, actor, upload.village_code)
    parsed = _parse(session, upload.content, upload.file_name)
    download = session.get(WorkbookDownload, upload.download_id)
    ctx = Context(session, download, upload.village_code)
    ctx.load(parsed)

    h_rows, h_same = households_plan(ctx, parsed.rows[HOUSEHOLD_SHEET])
    new_households = {r.values["number"]: r for r in h_rows if r.kind == "new"}
    p_rows, p_same = persons_plan(ctx, parsed.rows[PERSON_SHEET], new_households)
    new_persons = {r.values["id_number"]: r for r in p_rows if r.kind == "new"}
    t_rows, t_same = tags_plan(ctx, parsed.rows[TAG_SHEET], new_persons, new_households)
    house_rows, house_same = houses_plan(ctx, parsed.rows[HOUSE_SHEET], new_households)
    return Preview(upload.id, area.code, area.name, upload.file_name, parsed.meta.get("downloaded_at", ""),
                   download.data_version, [*h_rows, *p_rows, *t_rows, *house_rows, *missing(ctx, parsed)],
                   {"household": h_same, "person": p_same, "tag": t_same, "house": house_same}, parsed.issues)


def discard(session: Session, actor: User, upload: WorkbookUpload) -> None:
    _consume(session, upload, "discarded")


def _consume(session: Session, upload: WorkbookUpload, status: str, batch_id: int | None = None) -> None:
    """Mark a pending upload applied or discarded; a second attempt (another tab, a double click) is refused."""
    done = session.execute(
        update(WorkbookUpload).where(WorkbookUpload.id == upload.id, WorkbookUpload.status == "pending")
        .values(status=status, decided_at=utcnow(), batch_id=batch_id).execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:
        raise Conflict(Issue("upload-already-decided", "这份上传已经写入或已放弃，不能再次操作", {"record": upload.id},
                             hint="如需再次修改，请重新下载一表"))
    session.refresh(upload)


def apply(session: Session, actor: User, upload: WorkbookUpload, *, digest: str,
          choices: dict[str, str] | None = None) -> tuple[ChangeBatch, Preview]:
    """Write the previewed changes in one go (the caller commits; on any error it rolls back, nothing written).

    ``digest`` is the preview's fingerprint the cadre confirmed: if the database or the file's meaning
    changed since, the apply is refused. ``choices`` maps a conflict's key to ``take`` or ``keep``
    (default: keep the server's values).
    """
    if upload.status != "pending":
        raise Conflict(Issue("upload-already-decided", "这份上传已经写入或已放弃，不能再次操作", {"record": upload.id}))
    plan = preview(session, actor, upload)
    if plan.blocked:
        raise ValidationFailed([*plan.file_issues, *[i for r in plan.of("invalid") for i in r.issues]])
    if digest != plan.digest:
        raise Conflict(Issue("preview-outdated", "预览之后系统中的数据又有变化，请查看最新的预览后再确认", {"record": upload.id}))
    choices = choices or {}
    batch = history.open_batch(session, actor, "excel", note=f"一表上传 #{upload.id}", file_name=upload.file_name)
    _consume(session, upload, "applied", batch.id)
    taken = [r for r in plan.of("conflict") if choices.get(r.key) == TAKE]
    _write(session, actor, batch, plan, taken)
    session.flush()
    return batch, plan


def _located(row: RowPlan, fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Run one service call; a refusal names the row of the workbook it came from."""
    try:
        return fn(*args, **kwargs)
    except IssueError as exc:
        raise type(exc)([i.at(sheet=row.sheet, row=row.row) for i in exc.issues]) from exc


def _write(session: Session, actor: User, batch: ChangeBatch, plan: Preview, taken: list[RowPlan]) -> None:
    on = today()
    numbers: dict[str, int] = {}
    rows = [*plan.of("new"), *plan.of("changed"), *plan.of("ended")]
    by = {(e, k): [r for r in rows if r.entity == e and r.kind == k] for e in ("household", "person", "tag")
          for k in ("new", "changed", "ended")}
    conflicts = {e: [r for r in taken if r.entity == e] for e in ("household", "person", "tag")}

    for row in by["household", "new"]:
        h = _located(row, household_service.create_household, session, actor, row.values, effective=on, batch=batch)
        numbers[h.number] = h.id
    for row in [*by["household", "changed"], *conflicts["household"]]:
        _located(row, household_service.update_household, session, actor, row.record_id, row.values, effective=on,
                 expected_version=row.expected_version, batch=batch)

    def household_id(number: str) -> int:
        if number in numbers:
            return numbers[number]
        found = session.execute(select(Household.id).where(Household.number == number)).first()
        numbers[number] = found[0]
        return found[0]

    # a household's old head steps down before the new one steps up (one head per household at every write)
    updates = sorted([*by["person", "changed"], *conflicts["person"], *by["person", "ended"]],
                     key=lambda r: r.kind != "ended" and r.values.get("relation") == HEAD)
    for row in updates:
        changes = dict(row.values)
        number = changes.pop("household_number", None)
        end_reason = ENDED_PERSON.get(changes.get("living_status")) if row.kind == "ended" else None
        if number is not None:
            hid = household_id(number)
            changes.update(household_id=hid, area_code=session.get(Household, hid).area_code)
        if end_reason:
            for k in ("living_status", "status_date", "moved_to"):
                changes.pop(k, None)
        if changes:
            _located(row, person_service.update_person, session, actor, row.record_id, changes, effective=on,
                     expected_version=row.expected_version, batch=batch, confirm_warnings=True)
        if end_reason:
            person = session.get(Person, row.record_id)
            _located(row, person_service.end_person, session, actor, row.record_id, end_reason, row.values["status_date"],
                     moved_to=row.values.get("moved_to"), expected_version=person.row_version, batch=batch,
                     confirm_warnings=True)

    for row in by["person", "new"]:
        values = {k: v for k, v in row.values.items() if k != "household_number"}
        hid = household_id(row.values["household_number"])
        values.update(household_id=hid, area_code=session.get(Household, hid).area_code)
        _located(row, person_service.create_person, session, actor, values, effective=on, batch=batch,
                 confirm_warnings=True)
    person_ids: dict[str, int] = {}

    def subject_id(tag_code: str, key: str) -> int:
        if tag_service.tag_types(session)[tag_code].subject == "household":
            return household_id(key)
        if key not in person_ids:
            person_ids[key] = session.execute(select(Person.id).where(Person.id_number == key)).first()[0]
        return person_ids[key]

    for row in [*by["tag", "ended"], *[r for r in conflicts["tag"] if "valid_to" in r.values]]:
        tag = session.get(Tag, row.record_id)
        if tag.valid_to is None or tag.valid_to > row.values["valid_to"]:
            _located(row, tag_service.end_tag, session, actor, row.record_id, row.values["valid_to"], batch=batch)
    for row in [*by["tag", "changed"], *[r for r in conflicts["tag"] if "valid_to" not in r.values]]:
        tag = session.get(Tag, row.record_id)
        if tag.valid_to is not None and tag.valid_to <= on:
            continue  # ended meanwhile (e.g. the person's death in this upload)
        # the tag service's one attribute change: ends the row today and continues it (in the same batch)
        _located(row, tag_service.edit_tag_attrs, session, actor, tag.id, row.values.get("attrs", tag.attrs), on,
                 evidence=row.values.get("evidence", ...), batch=batch)
    for row in by["tag", "new"]:
        v = row.values
        _located(row, tag_service.grant_tag, session, actor, v["tag_code"], subject_id(v["tag_code"], v["subject"]),
                 v["valid_from"], attrs=v["attrs"], evidence=v.get("evidence"), batch=batch, confirm_warnings=True)

    for row in [r for r in rows if r.entity == "house"] + [r for r in taken if r.entity == "house"]:
        values = dict(row.values)
        if "household_number" in values:
            number = values.pop("household_number")
            values["household_id"] = household_id(number) if number else None
        demolish = row.kind == "ended" or (row.kind == "conflict" and values.get("status") == house_service.DEMOLISHED)
        values.pop("status", None)
        if row.kind == "new":
            _located(row, house_service.create_house, session, actor, {**values, "area_code": plan.village_code},
                     effective=on, batch=batch)
            continue
        version = row.expected_version
        if values:
            _located(row, house_service.update_house, session, actor, row.record_id, values, effective=on,
                     expected_version=version, batch=batch)
            version = None  # checked by the update just made
        if demolish:
            _located(row, house_service.demolish_house, session, actor, row.record_id, on, expected_version=version,
                     batch=batch)

    for row in by["household", "ended"]:
        changes = {k: v for k, v in row.values.items() if k not in ("status", "status_date")}
        if changes:
            _located(row, household_service.update_household, session, actor, row.record_id, changes, effective=on,
                     expected_version=row.expected_version, batch=batch)
        _located(row, household_service.end_household, session, actor, row.record_id, row.values["status_date"], batch=batch)

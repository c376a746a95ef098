"""Collection tasks (采集任务): issue, pre-fill, correct, submit, two-level review, report.

Flow of one village: 未开始 → (a correction saved) 填报中 → (the village submits) 待审核 → (its township
approves) 已确认; the township (while 待审核) or the issuer (while 待审核 or 已确认) may return it with a
comment → 已退回 → corrected and submitted again. Every transition and every save is a ``TaskEvent``.
Corrections go into the base data through the persons / households services (history source
``task``, optimistic locking, the same validation as every other entry), with effect from the task's
reference date (or today, if that is earlier). A submission stores the village's part of the report
(``task_report``), and the issuer's report is assembled from the confirmed parts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select, update
from sqlmodel import Session

from app import clock
from app.db import Database
from app.issues import Conflict, Issue, NotFound, PermissionDenied, ValidationFailed
from app.models import Area, CollectionTask, TaskEvent, TaskVillage, User
from app.models.area import LEVEL_PREFIX
from app.models.base import utcnow
from app.models.task import TASK_STATUSES
from app.registry.loader import Registry, check_not_expired
from app.registry.schema import ReportSpec
from app.registry.vocabulary import REPORT_KINDS
from app.reporting.frames import CACHE
from app.reporting.store_delta import data_version
from app.services import history, households, persons, task_coverage, task_report
from app.services.reports import require_run
from app.services.scope import projection_rows_authorised, require_active, scope_of

ISSUERS = ("department", "township_staff", "admin")
EDITABLE_STATUSES = ("not_started", "in_progress", "returned")
MAX_NOTE = 500
MAX_COMMENT = 1000


def today() -> date:
    return clock.today()


# ------------------------------------------------------------------------------- who may do what


def is_issuer_side(actor: User, task: CollectionTask) -> bool:
    """The issuing user, or a colleague with the same role, department and area (or an admin)."""
    return actor.role == "admin" or actor.id == task.issuer_id or (
        actor.role == task.issuer_role and actor.department == task.issuer_department and actor.area_code == task.issuer_area)


def _covers(actor: User, village_code: str) -> bool:
    scope = scope_of(actor)
    return len(scope.prefix) <= 12 and scope.covers(village_code)


def is_village_keeper(actor: User, village_code: str) -> bool:
    return actor.role == "admin" or (actor.role == "village_cadre" and _covers(actor, village_code))


def is_reviewer(actor: User, village_code: str) -> bool:
    return actor.role == "admin" or (actor.role == "township_staff" and _covers(actor, village_code))


def _refuse(message: str, code: str = "task-forbidden", **location: Any) -> PermissionDenied:
    return PermissionDenied(Issue(code, message, location))


# ------------------------------------------------------------------------------- issuing


@dataclass
class IssueRequest:
    report_id: str
    areas: list[str]
    reference_date: date | None
    deadline: date | None
    note: str = ""
    version: int | None = None


def _villages_of(session: Session, code: str, on: date) -> list[Area]:
    query = (select(Area).where(Area.level == 5, Area.code.startswith(code[:9]), Area.valid_from <= on)
             .where((Area.valid_to.is_(None)) | (Area.valid_to > on)).order_by(Area.code))
    return list(session.execute(query).scalars())


def _common_area(session: Session, codes: list[str]) -> str:
    """The smallest township or county holding every village (the report's area)."""
    for level in (4, 3):
        n = LEVEL_PREFIX[level]
        heads = {c[:n] for c in codes}
        if len(heads) == 1:
            code = (next(iter(heads)) + "0" * 12)[:12]
            if session.get(Area, code) is not None:
                return code
    county = codes[0][:6] + "000000"
    return county


def require_issuer(actor: User) -> None:
    require_active(actor)
    if actor.role not in ISSUERS:
        raise _refuse("只有部门用户和乡镇（街道）工作人员可以发布采集任务", "task-issuer-role")


def issue_task(session: Session, registry: Registry, actor: User, req: IssueRequest, *,
               on: date | None = None) -> CollectionTask:
    """Create a task for a projection and a set of villages (a township stands for all its villages)."""
    require_issuer(actor)
    now = on or today()
    issues: list[Issue] = []
    spec: ReportSpec | None = None
    if not req.report_id:
        issues.append(Issue("required", "请选择报表", {"field": "report"}))
    else:
        spec = registry.get(req.report_id, req.version)
        require_run(actor, spec)
        if spec.kind not in task_report.SUPPORTED_KINDS:
            issues.append(Issue("task-kind", f"“{spec.plain_title}”是{_kind_label(spec.kind)}，不能作为采集任务",
                                {"field": "report"}, hint="可选分区划汇总表或花名册"))
        try:
            check_not_expired(spec, now)
        except ValidationFailed as exc:
            issues += [i.at(field="report") for i in exc.issues]
    if req.reference_date is None:
        issues.append(Issue("required", "请填写数据截至日期", {"field": "reference_date"}))
    if req.deadline is None:
        issues.append(Issue("required", "请填写截止日期", {"field": "deadline"}))
    elif req.deadline < now:
        issues.append(Issue("deadline-past", f"截止日期 {req.deadline.isoformat()} 已过", {"field": "deadline"},
                            hint=f"截止日期不能早于今天（{now.isoformat()}）"))
    elif req.reference_date is not None and req.deadline < req.reference_date:
        issues.append(Issue("deadline-before-reference", "截止日期不能早于数据截至日期", {"field": "deadline"}))
    if len(req.note) > MAX_NOTE:
        issues.append(Issue("too-long", f"说明最多{MAX_NOTE}个字，现为{len(req.note)}个", {"field": "note"}))
    villages: dict[str, Area] = {}
    if not req.areas:
        issues.append(Issue("no-areas", "请至少选择一个村（社区）或乡镇（街道）", {"field": "areas"}))
    scope = scope_of(actor)
    for code in req.areas:
        area = session.get(Area, code)
        if area is None:
            issues.append(Issue("unknown-area", f"区划 {code} 不存在", {"field": "areas"}))
        elif not scope.covers(code):
            issues.append(Issue("area-out-of-scope", f"“{area.name}”（{code}）超出您的管辖范围", {"field": "areas"}))
        elif area.level == 4:
            found = _villages_of(session, code, now)
            if not found:
                issues.append(Issue("no-villages", f"“{area.name}”下没有现行的村（社区）", {"field": "areas"}))
            villages.update({v.code: v for v in found})
        elif area.level == 5:
            if area.valid_to is not None and area.valid_to <= now:
                issues.append(Issue("area-ended", f"“{area.name}”已撤销或合并", {"field": "areas"},
                                    hint=f"请改选 {area.successor_code}" if area.successor_code else None))
            else:
                villages[code] = area
        else:
            issues.append(Issue("area-level", f"“{area.name}”不是乡镇或村，请选择乡镇（街道）或村（社区）", {"field": "areas"}))
    if issues:
        raise ValidationFailed(issues)
    assert spec is not None and req.reference_date is not None and req.deadline is not None
    codes = sorted(villages)
    task = CollectionTask(report_id=spec.id, report_version=spec.version, title=spec.plain_title,
                          reference_date=req.reference_date, deadline=req.deadline, note=req.note.strip(),
                          area_code=_common_area(session, codes), issuer_id=actor.id, issuer_role=actor.role,
                          issuer_department=actor.department, issuer_area=actor.area_code)
    session.add(task)
    session.flush()
    for code in codes:
        session.add(TaskVillage(task_id=task.id, village_code=code))
    _event(session, task, None, actor, "issued", comment=f"{len(codes)}个村（社区）")
    session.flush()
    return task


def _kind_label(kind: str) -> str:
    return REPORT_KINDS.get(kind, kind)


def task_specs(registry: Registry, actor: User, on: date | None = None) -> list[ReportSpec]:
    """Projections the actor may issue a task for: visible to them, of a supported kind, not expired."""
    now = on or today()
    specs = [s for s in registry.latest() if s.kind in task_report.SUPPORTED_KINDS
             and (s.valid_until is None or s.valid_until >= now)]
    if actor.role == "department":
        specs = [s for s in specs if s.department == actor.department]
    return specs


def issuable_areas(session: Session, actor: User, on: date | None = None) -> list[Area]:
    """Townships and villages in the actor's scope, in force today."""
    now = on or today()
    query = (select(Area).where(scope_of(actor).clause(Area.code), Area.level.between(4, 5), Area.valid_from <= now)
             .where((Area.valid_to.is_(None)) | (Area.valid_to > now)).order_by(Area.code))
    return list(session.execute(query).scalars())


# ------------------------------------------------------------------------------- reading


def get_task(session: Session, actor: User, task_id: int) -> CollectionTask:
    require_active(actor)
    task = session.get(CollectionTask, task_id)
    if task is None:
        raise NotFound(Issue("not-found", f"采集任务 #{task_id} 不存在", {"record": task_id}))
    if is_issuer_side(actor, task):
        return task
    if actor.role in ("village_cadre", "township_staff") and visible_villages(session, actor, task):
        return task
    raise _refuse("该采集任务不属于您的管辖范围", "out-of-scope", record=task_id)


def visible_villages(session: Session, actor: User, task: CollectionTask) -> list[TaskVillage]:
    """The task's villages this actor sees: all for the issuer, their own for a cadre or a township."""
    rows = list(session.execute(select(TaskVillage).where(TaskVillage.task_id == task.id)
                                .order_by(TaskVillage.village_code)).scalars())
    if is_issuer_side(actor, task):
        return rows
    return [r for r in rows if _covers(actor, r.village_code) and actor.role in ("village_cadre", "township_staff")]


def get_village(session: Session, actor: User, task: CollectionTask, village_code: str) -> TaskVillage:
    row = session.execute(select(TaskVillage).where(TaskVillage.task_id == task.id, TaskVillage.village_code == village_code)
                          ).scalar_one_or_none()
    if row is None:
        raise NotFound(Issue("not-found", f"采集任务 #{task.id} 不包括区划 {village_code}", {"record": village_code}))
    if not (is_issuer_side(actor, task) or is_village_keeper(actor, village_code) or is_reviewer(actor, village_code)):
        raise _refuse("无权查看该村（社区）的采集任务", "out-of-scope", record=village_code)
    return row


@dataclass
class TaskSummary:
    task: CollectionTask
    counts: dict[str, int]
    total: int
    mine: list[TaskVillage]

    @property
    def overdue(self) -> bool:
        return self.task.deadline < today() and self.counts.get("confirmed", 0) < self.total


def list_tasks(session: Session, actor: User) -> list[TaskSummary]:
    """Tasks the actor issued or takes part in, newest first, with status counts."""
    require_active(actor)
    scope = scope_of(actor)
    query = select(CollectionTask).order_by(CollectionTask.id.desc())
    if actor.role in ("village_cadre", "township_staff"):
        mine = select(TaskVillage.task_id).where(scope.clause(TaskVillage.village_code))
        query = query.where((CollectionTask.id.in_(mine)) | (CollectionTask.issuer_id == actor.id))
    elif actor.role == "department":
        query = query.where(CollectionTask.issuer_role == "department", CollectionTask.issuer_department == actor.department,
                            scope.clause(CollectionTask.issuer_area))
    tasks = list(session.execute(query.limit(200)).scalars())
    out = []
    for task in tasks:
        villages = visible_villages(session, actor, task)
        if not villages and not is_issuer_side(actor, task):
            continue
        counts = {s: 0 for s in TASK_STATUSES}
        for v in villages:
            counts[v.status] += 1
        out.append(TaskSummary(task, counts, len(villages), villages))
    return out


def open_tasks_for(session: Session, actor: User) -> list[TaskSummary]:
    """What a village cadre still has to do (or a township to review): for the landing page."""
    if actor.role == "village_cadre":
        wanted = EDITABLE_STATUSES
    elif actor.role == "township_staff":
        wanted = ("submitted",)
    else:
        return []
    return [s for s in list_tasks(session, actor) if any(v.status in wanted for v in s.mine)]


def events(session: Session, task: CollectionTask, village_code: str | None = None) -> list[tuple[TaskEvent, str]]:
    """The task's events, oldest first, each with the actor's display name."""
    query = (select(TaskEvent, User.display_name).join(User, TaskEvent.actor_id == User.id, isouter=True)
             .where(TaskEvent.task_id == task.id).order_by(TaskEvent.id))
    if village_code:
        query = query.where((TaskEvent.village_code == village_code) | (TaskEvent.village_code.is_(None)))
    return [(e, name or "系统") for e, name in session.execute(query).all()]


def coverage(db: Database, session: Session, registry: Registry, task: CollectionTask,
             village_code: str, actor: User | None = None) -> list[task_coverage.Section]:
    """The records and fields this village confirms, pre-filled from the base data; for a department
    ``actor`` (the issuer) limited to its need to know (``task_coverage.sections``)."""
    spec = registry.get(task.report_id, task.report_version)
    needs = task_coverage.derive_needs(spec, registry.indicators)
    snap = CACHE.get(db.engine, task.reference_date, data_version(db.engine))
    ctx = task_coverage.village_context(session, village_code, task.reference_date)
    task_coverage.select_records(spec, registry.indicators, needs, snap, ctx)
    out = task_coverage.sections(session, needs, task.reference_date, actor=actor,
                                 rows_authorised=actor is not None and projection_rows_authorised(session, actor, spec))
    observed = task_coverage.observation_section(session, spec, registry.indicators, village_code, task.reference_date)
    return [*out, observed] if observed else out


# ------------------------------------------------------------------------------- transitions


def _event(session: Session, task: CollectionTask, village_code: str | None, actor: User, action: str, *,
           before: str | None = None, after: str | None = None, comment: str = "") -> TaskEvent:
    event = TaskEvent(task_id=task.id, village_code=village_code, action=action, from_status=before, to_status=after,
                      actor_id=actor.id, comment=comment[:MAX_COMMENT], created_at=utcnow())
    session.add(event)
    return event


def _move(session: Session, row: TaskVillage, allowed: tuple[str, ...], to: str, **values: Any) -> str:
    """Change a village's status if it is still one of ``allowed`` (a guarded UPDATE: two reviewers
    acting at once cannot both succeed)."""
    before = row.status
    if before not in allowed:
        raise Conflict(Issue("task-status", f"当前状态为“{TASK_STATUSES[before]}”，不能执行此操作",
                             {"record": row.village_code}, hint="请刷新页面查看最新状态"))
    done = session.execute(update(TaskVillage).where(TaskVillage.id == row.id, TaskVillage.status == before)
                           .values(status=to, updated_at=utcnow(), **values).execution_options(synchronize_session=False))
    if done.rowcount != 1:
        raise Conflict(Issue("task-status-changed", "该村的任务状态刚被他人更改", {"record": row.village_code},
                             hint="请刷新页面查看最新状态"))
    session.refresh(row)
    return before


def _require_keeper(actor: User, row: TaskVillage) -> None:
    if not is_village_keeper(actor, row.village_code):
        raise _refuse("只有本村（社区）干部可以修改和提交本村的任务数据", record=row.village_code)


def _require_editable(row: TaskVillage) -> None:
    if row.status not in EDITABLE_STATUSES:
        raise Conflict(Issue("task-locked", f"本村数据已{TASK_STATUSES[row.status]}，不能再修改",
                             {"record": row.village_code}, hint="如需修改，请联系乡镇（街道）或发布部门退回"))


def parse_values(entity: str, form: dict[str, str], fields: list[str]) -> tuple[dict[str, Any], list[Issue]]:
    """Form strings → typed values for the given fields (dates ISO, empty → None); bad dates are issues."""
    model = task_coverage.ENTITY_MODEL[entity]
    values: dict[str, Any] = {}
    issues: list[Issue] = []
    for name in fields:
        if name not in form:
            continue
        raw = (form[name] or "").strip()
        column = model.__table__.columns[name]
        label = column.info.get("label", name)
        if raw == "":
            values[name] = None
        elif column.type.python_type is date:
            try:
                values[name] = date.fromisoformat(raw)
            except ValueError:
                issues.append(Issue("bad-date", f"{label}不是有效日期：{raw}", {"field": name}, hint="格式如 2025-06-30"))
        else:
            values[name] = raw.upper() if name == "id_number" else raw
    return values, issues


def save_record(session: Session, registry: Registry, db: Database, actor: User, task: CollectionTask, village_code: str,
                entity: str, record_id: int, form: dict[str, str], expected_version: int | None, *,
                confirm_warnings: bool = False) -> history.Change:
    """Save a village's correction of one record (only the fields the task covers and that changed).

    Warnings of the cross-field rules (e.g. an age over 110) refuse the save until confirmed.
    """
    row = get_village(session, actor, task, village_code)
    _require_keeper(actor, row)
    _require_editable(row)
    if entity not in task_coverage.EDITABLE_ENTITIES:
        raise ValidationFailed(Issue("not-editable", "该类记录不能在采集任务中修改", {"record": record_id}))
    spec = registry.get(task.report_id, task.report_version)
    need = task_coverage.derive_needs(spec, registry.indicators).get(entity)
    editable = [f for f in (need.fields if need else []) if f not in task_coverage.NOT_INLINE]
    model = task_coverage.ENTITY_MODEL[entity]
    record = session.get(model, record_id)
    if record is None:
        raise NotFound(Issue("not-found", f"记录 #{record_id} 不存在", {"record": record_id}))
    if not record.area_code.startswith(village_code):
        raise _refuse("该记录不属于本村（社区）", "out-of-scope", record=record_id)
    values, issues = parse_values(entity, form, editable)
    if issues:
        raise ValidationFailed(issues)
    changes = {k: v for k, v in values.items() if getattr(record, k) != v}
    if not changes:
        return history.Change(entity, record_id, {})
    effective = min(task.reference_date, today())
    title = getattr(record, task_coverage.TITLE_FIELD[entity])
    batch = history.open_batch(session, actor, "task", note=f"采集任务 #{task.id}")
    if entity == "person":
        change = persons.update_person(session, actor, record_id, changes, effective=effective,
                                       expected_version=expected_version, batch=batch, confirm_warnings=confirm_warnings)
    else:
        change = households.update_household(session, actor, record_id, changes, effective=effective,
                                             expected_version=expected_version, batch=batch)
    if change.fields:
        labels = "、".join(f"{model.__table__.columns[k].info.get('label', k)}：{_show(old)} → {_show(new)}"
                          for k, (old, new) in change.fields.items())
        before = row.status
        if row.status in ("not_started", "returned"):
            _move(session, row, ("not_started", "returned"), "in_progress")
        _event(session, task, village_code, actor, "saved", before=before, after=row.status, comment=f"{title}：{labels}")
    session.flush()
    return change


def _show(value: Any) -> str:
    if value is None or value == "":
        return "（空）"
    return value.isoformat() if isinstance(value, date) else str(value)


def submit(db: Database, session: Session, registry: Registry, actor: User, task: CollectionTask, village_code: str,
           note: str = "") -> TaskVillage:
    """The village confirms its data: its part of the report is computed now and stored for review."""
    row = get_village(session, actor, task, village_code)
    _require_keeper(actor, row)
    _require_editable(row)
    if len(note) > MAX_COMMENT:
        raise ValidationFailed(Issue("too-long", f"说明最多{MAX_COMMENT}个字", {"field": "note"}))
    session.flush()
    from app.services.validation import check_submission  # blocking rules, when YBT_RULES_ON_SUBMIT=blocking

    check_submission(db, session, registry, village_code, task.reference_date)
    part = task_report.compute_parts(db, session, registry, task, [village_code])[village_code]
    before = _move(session, row, EDITABLE_STATUSES, "submitted", submitted_at=utcnow(), part=part,
                   part_data_version=part["data_version"], confirmed_at=None)
    _event(session, task, village_code, actor, "submitted", before=before, after="submitted", comment=note.strip())
    session.flush()
    return row


def approve(session: Session, actor: User, task: CollectionTask, village_code: str, comment: str = "") -> TaskVillage:
    """The township approves a submission: the village's stored part becomes part of the report."""
    row = get_village(session, actor, task, village_code)
    if not is_reviewer(actor, village_code):
        raise _refuse("只有该村所属乡镇（街道）的工作人员可以审核", "task-not-reviewer", record=village_code)
    before = _move(session, row, ("submitted",), "confirmed", confirmed_at=utcnow())
    _event(session, task, village_code, actor, "approved", before=before, after="confirmed", comment=comment.strip())
    session.flush()
    return row


def return_village(session: Session, actor: User, task: CollectionTask, village_code: str, comment: str) -> TaskVillage:
    """Send a submission back with a comment: the township while it awaits review, the issuer also after."""
    row = get_village(session, actor, task, village_code)
    comment = (comment or "").strip()
    if is_issuer_side(actor, task):
        allowed: tuple[str, ...] = ("submitted", "confirmed")
    elif is_reviewer(actor, village_code):
        allowed = ("submitted",)
    else:
        raise _refuse("只有乡镇（街道）审核人员或任务发布方可以退回", "task-not-reviewer", record=village_code)
    if not comment:
        raise ValidationFailed(Issue("comment-required", "退回时请填写退回原因", {"field": "comment"}))
    if len(comment) > MAX_COMMENT:
        raise ValidationFailed(Issue("too-long", f"退回原因最多{MAX_COMMENT}个字", {"field": "comment"}))
    before = _move(session, row, allowed, "returned", confirmed_at=None, part=None, part_data_version=None)
    _event(session, task, village_code, actor, "returned", before=before, after="returned", comment=comment)
    session.flush()
    return row


def generate(db: Database, session: Session, registry: Registry, actor: User, task: CollectionTask) -> task_report.Assembled:
    """The issuer's report from the confirmed villages' stored parts."""
    if not is_issuer_side(actor, task):
        raise _refuse("只有任务发布方可以生成汇总报表", "task-not-issuer", record=task.id)
    villages = visible_villages(session, actor, task)
    return task_report.assemble(db, session, registry, task, villages)


def progress_counts(villages: list[TaskVillage]) -> dict[str, int]:
    counts = {s: 0 for s in TASK_STATUSES}
    for v in villages:
        counts[v.status] += 1
    return counts


def area_names(session: Session, codes: list[str]) -> dict[str, str]:
    if not codes:
        return {}
    return {code: name for code, name in session.execute(select(Area.code, Area.name).where(Area.code.in_(codes)))}

"""Web imports in the background (issue 15 item 7): the preview of an upload, or the apply of a previewed
import, runs as an ``ImportJob`` in a worker thread of the server process, not in the request.

``submit_preview`` / ``submit_apply`` check the request (scope, target village, status) and store a
queued job (a preview's upload in ``import_job_file``) in one commit, then hand it to this process's
runner: one thread that runs the jobs of the process one after another (one large file at a time per
process, so memory stays bounded by one import). ``run_job`` reads and applies through
``app.services.imports`` exactly as the synchronous path did (the reading in the isolated child) and
records the outcome: ``done`` with the import it produced, or ``failed`` with a Chinese message.

Progress: rows read (relayed by the reading child), then records compared and written. It is kept in
this process's memory and written to the job row while reading and between the chunks of an apply
(never inside a chunk: on SQLite that transaction holds the database's write lock).

A job whose process is gone (a server restart, a killed worker) is marked failed with a Chinese
message the next time this host's server looks at the jobs (``fail_stale_jobs``), never left
"running". ``YBT_IMPORT_JOBS=inline`` runs a job in the request right after it is stored (the default
under TESTING); ``thread`` (the default) in the background.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import func, or_, select
from sqlmodel import Session

from app.db import Database, get_db
from app.issues import Issue, IssueError, NotFound, ValidationFailed
from app.models import ChangeBatch, ImportBatch, ImportJob, ImportJobFile, User
from app.models.base import utcnow
from app.models.imports import POLICIES
from app.procstat import runner_gone, runner_id
from app.services import imports
from app.services.ledger_import.apply import check_target
from app.services.scope import require_write, scope_of

log = logging.getLogger(__name__)

ACTIVE = ("queued", "running")
#: A running job writes a sign of life (``heartbeat_at``) at least every few seconds (progress while
#: reading, after each chunk); one of another host silent this long is failed by whoever looks.
SILENT_AFTER = timedelta(minutes=15)
PERSIST_EVERY_S = 2.0
INTERRUPTED_PREVIEW = "服务在处理这项导入时重启或中断，导入未完成；请重新上传文件"
INTERRUPTED_APPLY = "服务在处理这项导入时重启或中断，导入未完成，没有写入任何数据；请重新执行导入"
INTERRUPTED_PARTIAL = "服务在写入这项导入时重启或中断，已写入的 {chunks} 块（约 {done} 条记录）保留；请在导入详情页点“继续执行”完成导入"


# ------------------------------------------------------------------ submitting


def submit_preview(session: Session, actor: User, content: bytes, file_name: str, *, area_code: str,
                   policy: str = "queue") -> ImportJob:
    """Store a queued preview job for an upload (the checks a request can make at once, first)."""
    check_target(session, actor, area_code)
    if policy not in POLICIES:
        raise ValidationFailed(Issue("bad-policy", "冲突处理方式无效", {"field": "冲突处理"}))
    if not content:
        raise ValidationFailed(Issue("file-empty", "文件是空的（0字节）", {"field": "文件"}))
    job = ImportJob(kind="preview", actor_id=actor.id, area_code=area_code, file_name=file_name[:255], size_bytes=len(content),
                    policy=policy, runner=runner_id(), phase="排队")
    session.add(job)
    session.flush()
    _known.add(job.id)  # before the commit: a look at the jobs meanwhile must not take it for stale
    session.add(ImportJobFile(job_id=job.id, content=content))
    session.commit()
    return job


def submit_apply(session: Session, actor: User, import_id: int, *, policy: str | None = None) -> ImportJob:
    """Store a queued job applying a previewed import (refused at once when it cannot be applied)."""
    batch = imports.get_import(session, actor, import_id)
    require_write(actor, batch.area_code)
    imports.require_appliable(batch)
    if policy is not None and policy not in POLICIES:
        raise ValidationFailed(Issue("bad-policy", "冲突处理方式无效", {"field": "冲突处理"}))
    busy = session.execute(select(ImportJob.id).where(ImportJob.import_id == import_id, ImportJob.kind == "apply",
                                                      ImportJob.state.in_(ACTIVE))).scalar()
    if busy is not None:
        raise ValidationFailed(Issue("already-running", f"这次导入已在执行中（任务 #{busy}），请等待其完成", {"record": import_id}))
    job = ImportJob(kind="apply", actor_id=actor.id, area_code=batch.area_code or actor.area_code, file_name=batch.file_name,
                    size_bytes=batch.size_bytes, policy=policy or batch.policy, import_id=import_id, runner=runner_id(),
                    phase="排队")
    session.add(job)
    session.flush()
    _known.add(job.id)
    session.commit()
    return job


def start(app: Flask, job_id: int) -> None:
    """Run the job: in the background (``YBT_IMPORT_JOBS=thread``) or now (``inline``)."""
    if _mode(app) == "inline":
        run_job(app, job_id)
    else:
        _runner(app).put(job_id)


def _mode(app: Flask) -> str:
    mode = str(app.config.get("YBT_IMPORT_JOBS") or "").strip().lower()
    if not mode:
        mode = "inline" if app.config.get("TESTING") else "thread"
    return mode


# ------------------------------------------------------------------ reading jobs


def get_job(session: Session, actor: User, job_id: int) -> ImportJob:
    """A job its starter or someone whose area covers the job's village may see; others: not found
    (another village learns nothing, not even that the job exists)."""
    fail_stale_jobs(session)
    job = session.get(ImportJob, job_id) if 0 < job_id < 2**31 else None
    if job is None or (job.actor_id != actor.id and not scope_of(actor).covers(job.area_code)):
        raise NotFound(Issue("not-found", f"导入任务 #{job_id} 不存在", {"record": job_id}))
    return job


def list_jobs(session: Session, actor: User, *, limit: int = 20) -> list[ImportJob]:
    """"我的导入": the user's own jobs and those of their area, newest first."""
    fail_stale_jobs(session)
    query = select(ImportJob).where(or_(ImportJob.actor_id == actor.id, scope_of(actor).clause(ImportJob.area_code)))
    return list(session.execute(query.order_by(ImportJob.id.desc()).limit(limit)).scalars())


@dataclass
class Progress:
    phase: str
    done: int
    total: int


_progress: dict[int, Progress] = {}  # job id -> live progress of the jobs this process runs
_progress_lock = threading.Lock()
_known: set[int] = set()  # jobs submitted to this process and not finished


def status(job: ImportJob) -> dict[str, Any]:
    """The job as the progress page polls it (JSON)."""
    live = _progress.get(job.id or 0) if job.state == "running" else None
    phase, done, total = (live.phase, live.done, live.total) if live else (job.phase, job.done, job.total)
    if job.state == "done":
        percent = 100
    elif total:
        percent = min(99, int(done * 100 / total))
    else:
        percent = 0
    return {"id": job.id, "kind": job.kind, "state": job.state, "phase": phase, "done": done, "total": total, "percent": percent,
            "message": job.message, "import_id": job.import_id, "finished": job.state in ("done", "failed")}


# ------------------------------------------------------------------ stale jobs


def fail_stale_jobs(session: Session) -> int:
    """Mark failed the queued or running jobs of this host whose process is gone (or is this process,
    which does not know them: a restarted server can get the same pid), and running jobs of other hosts
    that gave no sign of life for ``SILENT_AFTER``. Returns how many were marked."""
    rows = session.execute(select(ImportJob).where(ImportJob.state.in_(ACTIVE))).scalars().all()
    if not rows:
        return 0
    me, mine, now = runner_id(), set(_known), utcnow()
    n = 0
    for job in rows:
        if job.runner.rpartition(":")[0] != me.rpartition(":")[0]:  # another host: judged by its signs of life
            stale = job.state == "running" and now - _aware(job.heartbeat_at or job.started_at or job.created_at) > SILENT_AFTER
        else:  # this host: by its process (this one does not know the job: a restarted server with the same pid)
            stale = job.id not in mine if job.runner == me else runner_gone(job.runner)
        if stale:
            job.state, job.finished_at = "failed", now
            job.message = INTERRUPTED_PREVIEW if job.kind == "preview" else _interrupted_apply(session, job)
            session.execute(ImportJobFile.__table__.delete().where(ImportJobFile.job_id == job.id))
            n += 1
    if n:
        session.commit()
        log.warning("marked %d interrupted import job(s) failed", n)
    return n


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _interrupted_apply(session: Session, job: ImportJob) -> str:
    """An apply job whose process died: the chunks it committed stay, and its import becomes 写入中断."""
    imports.mark_partial(session, job.import_id, job.done, job.total, "服务重启或中断")
    batch = session.get(ImportBatch, job.import_id) if job.import_id is not None else None
    if batch is None or batch.status != "partial":
        return INTERRUPTED_APPLY
    written = session.execute(select(func.count()).select_from(ChangeBatch).where(ChangeBatch.import_id == batch.id)).scalar_one()
    return INTERRUPTED_PARTIAL.format(chunks=written, done=job.done)


# ------------------------------------------------------------------ running


def run_job(app: Flask, job_id: int) -> None:
    """Run one queued job to done or failed; never raises (the outcome is on the job)."""
    with app.app_context():
        db = get_db(app)
        try:
            _run(db, job_id)
        except Exception as exc:  # an unexpected error: recorded on the job, not lost in a thread
            log.exception("import job %s failed", job_id)
            _finish(db, job_id, "failed", f"导入时发生内部错误（{type(exc).__name__}），{_what_was_written(db, job_id)}请稍后重试，或联系管理员")
        finally:
            with _progress_lock:
                _progress.pop(job_id, None)
            _known.discard(job_id)


def _what_was_written(db: Database, job_id: int) -> str:
    with db.session() as session:
        job = session.get(ImportJob, job_id)
        batch = session.get(ImportBatch, job.import_id) if job is not None and job.import_id is not None else None
        if batch is not None and batch.status == "partial":
            return "已写入的部分保留，可在导入详情页点“继续执行”完成导入；"
    return "未写入任何数据；"


def _issues_text(exc: IssueError) -> str:
    return "；".join(i.message + (f"（{i.hint}）" if i.hint else "") for i in exc.issues[:5])[:1000]


def _run(db: Database, job_id: int) -> None:
    with db.session() as session:
        job = session.get(ImportJob, job_id)
        if job is None or job.state != "queued":
            return
        job.state, job.started_at, job.runner, job.phase = "running", utcnow(), runner_id(), "读取文件"
        job.heartbeat_at = job.started_at
        session.commit()
        actor = session.get(User, job.actor_id)
        tracker = _Tracker(db, job_id)
        try:
            if actor is None:
                raise ValidationFailed(Issue("no-user", "发起导入的用户已不存在", {"record": job_id}))
            if job.kind == "preview":
                stored = session.get(ImportJobFile, job_id)
                if stored is None:
                    raise ValidationFailed(Issue("file-missing", "上传的文件已不存在，请重新上传", {"record": job_id}))
                content = stored.content
                batch, _result = imports.run_import(session, actor, content, job.file_name, area_code=job.area_code,
                                                    policy=job.policy, dry_run=True, isolated=True,
                                                    on_progress=tracker.reading, apply_progress=tracker.comparing,
                                                    on_chunk=tracker.chunk_compared)
                del content
                message = "文件被拒绝，见导入详情" if batch.status == "rejected" else _counts_text("预览完成（未写入）", batch.counts)
            else:
                assert job.import_id is not None
                batch, _result = imports.apply_import(session, actor, job.import_id, policy=job.policy, isolated=True,
                                                      on_progress=tracker.reading, apply_progress=tracker.writing,
                                                      on_chunk=tracker.chunk_written)
                message = _counts_text("已导入", batch.counts)
        except IssueError as exc:
            session.rollback()
            _finish(db, job_id, "failed", _issues_text(exc))
            return
        except BaseException:
            session.rollback()
            raise
    _finish(db, job_id, "done", message, import_id=batch.id)


def _counts_text(head: str, c: dict[str, Any]) -> str:
    text = (f"{head}：写入 {c.get('applied', 0)} 行，未变 {c.get('unchanged', 0)} 行，冲突 {c.get('conflict', 0)} 行，"
            f"拒绝 {c.get('rejected', 0)} 行")
    if c.get("partly_rejected"):
        text += f"（另有 {c['partly_rejected']} 行部分数据被拒绝，见拒绝清单）"
    return text


def _finish(db: Database, job_id: int, state: str, message: str, *, import_id: int | None = None) -> None:
    with db.session() as session:
        job = session.get(ImportJob, job_id)
        if job is None:
            return
        job.state, job.message, job.finished_at = state, message[:1000], utcnow()
        live = _progress.get(job_id)
        if live is not None:
            job.done, job.total = live.done, live.total
        if state == "done":
            job.phase, job.done = "完成", max(job.total, job.done)
        if import_id is not None:
            job.import_id = import_id
        session.execute(ImportJobFile.__table__.delete().where(ImportJobFile.job_id == job_id))
        session.commit()


class _Tracker:
    """Progress callbacks: kept in memory; written to the job row while reading and after each committed
    chunk of an apply (at most every 2 s)."""

    def __init__(self, db: Database, job_id: int):
        self.db, self.job_id, self.last = db, job_id, 0.0
        self._set("读取文件", 0, 0)

    def _set(self, phase: str, done: int, total: int) -> None:
        with _progress_lock:
            _progress[self.job_id] = Progress(phase, done, total)

    def reading(self, done: int, total: int) -> None:
        self._set("读取文件", done, total)
        now = time.monotonic()
        if now - self.last >= PERSIST_EVERY_S:
            self.last = now
            self._persist("读取文件", done, total)

    def comparing(self, done: int, total: int) -> None:
        self._set("与系统数据比对", done, total)

    def chunk_compared(self, done: int, total: int) -> None:
        """After each rolled-back chunk of a preview: as ``chunk_written``."""
        self._between_chunks("与系统数据比对", done, total)

    def writing(self, done: int, total: int) -> None:
        self._set("比对并写入", done, total)

    def chunk_written(self, done: int, total: int) -> None:
        """After a committed chunk (the write lock is free): the job row learns the progress too, so a
        poll answered by another worker process follows the writing (at most every 2 s)."""
        self._between_chunks("比对并写入", done, total)

    def _between_chunks(self, phase: str, done: int, total: int) -> None:
        self._set(phase, done, total)
        now = time.monotonic()
        if now - self.last >= PERSIST_EVERY_S or done >= total:
            self.last = now
            self._persist(phase, done, total)

    def _persist(self, phase: str, done: int, total: int) -> None:
        with self.db.session() as session:
            job = session.get(ImportJob, self.job_id)
            if job is not None:
                job.phase, job.done, job.total, job.heartbeat_at = phase, done, total, utcnow()
                session.commit()


# ------------------------------------------------------------------ the runner thread


class _Runner:
    def __init__(self, app: Flask):
        self.app = app
        self.queue: queue.Queue[int] = queue.Queue()
        self.thread = threading.Thread(target=self._loop, name="ybt-import-jobs", daemon=True)
        self.thread.start()

    def put(self, job_id: int) -> None:
        self.queue.put(job_id)

    def _loop(self) -> None:
        while True:
            job_id = self.queue.get()
            try:
                run_job(self.app, job_id)
            finally:
                self.queue.task_done()


_runners: dict[int, _Runner] = {}
_runners_lock = threading.Lock()


def _runner(app: Flask) -> _Runner:
    with _runners_lock:
        runner = _runners.get(id(app))
        if runner is None:
            runner = _runners[id(app)] = _Runner(app)
        return runner


def wait_idle(timeout: float = 60.0) -> bool:
    """Wait until this process has no job left to run (tests, and a graceful stop)."""
    deadline = time.monotonic() + timeout
    while _known and time.monotonic() < deadline:
        time.sleep(0.05)
    return not _known

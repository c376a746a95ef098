"""Imports (legacy ledgers and flow-back lists), the conflict queue and flow-back alerts.

An ``ImportBatch`` is one uploaded file processed once: previewed (a dry run, nothing written) or
applied (its writes share one ``change_batch``). The file itself is kept in ``import_file`` so that
a preview can be applied later and its rejected rows downloaded without uploading it again.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, LargeBinary
from sqlmodel import Field, SQLModel

from app.models.base import utcnow

IMPORT_KINDS = {
    "ledger": "台账导入",
    "deaths": "死亡名单",
    "moves": "户籍迁出名单",
    "disability": "残疾证名单",
    "pension": "养老金领取名单",
}
POLICIES = {"queue": "冲突进入待处理队列", "file": "以文件为准", "db": "以系统数据为准"}
IMPORT_STATUSES = {"previewed": "已预览（未写入）", "applying": "正在写入", "partial": "写入中断（可继续执行）", "applied": "已导入", "rejected": "文件被拒绝", "discarded": "已放弃"}


class ImportBatch(SQLModel, table=True):
    """One file brought in: who, when, which file (name + sha256), policy, outcome counts, status."""

    __tablename__ = "import_batch"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(default="ledger", max_length=12, sa_column_kwargs={"comment": "ledger | deaths | moves | disability | pension"})
    file_name: str = Field(max_length=255)
    sha256: str = Field(max_length=64, index=True)
    size_bytes: int = 0
    area_code: str | None = Field(default=None, foreign_key="area.code", max_length=15, index=True,
                                  sa_column_kwargs={"comment": "target village (ledger) or the importer's scope (flow-back)"})
    policy: str = Field(default="queue", max_length=5, sa_column_kwargs={"comment": "queue | file | db"})
    status: str = Field(default="previewed", max_length=10, sa_column_kwargs={"comment": "previewed | applying | partial | applied | rejected | discarded"})
    actor_id: int | None = Field(default=None, foreign_key="app_user.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    applied_at: datetime | None = None
    change_batch_id: int | None = Field(default=None, foreign_key="change_batch.id", index=True)
    counts: dict[str, Any] = Field(default_factory=dict, sa_type=JSON, sa_column_kwargs={"comment": "outcome -> rows"})
    summary: dict[str, Any] = Field(default_factory=dict, sa_type=JSON,
                                    sa_column_kwargs={"comment": "file issues and samples of each outcome"})


class ImportFile(SQLModel, table=True):
    """The uploaded bytes of one import (kept to apply a preview later and to build the rejects workbook)."""

    __tablename__ = "import_file"

    import_id: int = Field(foreign_key="import_batch.id", primary_key=True)
    content: bytes = Field(sa_type=LargeBinary)


class ImportConflict(SQLModel, table=True):
    """One field on which a file and the database disagree, waiting for a person to keep or take it."""

    __tablename__ = "import_conflict"
    __table_args__ = (Index("ix_import_conflict_subject", "entity", "entity_id", "field"),)

    id: int | None = Field(default=None, primary_key=True)
    import_id: int = Field(foreign_key="import_batch.id", index=True)
    entity: str = Field(max_length=20, sa_column_kwargs={"comment": "person | household"})
    entity_id: int
    record_key: str = Field(max_length=60, sa_column_kwargs={"comment": "ID number or household number"})
    label: str = Field(default="", max_length=100, sa_column_kwargs={"comment": "who it is about, for people"})
    area_code: str = Field(max_length=15, index=True)
    field: str = Field(max_length=40)
    db_value: Any = Field(default=None, sa_type=JSON, nullable=True)
    file_value: Any = Field(default=None, sa_type=JSON, nullable=True)
    sheet: str = Field(default="", max_length=100)
    row: int = 0
    status: str = Field(default="open", max_length=6, index=True, sa_column_kwargs={"comment": "open | kept | taken"})
    resolved_by: int | None = Field(default=None, foreign_key="app_user.id")
    resolved_at: datetime | None = None
    change_batch_id: int | None = Field(default=None, foreign_key="change_batch.id")


class FlowbackAlert(SQLModel, table=True):
    """A difference between a higher level's list and the base data that a cadre confirms or dismisses."""

    __tablename__ = "flowback_alert"

    id: int | None = Field(default=None, primary_key=True)
    import_id: int = Field(foreign_key="import_batch.id", index=True)
    kind: str = Field(max_length=30, sa_column_kwargs={"comment": "deceased | moved-out | certificate-expired | pension-deceased | mismatch"})
    person_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    area_code: str | None = Field(default=None, max_length=15, index=True)
    id_number: str = Field(max_length=18)
    name: str = Field(default="", max_length=50)
    message: str = Field(max_length=500)
    list_values: dict[str, Any] = Field(default_factory=dict, sa_type=JSON, sa_column_kwargs={"comment": "the list's row"})
    row: int = 0
    status: str = Field(default="open", max_length=10, index=True, sa_column_kwargs={"comment": "open | confirmed | dismissed"})
    resolved_by: int | None = Field(default=None, foreign_key="app_user.id")
    resolved_at: datetime | None = None
    reason: str = Field(default="", max_length=500)
    change_batch_id: int | None = Field(default=None, foreign_key="change_batch.id")


JOB_KINDS = {"preview": "上传并预览", "apply": "执行导入"}
JOB_STATES = {"queued": "排队中", "running": "处理中", "done": "已完成", "failed": "失败"}


class ImportJob(SQLModel, table=True):
    """A web import running in the background (issue 15 item 7): a preview of an upload, or the apply
    of a previewed import. Who started it, for which village, its state and progress, the message
    when it failed, and the import it produced or applied (``import_id``). ``runner`` names the
    process that runs it (host:pid): a job whose process is gone is marked failed, never left running."""

    __tablename__ = "import_job"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=8, sa_column_kwargs={"comment": "preview | apply"})
    actor_id: int = Field(foreign_key="app_user.id", index=True)
    area_code: str = Field(foreign_key="area.code", max_length=15, index=True)
    file_name: str = Field(max_length=255)
    size_bytes: int = 0
    policy: str = Field(default="queue", max_length=5, sa_column_kwargs={"comment": "queue | file | db"})
    state: str = Field(default="queued", max_length=8, index=True, sa_column_kwargs={"comment": "queued | running | done | failed"})
    phase: str = Field(default="", max_length=20, sa_column_kwargs={"comment": "what it is doing (Chinese), e.g. 读取文件"})
    done: int = 0
    total: int = 0
    message: str = Field(default="", max_length=1000, sa_column_kwargs={"comment": "why it failed, or the outcome, in Chinese"})
    import_id: int | None = Field(default=None, foreign_key="import_batch.id", index=True,
                                  sa_column_kwargs={"comment": "the import previewed or applied (the job's result)"})
    runner: str = Field(default="", max_length=80, sa_column_kwargs={"comment": "host:pid of the process running it"})
    created_at: datetime = Field(default_factory=utcnow, index=True)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    heartbeat_at: datetime | None = Field(default=None, sa_column_kwargs={
        "comment": "last sign of life of a running job (progress written); another host's silent job is failed after a while"})


class ImportJobFile(SQLModel, table=True):
    """The uploaded bytes of a preview job until it has run (then they live in ``import_file``)."""

    __tablename__ = "import_job_file"

    job_id: int = Field(foreign_key="import_job.id", primary_key=True)
    content: bytes = Field(sa_type=LargeBinary)

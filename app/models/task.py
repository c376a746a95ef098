"""Collection tasks (采集任务): an issuer asks villages to check and confirm pre-filled base data for one
report projection; each village's submission is reviewed by its township and kept as the confirmed part
of the issuer's report."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models.base import utcnow

# Village statuses, in the order of the flow, with the labels the pages show.
TASK_STATUSES = {
    "not_started": "未开始",
    "in_progress": "填报中",
    "submitted": "待审核",
    "confirmed": "已确认",
    "returned": "已退回",
}
TASK_ACTIONS = {
    "issued": "发布任务",
    "saved": "修改数据",
    "submitted": "村提交",
    "approved": "乡镇审核通过",
    "returned": "退回",
}


class CollectionTask(SQLModel, table=True):
    """One task: a projection (id@version), the reference date its data is confirmed for, a deadline."""

    __tablename__ = "collection_task"

    id: int | None = Field(default=None, primary_key=True)
    report_id: str = Field(max_length=60, index=True)
    report_version: int
    title: str = Field(max_length=200, sa_column_kwargs={"comment": "the projection's title when issued"})
    reference_date: date = Field(sa_column_kwargs={"comment": "the data is confirmed as of this date"})
    deadline: date
    note: str = Field(default="", max_length=500)
    area_code: str = Field(foreign_key="area.code", max_length=15,
                           sa_column_kwargs={"comment": "smallest area holding every village of the task (the report's area)"})
    issuer_id: int = Field(foreign_key="app_user.id", index=True)
    issuer_role: str = Field(max_length=20, sa_column_kwargs={"comment": "department | township_staff | admin"})
    issuer_department: str | None = Field(default=None, max_length=20)
    issuer_area: str = Field(max_length=15, sa_column_kwargs={"comment": "the issuer's scope area"})
    created_at: datetime = Field(default_factory=utcnow, index=True)


class TaskVillage(SQLModel, table=True):
    """One village's share of a task: its status and, once submitted, its stored part of the report."""

    __tablename__ = "collection_task_village"
    __table_args__ = (UniqueConstraint("task_id", "village_code"),)

    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="collection_task.id", index=True)
    village_code: str = Field(foreign_key="area.code", max_length=15, index=True)
    status: str = Field(default="not_started", max_length=12,
                        sa_column_kwargs={"comment": "not_started | in_progress | submitted | confirmed | returned"})
    updated_at: datetime = Field(default_factory=utcnow)
    submitted_at: datetime | None = None
    confirmed_at: datetime | None = None
    part: dict[str, Any] | None = Field(default=None, sa_type=JSON,
                                        sa_column_kwargs={"comment": "the village's report part as submitted"})
    part_data_version: int | None = Field(default=None, sa_column_kwargs={"comment": "data version the part was computed from"})


class TaskEvent(SQLModel, table=True):
    """Every transition and save of a task: who, when, what, with the comment given."""

    __tablename__ = "collection_task_event"

    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="collection_task.id", index=True)
    village_code: str | None = Field(default=None, max_length=15)
    action: str = Field(max_length=12, sa_column_kwargs={"comment": "issued | saved | submitted | approved | returned"})
    from_status: str | None = Field(default=None, max_length=12)
    to_status: str | None = Field(default=None, max_length=12)
    actor_id: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = Field(default_factory=utcnow)
    comment: str = Field(default="", max_length=1000)

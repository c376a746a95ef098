"""The record of every change: batches (who, when, source) and per-record entries (old → new)."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Index
from sqlmodel import Field, SQLModel

from app.models.base import utcnow

SOURCES = {"web": "网页录入", "excel": "Excel 一表", "import": "导入批次", "flowback": "数据回流", "api": "接口", "seed": "初始化数据", "task": "采集任务", "cli": "命令行", "system": "系统"}


class ChangeBatch(SQLModel, table=True):
    """One recorded act of change: a web save, an import batch, a seed run."""

    __tablename__ = "change_batch"

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=10, sa_column_kwargs={"comment": "web | excel | import | flowback | api | seed | task | cli | system"})
    actor_id: int | None = Field(default=None, foreign_key="app_user.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    note: str = Field(default="", max_length=500)
    file_name: str | None = Field(default=None, max_length=255)
    import_id: int | None = Field(default=None, index=True,
                                  sa_column_kwargs={"comment": "the import (import_batch.id) this batch is a chunk of"})


class ChangeLog(SQLModel, table=True):
    """One create / update / end of one record, with the old and new value of each changed field."""

    __tablename__ = "change_log"
    __table_args__ = (Index("ix_change_log_entity", "entity", "entity_id"),)

    id: int | None = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="change_batch.id", index=True)
    entity: str = Field(max_length=20, sa_column_kwargs={"comment": "person | household | house | organisation | tag | observation | area"})
    entity_id: str = Field(max_length=20)
    action: str = Field(max_length=10, sa_column_kwargs={"comment": "create | update | end"})
    effective_date: date | None = None
    changes: dict[str, Any] = Field(default_factory=dict, sa_type=JSON, sa_column_kwargs={"comment": "{field: [old, new]}"})

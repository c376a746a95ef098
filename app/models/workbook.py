"""The village workbook round trip ("一表"): downloads handed out and uploads awaiting confirmation."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, LargeBinary
from sqlmodel import Field, SQLModel

from app.models.base import utcnow

UPLOAD_STATUSES = {"pending": "待确认", "applied": "已写入", "discarded": "已放弃"}


class WorkbookDownload(SQLModel, table=True):
    """One workbook handed to a cadre: when, by whom, at which data version, and which records it held.

    The record ids let an upload tell a row the cadre deleted ("表中缺少") from a record created on
    the server after the download; the data version lets it find what the server changed since.
    """

    __tablename__ = "workbook_download"

    id: int | None = Field(default=None, primary_key=True)
    actor_id: int = Field(foreign_key="app_user.id", index=True)
    village_code: str = Field(foreign_key="area.code", max_length=15, index=True)
    downloaded_at: datetime = Field(default_factory=utcnow)
    data_version: int = Field(sa_column_kwargs={"comment": "newest change_batch id when the workbook was made"})
    record_ids: dict[str, Any] = Field(default_factory=dict, sa_type=JSON,
                                       sa_column_kwargs={"comment": "{person|household|tag: [ids in the workbook]}"})


class WorkbookUpload(SQLModel, table=True):
    """An uploaded workbook: kept (file bytes) until the cadre applies or discards it.

    The preview is computed from the stored file against the current database each time it is shown,
    and once more when it is applied; an applied or discarded upload cannot be applied again.
    """

    __tablename__ = "workbook_upload"

    id: int | None = Field(default=None, primary_key=True)
    actor_id: int = Field(foreign_key="app_user.id", index=True)
    village_code: str = Field(foreign_key="area.code", max_length=15, index=True)
    download_id: int = Field(foreign_key="workbook_download.id", index=True)
    file_name: str = Field(max_length=255)
    sha256: str = Field(max_length=64)
    size_bytes: int
    uploaded_at: datetime = Field(default_factory=utcnow)
    status: str = Field(default="pending", max_length=10, sa_column_kwargs={"comment": "pending | applied | discarded"})
    decided_at: datetime | None = None
    batch_id: int | None = Field(default=None, foreign_key="change_batch.id",
                                 sa_column_kwargs={"comment": "the change batch the apply wrote"})
    content: bytes = Field(sa_type=LargeBinary, sa_column_kwargs={"comment": "the uploaded xlsx file"})

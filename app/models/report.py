"""Report projections published in the browser, and the log of every report download."""

from datetime import date, datetime

from sqlalchemy import Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models.base import utcnow


class ReportDefinition(SQLModel, table=True):
    """One published version of a projection (YAML text). Versions are never changed or deleted."""

    __tablename__ = "report_definition"
    __table_args__ = (UniqueConstraint("report_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    report_id: str = Field(max_length=60, index=True)
    version: int
    source: str = Field(sa_type=Text, sa_column_kwargs={"comment": "the projection file as published"})
    published_by: int | None = Field(default=None, foreign_key="app_user.id")
    published_at: datetime = Field(default_factory=utcnow)
    note: str = Field(default="", max_length=500)
    indicator_versions: str = Field(default="{}", sa_type=Text,
                                    sa_column_kwargs={"comment": "JSON: indicator code → version pinned at publishing"})


class ReportDownload(SQLModel, table=True):
    """Who generated which report, for which area and date, when (privacy audit)."""

    __tablename__ = "report_download"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int | None = Field(default=None, foreign_key="app_user.id", index=True)
    report_ref: str = Field(max_length=80, sa_column_kwargs={"comment": "report id@version"})
    area_code: str = Field(max_length=15)
    reference_date: date
    period: str | None = Field(default=None, max_length=30)
    format: str = Field(max_length=10)
    rows: int = 0
    data_version: int = 0
    created_at: datetime = Field(default_factory=utcnow, index=True)


class IndicatorDefinition(SQLModel, table=True):
    """One published version of an indicator (口径), as the YAML mapping of one indicator.

    The shipped files (forms_registry/indicators) are the baseline; a version published in the
    browser or by ``ybt indicator publish`` is stored here. The text of a version never changes;
    ``retired_at`` marks a code withdrawn from new reports (it stays runnable for the old ones).
    """

    __tablename__ = "indicator_definition"
    __table_args__ = (UniqueConstraint("code", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=60, index=True)
    version: int
    source: str = Field(sa_type=Text, sa_column_kwargs={"comment": "the indicator mapping as published (YAML)"})
    published_by: int | None = Field(default=None, foreign_key="app_user.id")
    published_at: datetime = Field(default_factory=utcnow)
    note: str = Field(default="", max_length=500)
    retired_at: datetime | None = Field(default=None, sa_column_kwargs={"comment": "withdrawn from new reports"})
    retired_by: int | None = Field(default=None, foreign_key="app_user.id")

"""Organisations: enterprises, units and village collectives (current + history tables)."""

from sqlalchemy import UniqueConstraint
from sqlmodel import Field

from app.models.base import Current, HistoryColumns, Versioned, col


class OrganisationFields(Versioned):
    uscc: str | None = Field(default=None, max_length=18, sa_column_kwargs=col("统一社会信用代码", help="18位，GB 32100"))
    name: str = Field(max_length=200, sa_column_kwargs=col("单位名称"))
    kind: str = Field(max_length=2, sa_column_kwargs=col("单位类型", code_list="org_kind"))
    industry: str | None = Field(default=None, max_length=1, sa_column_kwargs=col("行业门类", code_list="industry"))
    area_code: str = Field(foreign_key="area.code", max_length=15, index=True, sa_column_kwargs=col("所在区划"))
    employees: int | None = Field(default=None, sa_column_kwargs=col("从业人员数", unit="人"))
    status: str = Field(default="1", max_length=1, sa_column_kwargs=col("状态", code_list="record_status"))


class Organisation(OrganisationFields, Current, table=True):
    __tablename__ = "organisation"
    __table_args__ = (UniqueConstraint("uscc"),)

    id: int | None = Field(default=None, primary_key=True)


class OrganisationHistory(OrganisationFields, HistoryColumns, table=True):
    __tablename__ = "organisation_history"

    id: int = Field(foreign_key="organisation.id", index=True)

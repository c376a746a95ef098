"""Periodic observations (台账 values): one value per subject, item and period."""

from datetime import date

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel


class ObservationItem(SQLModel, table=True):
    """What is observed periodically, e.g. 耕地面积 (亩, yearly, per village)."""

    __tablename__ = "observation_item"

    code: str = Field(primary_key=True, max_length=40)
    name: str = Field(max_length=100)
    unit: str = Field(max_length=20)
    period_type: str = Field(max_length=1, sa_column_kwargs={"comment": "code list period_type: M Q H Y"})
    subject: str = Field(default="area", max_length=20, sa_column_kwargs={"comment": "area | organisation | household"})
    department: str = Field(max_length=20)
    description: str = Field(default="", max_length=500)


class Observation(SQLModel, table=True):
    __tablename__ = "observation"
    __table_args__ = (UniqueConstraint("item_code", "subject_type", "subject_id", "period"),)

    id: int | None = Field(default=None, primary_key=True)
    item_code: str = Field(foreign_key="observation_item.code", max_length=40, index=True)
    subject_type: str = Field(max_length=20, sa_column_kwargs={"comment": "area | organisation | household"})
    subject_id: str = Field(max_length=20, sa_column_kwargs={"comment": "area code or entity id"})
    area_code: str = Field(foreign_key="area.code", max_length=15, index=True)
    period: str = Field(max_length=10, sa_column_kwargs={"comment": "2025 | 2025H1 | 2025Q2 | 2025-06"})
    period_start: date
    period_end: date = Field(index=True, sa_column_kwargs={"comment": "last day of the period"})
    value: float
    unit: str = Field(max_length=20)
    batch_id: int = Field(foreign_key="change_batch.id", index=True)
    row_version: int = 1

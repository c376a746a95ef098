"""Tags (标签) on persons and households, from a dictionary of tag types owned by departments."""

from datetime import date
from typing import Any

from sqlalchemy import JSON, CheckConstraint
from sqlmodel import Field, SQLModel


class TagType(SQLModel, table=True):
    """A kind of tag, e.g. 低保 (household, 民政) or 持证残疾 (person, 残联), with its attribute schema."""

    __tablename__ = "tag_type"

    code: str = Field(primary_key=True, max_length=40)
    name: str = Field(max_length=100)
    subject: str = Field(max_length=10, sa_column_kwargs={"comment": "person | household"})
    department: str = Field(max_length=20, sa_column_kwargs={"comment": "code list department"})
    attributes: list[dict[str, Any]] = Field(
        default_factory=list,
        sa_type=JSON,
        sa_column_kwargs={"comment": "[{name, label, type: code|number|text|date, code_list?, required?, unit?}]"},
    )
    description: str = Field(default="", max_length=500)
    sort_order: int = 0


class Tag(SQLModel, table=True):
    """One tag held by one person or household over ``[valid_from, valid_to)``.

    A change of attributes ends the tag and starts a new one, so each row is one fact over one
    interval. A tag entered by mistake is ended on its own start date (an empty interval).
    """

    __tablename__ = "tag"
    __table_args__ = (
        CheckConstraint("(person_id IS NULL) <> (household_id IS NULL)", name="one_subject"),
        CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="interval"),
    )

    id: int | None = Field(default=None, primary_key=True)
    tag_code: str = Field(foreign_key="tag_type.code", max_length=40, index=True)
    person_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    household_id: int | None = Field(default=None, foreign_key="household.id", index=True)
    valid_from: date
    valid_to: date | None = Field(default=None, sa_column_kwargs={"comment": "exclusive; NULL = still valid"})
    attrs: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    pending_attrs: list[str] | None = Field(
        default=None, sa_type=JSON,
        sa_column_kwargs={"comment": "required attributes still to be supplied (待补充), e.g. from a ledger without the column"})
    evidence: str | None = Field(default=None, max_length=500, sa_column_kwargs={"comment": "证明材料 / 依据"})
    batch_id: int = Field(foreign_key="change_batch.id", index=True)
    row_version: int = 1

"""Code lists (GB/T 2261.1, 3304, 4761, …) kept as data, seeded by migration."""

from sqlmodel import Field, SQLModel

import app.models.base  # noqa: F401  (naming convention must be set before any table)


class CodeList(SQLModel, table=True):
    __tablename__ = "code_list"

    name: str = Field(primary_key=True, max_length=40)
    title: str = Field(max_length=100)
    standard: str = Field(default="", max_length=100)


class CodeItem(SQLModel, table=True):
    __tablename__ = "code_item"

    list_name: str = Field(primary_key=True, foreign_key="code_list.name", max_length=40)
    code: str = Field(primary_key=True, max_length=10)
    label: str = Field(max_length=100)
    parent_code: str | None = Field(default=None, max_length=10)
    sort_order: int = 0

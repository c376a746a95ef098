"""Shared model pieces: the constraint naming convention and the versioning columns."""

from datetime import UTC, date, datetime

from sqlmodel import Field, SQLModel

# Explicit constraint names so migrations are stable across SQLite and PostgreSQL.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = SQLModel.metadata


def utcnow() -> datetime:
    """The current time in UTC, timezone-aware (SQLModel stores it as UTC on both databases)."""
    return datetime.now(UTC)


class Versioned(SQLModel):
    """Columns of every effective-dated base record version.

    A base entity (person, household, house, organisation) lives in two tables: the *current* table
    holds one row per entity (its state from ``valid_from`` on), and the ``*_history`` table holds
    every earlier state with its ``valid_to``. The state on a date D is the one version with
    ``valid_from <= D < valid_to`` (current rows have no end). ``batch_id`` says which recorded change
    (who, when, source) produced the version.
    """

    valid_from: date = Field(index=True, sa_column_kwargs={"info": {"label": "生效日期"}, "comment": "state effective from (inclusive)"})
    batch_id: int = Field(foreign_key="change_batch.id", index=True)


class Current(SQLModel):
    """Columns of a current-state row: a lock counter for optimistic concurrency."""

    row_version: int = Field(default=1, sa_column_kwargs={"comment": "optimistic lock counter"})


class HistoryColumns(SQLModel):
    """Columns that a history row adds: its own key and the end of its validity."""

    hid: int | None = Field(default=None, primary_key=True)
    valid_to: date = Field(index=True, sa_column_kwargs={"info": {"label": "失效日期"}, "comment": "state effective until (exclusive)"})


def col(label: str, *, code_list: str | None = None, unit: str | None = None, help: str | None = None) -> dict:
    """Column metadata kept with the column: the Chinese label, code list, unit and help text.

    Validation, entry forms, Excel templates and export docs read it from ``Column.info``, so a
    field is described once, here.
    """
    info = {"label": label, "code_list": code_list, "unit": unit, "help": help}
    comment = label + (f" [{code_list}]" if code_list else "") + (f" ({unit})" if unit else "")
    return {"info": {k: v for k, v in info.items() if v is not None}, "comment": comment}

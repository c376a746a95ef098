"""The demo county's change log: the ``create`` entries of the loaded tables, derived by the database
from the loaded rows (``CreateLog``), and the frames of the other entries, written in order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import polars as pl
from sqlalchemy import Date, bindparam, text

from app import bulk

CREATE_CHANGES = '{"seed": [null, true]}'


@dataclass(frozen=True)
class CreateLog:
    """The ``create`` change-log entries of every row of a loaded table, written by the database
    itself (``INSERT … SELECT``): 4 million of them for a million persons, so they never pass through
    Python. The effective date is ``column`` of the row, or the fixed ``start`` (with ``from_birth``:
    the later of ``start`` and the row's birth date, i.e. a person's first ``valid_from``)."""

    entity: str
    table: str
    batch_id: int
    start: date | None = None
    from_birth: bool = False
    column: str | None = None

    def effective(self, row: dict[str, Any]) -> date:
        """The same effective date in Python (for callers that write the entries themselves)."""
        if self.column:
            return row[self.column]
        assert self.start is not None
        return max(row["birth_date"], self.start) if self.from_birth else self.start

    def insert(self, conn: Any) -> int:
        if self.column:
            effective, params = f'"{self.column}"', {}
        else:
            greatest = "MAX" if conn.dialect.name == "sqlite" else "GREATEST"
            effective = f"{greatest}(birth_date, :start)" if self.from_birth else ":start"
            params = {"start": self.start}
        stmt = text(
            "INSERT INTO change_log (batch_id, entity, entity_id, action, effective_date, changes) "
            f"SELECT :batch, '{self.entity}', CAST(id AS VARCHAR(20)), 'create', {effective}, '{CREATE_CHANGES}' "
            f'FROM "{self.table}" ORDER BY id'
        ).bindparams(*([bindparam("start", type_=Date)] if params else []))
        return conn.execute(stmt, {"batch": self.batch_id, **params}).rowcount


def write_change_log(conn: Any, parts: list[CreateLog | pl.DataFrame]) -> int:
    """The change log, in order: derived creates and row frames."""
    n = 0
    for part in parts:
        n += part.insert(conn) if isinstance(part, CreateLog) else bulk.bulk_insert(conn, "change_log", part)
    return n


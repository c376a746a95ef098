"""What happened to each record of an import: outcomes, per-row status and counts, plain-data samples.

Shared by the apply layer, the bulk writer, the import service and the pages; no database access.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Any

from app.issues import Issue
from app.models import Household, Organisation, Person
from importers.model import Record

POLICIES = ("queue", "file", "db")
OUTCOMES = ("new", "changed", "unchanged", "conflict", "rejected")
ROW_OUTCOMES = ("applied", "unchanged", "conflict", "rejected")
ENTITY_LABELS = {"person": "人员", "household": "户", "tag": "标签", "organisation": "单位"}
MODELS = {"person": Person, "household": Household, "organisation": Organisation}


_NO_ENTRIES: Any = MappingProxyType({})  # shared by settled outcomes: read-only, so nobody fills it for all


@dataclass(slots=True)
class Outcome:
    """What happened (or would happen) to one record. Slots, and ``settle`` once decided: a 50 MB ledger
    holds half a million of them (bench/bench_import_memory.py)."""

    record: Record
    status: str = "unchanged"
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # applied: field -> (old, new)
    conflicts: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # queued or ignored: (db, file)
    issues: list[Issue] = field(default_factory=list)
    entity_id: int | None = None
    note: str = ""

    def settle(self) -> Outcome:
        """Once the record is decided: its empty containers become shared read-only empties."""
        if not self.changes:
            self.changes = _NO_ENTRIES
        if not self.conflicts:
            self.conflicts = _NO_ENTRIES
        if not self.issues:
            self.issues = ()  # type: ignore[assignment]
        return self

    def reject(self, issue: Issue) -> Outcome:
        self.status = "rejected"
        src = self.record.source
        self.issues.append(issue.at(sheet=src.sheet, row=src.row) if "row" not in issue.location else issue)
        return self


@dataclass
class ApplyResult:
    outcomes: list[Outcome]
    file_issues: list[Issue]
    rows_read: int
    change_batch_id: int | None = None  # the first of the import's change batches (one per chunk)
    change_batch_ids: list[int] = field(default_factory=list)

    def row_status(self) -> dict[tuple[str, int], str]:
        """Every input row's outcome, as what was written says (issue 15): applied if any of its records
        was written, then conflict, then rejected, unchanged. A row that wrote something and had another
        record refused (a person written, its tag refused) counts as applied and in ``partly_rejected``."""
        rank = {"applied": 3, "conflict": 2, "rejected": 1, "unchanged": 0}
        rows: dict[tuple[str, int], str] = {}
        for o in self.outcomes:
            key = (o.record.source.sheet, o.record.source.row)
            status = {"new": "applied", "changed": "applied"}.get(o.status, o.status)
            if key not in rows or rank[status] > rank[rows[key]]:
                rows[key] = status
        return rows

    def partly_rejected_rows(self, rows: dict[tuple[str, int], str] | None = None) -> set[tuple[str, int]]:
        """Rows not counted as rejected that still had a record refused."""
        rows = rows if rows is not None else self.row_status()
        return {(o.record.source.sheet, o.record.source.row) for o in self.outcomes
                if o.status == "rejected" and rows[(o.record.source.sheet, o.record.source.row)] != "rejected"}

    def counts(self) -> dict[str, Any]:
        rows = self.row_status()
        out: dict[str, Any] = {"rows": len(rows), **{k: 0 for k in ROW_OUTCOMES}}
        for status in rows.values():
            out[status] += 1
        out["partly_rejected"] = len(self.partly_rejected_rows(rows))
        records: dict[str, dict[str, int]] = {}
        for o in self.outcomes:
            per = records.setdefault(o.record.entity, {k: 0 for k in OUTCOMES})
            per[o.status] += 1
        out["records"] = records
        out["conflict_fields"] = sum(len(o.conflicts) for o in self.outcomes if o.status == "conflict")
        return out

    def samples(self, per_kind: int = 20) -> dict[str, list[dict[str, Any]]]:
        """A few outcomes of each kind, as plain data for the preview page and the CLI."""
        out: dict[str, list[dict[str, Any]]] = {k: [] for k in OUTCOMES}
        out["warned"] = []  # written with a field dropped or an attribute 待补充 (issue 15)
        for o in self.outcomes:
            bucket = out[o.status]
            if len(bucket) < per_kind and (o.status != "unchanged" or len(bucket) < 5):
                bucket.append(describe(o))
            if o.status != "rejected" and len(out["warned"]) < per_kind and any(
                    i.severity == "warning" for i in o.record.issues):
                out["warned"].append(describe(o, warnings=True))
        return out


def describe(o: Outcome, *, warnings: bool = False) -> dict[str, Any]:
    """One outcome as plain data; ``warnings``: its record's warnings as the issues."""
    r = o.record
    shown = [i for i in r.issues if i.severity == "warning"] if warnings else o.issues
    return {
        "entity": r.entity, "entity_label": ENTITY_LABELS[r.entity], "key": r.key,
        "name": r.values.get("name") or r.values.get("number") or r.values.get("code") or "",
        "sheet": r.source.sheet, "row": r.source.row,
        "changes": {f: [plain_value(a), plain_value(b)] for f, (a, b) in o.changes.items()} if o.status != "new" or r.entity == "tag"
        else {f: [None, plain_value(v)] for f, v in r.values.items() if not is_blank(v) and f not in ("id_number", "number")},
        "conflicts": {f: [plain_value(a), plain_value(b)] for f, (a, b) in o.conflicts.items()},
        "issues": [{"code": i.code, "where": i.where, "message": i.message, "column": i.location.get("column"),
                    "field": i.location.get("field")} for i in shown],
        "note": o.note,
    }


def plain_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def from_plain(model: type | None, name: str, value: Any) -> Any:
    """A JSON-stored value back to the column's Python type (dates)."""
    if (model is not None and isinstance(value, str) and name in model.__table__.c
            and model.__table__.c[name].type.python_type is date):
        return date.fromisoformat(value)
    return value


def is_blank(value: Any) -> bool:
    return value is None or value == "" or (value.__class__ is str and value.isspace())


def value_for(entity: str, name: str, value: Any) -> Any:
    """A conflict's stored (JSON) value as the column's Python value."""
    return from_plain(MODELS.get(entity), name, value)

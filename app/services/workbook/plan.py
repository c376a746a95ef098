"""What an upload would do: the preview's rows (new, changed, ended, invalid, conflicts, missing)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from app.issues import Issue

ENTITY_LABELS = {"person": "人员", "household": "户", "tag": "标签", "house": "房屋"}
KIND_LABELS = {"new": "新增", "changed": "修改", "ended": "注销或结束", "invalid": "有误", "conflict": "冲突",
               "missing": "表中缺少"}


@dataclass
class CellChange:
    key: str
    label: str
    old: Any  # display text (code labels, ISO dates)
    new: Any
    column: str | None = None  # Excel column letter


@dataclass
class RowPlan:
    """One row of the upload and what applying it would do."""

    entity: str
    kind: str
    sheet: str
    row: int | None
    record_id: int | None
    title: str
    values: dict[str, Any] = field(default_factory=dict)  # normalised values to write (codes, dates)
    changes: list[CellChange] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    expected_version: int | None = None
    server_changes: list[CellChange] = field(default_factory=list)  # conflicts: changed on the server since download
    server_note: str = ""  # conflicts: who changed it on the server, when
    warnings: list[Issue] = field(default_factory=list)  # unusual but possible: shown, written on confirmation
    intended: str = ""  # the kind the row would have without its errors

    @property
    def key(self) -> str:
        return f"{self.entity}:{self.record_id}" if self.record_id is not None else f"{self.entity}@{self.row}"

    def fingerprint(self) -> list[Any]:
        return [self.entity, self.kind, self.record_id, self.expected_version,
                sorted((k, _plain(v)) for k, v in self.values.items())]


@dataclass
class Preview:
    """The whole preview of one upload against the current database."""

    upload_id: int
    village_code: str
    village_name: str
    file_name: str
    downloaded_at: str
    data_version: int
    rows: list[RowPlan]
    unchanged: dict[str, int]
    file_issues: list[Issue]
    warnings: list[Issue] = field(default_factory=list)

    def of(self, kind: str, entity: str | None = None) -> list[RowPlan]:
        return [r for r in self.rows if r.kind == kind and (entity is None or r.entity == entity)]

    @property
    def counts(self) -> dict[str, int]:
        return {kind: len(self.of(kind)) for kind in KIND_LABELS}

    @property
    def blocked(self) -> bool:
        """Invalid rows or file problems: nothing may be applied until the file is corrected."""
        return bool(self.file_issues or self.of("invalid"))

    @property
    def writes(self) -> int:
        return sum(len(self.of(k)) for k in ("new", "changed", "ended"))

    @property
    def digest(self) -> str:
        """A fingerprint of what would be written; the apply refuses if it differs from the one previewed."""
        data = [r.fingerprint() for r in self.rows if r.kind in ("new", "changed", "ended", "conflict")]
        return hashlib.sha256(json.dumps(data, ensure_ascii=False, default=str).encode()).hexdigest()[:32]


def _plain(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return sorted((k, _plain(v)) for k, v in value.items())
    return value

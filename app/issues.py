"""One error shape for the whole platform: entry forms, imports, registry files, API.

An ``Issue`` has a stable English kebab-case ``code`` (for programs and tests), a ``location``
(where the problem is, in the terms the user sees: file, sheet, 1-based row, column letter,
field, property path) and a Chinese ``message`` for people, optionally with a ``hint``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Severity = Literal["error", "warning"]

_LOCATION_LABELS: tuple[tuple[str, str], ...] = (
    ("file", "文件 {}"),
    ("sheet", "工作表 {}"),
    ("row", "第{}行"),
    ("column", "{}列"),
    ("field", "字段 {}"),
    ("path", "位置 {}"),
    ("record", "记录 {}"),
)


@dataclass(frozen=True)
class Issue:
    code: str
    message: str
    location: dict[str, Any] = field(default_factory=dict)
    severity: Severity = "error"
    hint: str | None = None

    @property
    def where(self) -> str:
        """The location rendered for people, e.g. ``工作表 人员 第12行 C列``."""
        parts = [fmt.format(self.location[key]) for key, fmt in _LOCATION_LABELS if self.location.get(key) not in (None, "")]
        return " ".join(parts)

    def __str__(self) -> str:
        text = f"{self.where}：{self.message}" if self.where else self.message
        return f"{text}（{self.hint}）" if self.hint else text

    def at(self, **location: Any) -> Issue:
        """The same issue with more location keys (e.g. a row number added by an importer)."""
        return Issue(self.code, self.message, {**self.location, **location}, self.severity, self.hint)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "where": self.where}


class IssueError(Exception):
    """Raised by services when an operation is refused; carries one or more issues."""

    status = 400

    def __init__(self, issues: Issue | list[Issue]):
        self.issues = [issues] if isinstance(issues, Issue) else list(issues)
        super().__init__("; ".join(str(i) for i in self.issues))

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "error"]


class ValidationFailed(IssueError):
    status = 422


class PermissionDenied(IssueError):
    status = 403


class NotFound(IssueError):
    status = 404


class Conflict(IssueError):
    """Optimistic-lock failure: somebody else saved the record first."""

    status = 409

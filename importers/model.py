"""What the import pipeline hands to the apply layer: proposed canonical records, each traced to its
source cell, with the issues found while reading and normalising it.

The pipeline (importers.pipeline.parse_file) never touches the database's base data; the apply layer
(services.ledger_import.apply) compares these records with the database, decides per record (new / changed /
unchanged / conflict / rejected) and writes them through app.services with history.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from app.issues import Issue

Entity = Literal["person", "household", "tag", "organisation"]


_LABELS: dict[tuple[str, ...], tuple[str, ...]] = {}  # one tuple of header texts per sheet, shared by its rows
_KEYS: dict[tuple[str, ...], dict[str, int]] = {}  # field names -> their places, shared by records of one shape


class Values(Mapping[str, Any]):
    """A record's values once read: read-only and compact (a tuple beside a field-name index shared by every
    record with the same fields). A dict of a person's dozen fields was ~650 bytes; half a million of them
    were a quarter of what the server held while applying a 50 MB ledger (bench/bench_import_memory.py).
    The reader builds plain dicts; ``compact`` turns them into this as a batch of records arrives."""

    __slots__ = ("_index", "_vals")

    def __init__(self, values: Mapping[str, Any]):
        keys = tuple(values)
        index = _KEYS.get(keys)
        if index is None:
            index = _KEYS.setdefault(keys, {k: i for i, k in enumerate(keys)})
        self._index = index
        self._vals = tuple(values.values())

    def __getitem__(self, key: str) -> Any:
        return self._vals[self._index[key]]

    def get(self, key: str, default: Any = None) -> Any:
        i = self._index.get(key)
        return default if i is None else self._vals[i]

    def __contains__(self, key: object) -> bool:
        return key in self._index

    def __iter__(self) -> Iterator[str]:
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._vals)

    def __repr__(self) -> str:
        return repr(dict(zip(self._index, self._vals, strict=True)))

    def __reduce__(self) -> tuple[Any, ...]:
        return (Values, (dict(zip(self._index, self._vals, strict=True)),))


def compact(records: list[Record]) -> list[Record]:
    """Each record's values as ``Values`` (in place); returns ``records``."""
    for r in records:
        if not isinstance(r.values, Values):
            r.values = Values(r.values)  # type: ignore[assignment]
    return records


class SourceRow:
    """One input row as it was read: where it is and what its cells held.

    ``raw`` (header text as found, merged header levels joined by "/" -> cell value as read) is kept as
    a tuple of values beside the sheet's shared tuple of header texts and built as a dict on request:
    a dict per row was the largest single cost of holding a large file's rows (bench_import_memory)."""

    __slots__ = ("sheet", "row", "_labels", "_values", "columns")

    def __init__(self, sheet: str, row: int, raw: dict[str, Any], columns: dict[str, str] | None = None):
        self.sheet = sheet
        self.row = row  # 1-based row number as the user sees it in Excel (or the CSV line number)
        labels = tuple(raw)
        self._labels = _LABELS.setdefault(labels, labels)
        self._values = tuple(raw.values())
        self.columns = {} if columns is None else columns  # canonical field -> column letter ("C"); shared: do not mutate

    @property
    def raw(self) -> dict[str, Any]:
        """The cells as read ({} once ``shed``)."""
        if self._values is None:
            return {}
        return dict(zip(self._labels, self._values, strict=True))

    def shed(self) -> None:
        """Let the cells go: an import whose records of this row were all written keeps only where the row
        was (the cells serve the rejects workbook, which lists refused rows only)."""
        self._values = None

    def __getstate__(self) -> tuple[Any, ...]:
        return (self.sheet, self.row, self._labels, self._values, self.columns)

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        self.sheet, self.row, labels, self._values, self.columns = state
        self._labels = _LABELS.setdefault(labels, labels)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SourceRow) and (self.sheet, self.row, self.raw, self.columns) == (
            other.sheet, other.row, other.raw, other.columns)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"SourceRow({self.sheet!r}, {self.row}, {self.raw!r})"


@dataclass(slots=True)
class Record:
    """One canonical record proposed by one input row (a row may propose a person and a household and tags).

    ``key`` is the natural key the apply layer matches on:
      person        -> 18-digit ID number
      household     -> household number (户号) as in the file
      organisation  -> unified social credit code
      tag           -> "<tag code>:<subject key>" (subject key = the person's ID or the household number)
    ``values`` uses canonical field names (app.models columns; for tags: code, valid_from, valid_to,
    attrs dict; persons may carry ``household_number`` to link them to a household of the same file).
    Values are normalised: codes from the code lists, ``datetime.date`` for dates, stripped strings.
    ``issues`` are per-cell, located with {"sheet", "row", "column", "field"}; any issue of severity
    "error" means the record is rejected.
    """

    entity: Entity
    key: str
    values: dict[str, Any]
    source: SourceRow
    issues: list[Issue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(i.severity == "error" for i in self.issues)


@dataclass
class ParsedFile:
    """Everything read from one file. ``issues`` are file-level (no header found, unknown encoding …)."""

    file_name: str
    sha256: str
    records: list[Record] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    rows_read: int = 0  # data rows seen (header, title, spacer and total rows excluded)
    sheets: list[str] = field(default_factory=list)
    mapping: dict[str, dict[str, str]] = field(default_factory=dict)  # sheet -> {header text: canonical field}
    skipped: dict[str, int] = field(default_factory=dict)  # rows not read as data: blank, total, note, header

    @property
    def ok(self) -> bool:
        return not any(i.severity == "error" for i in self.issues)

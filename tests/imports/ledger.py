"""Hand-made pipeline output: what importers.pipeline.parse_file hands the apply layer."""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Any

from app.issues import Issue
from app.validators.idcard import make_id_number
from importers.model import ParsedFile, Record, SourceRow

COLUMNS = {"name": "B", "id_number": "C", "sex": "D", "birth_date": "E", "relation": "F", "phone": "G",
           "household_number": "A", "number": "A", "address": "H"}


def pid(birth: date, seq: int) -> str:
    return make_id_number("339901", birth, seq)


def person(row: int, id_number: str, name: str, household: str | None = None, sheet: str = "花名册",
           issues: list[Issue] | None = None, **values: Any) -> Record:
    vals = {"id_number": id_number, "name": name, **values}
    if household:
        vals["household_number"] = household
    src = SourceRow(sheet, row, {"姓名": name, "身份证号": id_number}, {k: COLUMNS[k] for k in vals if k in COLUMNS})
    return Record("person", id_number, vals, src, list(issues or []))


def household(row: int, number: str, sheet: str = "花名册", **values: Any) -> Record:
    vals = {"number": number, **values}
    return Record("household", number, vals, SourceRow(sheet, row, {"户号": number}, {"number": "A", "address": "H"}))


def tag(row: int, code: str, subject: str, sheet: str = "花名册", **values: Any) -> Record:
    return Record("tag", f"{code}:{subject}", {"code": code, **values}, SourceRow(sheet, row, {}, {}))


def parsed(records: list[Record], name: str = "台账.xlsx", issues: list[Issue] | None = None) -> ParsedFile:
    rows = {(r.source.sheet, r.source.row) for r in records}
    digest = hashlib.sha256(repr([(r.entity, r.key, sorted(r.values.items(), key=str)) for r in records]).encode()).hexdigest()
    return ParsedFile(name, digest, records, list(issues or []), rows_read=len(rows), sheets=sorted({s for s, _ in rows}))

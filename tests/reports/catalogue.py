"""Helpers for the catalogue tests: run a shipped projection on the hand-made county and read its
rows back as plain tuples. Expected numbers are written out by hand in the tests, never computed."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Flask
from hand_data import PEOPLE, REF
from sqlmodel import Session

from app.db import get_db
from app.reporting.table import Report
from app.services.reports import RunRequest, build_report, registry_for
from app.validators.idcard import make_id_number


def run(app: Flask, session: Session, report_id: str, on: date | None = REF, period: str | None = None,
        area: str | None = None) -> Report:
    return build_report(get_db(app), session, registry_for(app, session), None,
                        RunRequest(report_id, area_code=area, on=None if period else on, period=period))


def table(report: Report, sheet: int = 0) -> list[tuple[Any, ...]]:
    """Every body row as a tuple of its cell values, in column order."""
    s = report.sheets[sheet]
    keys = [c.key for c in s.columns]
    return [tuple(row.values.get(k) for k in keys) for row in s.rows]


def summary(report: Report) -> dict[str, list[Any]]:
    """Area summary rows: name → indicator values (the 单位名称 and 区划代码 columns left out)."""
    s = report.sheets[0]
    keys = [c.key for c in s.columns if c.key not in ("name", "code")]
    return {row.values["name"]: [row.values[k] for k in keys] for row in s.rows}


def row_order(report: Report) -> list[tuple[str, str]]:
    return [(row.kind, row.values["name"]) for row in report.sheets[0].rows]


def labels(report: Report, sheet: int = 0) -> list[str]:
    return [c.label for c in report.sheets[sheet].columns]


def _person(key: str) -> tuple[int, tuple]:
    for index, person in enumerate(PEOPLE, start=1):
        if person[0] == key:
            return index, person
    raise KeyError(key)


def id_of(key: str) -> str:
    """The ID number hand_data gives person ``key`` (area 339901, birth date, sequence 2n-1 / 2n)."""
    index, (_k, _hh, _v, sex, birth, *_rest) = _person(key)
    return make_id_number("339901", birth, 2 * index - (1 if sex == "1" else 0))


def masked_id(key: str) -> str:
    number = id_of(key)
    return number[:4] + "*" * 10 + number[-4:]


def phone_of(key: str) -> str:
    index, _ = _person(key)
    return f"1990000{index:04d}"

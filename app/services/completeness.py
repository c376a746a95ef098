"""Completeness and freshness of the base data, per village with a township roll-up.

* **Completeness**: of the living persons on the reference date, the share of the *required* fields
  (与户主关系, 所属户, 民族) and of the *recommended* fields (婚姻状况, 文化程度, 政治面貌, 联系电话) that are
  filled. Fields the database requires (name, ID number, sex, birth date …) are always filled and not
  counted.
* **Freshness**: a living person is *stale* when the last change to the person or to one of the
  person's tags took effect more than ``months`` months before the reference date (change log,
  effective dates up to the reference date). A village is *without edits in the period* when no
  change to its persons, households or their tags took effect within the period (default: the
  reference date's month up to the reference date).
"""

from __future__ import annotations

import calendar
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import polars as pl
from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import func, select
from sqlmodel import Session

from app import clock
from app.db import Database
from app.issues import Issue, NotFound, ValidationFailed
from app.models import Area, ChangeLog, Tag, User
from app.reporting.frames import CACHE
from app.reporting.store_delta import data_version
from app.services.lineage import area_prefix
from app.services.reports import county_code, parse_period
from app.services.scope import require_read

REQUIRED = {"relation": "与户主关系", "household_id": "所属户", "ethnic_group": "民族"}
RECOMMENDED = {"marital_status": "婚姻状况", "education": "文化程度", "political_status": "政治面貌", "phone": "联系电话"}


@dataclass
class AreaQuality:
    code: str
    name: str
    level: int
    persons: int = 0
    required_filled: int = 0
    recommended_filled: int = 0
    stale: int = 0
    last_edit: date | None = None
    edited_in_period: bool = False
    villages: int = 0
    villages_without_edit: int = 0
    missing: dict[str, int] = field(default_factory=dict)  # field label → living persons without it

    @property
    def required_share(self) -> float | None:
        return self.required_filled / (self.persons * len(REQUIRED)) if self.persons else None

    @property
    def recommended_share(self) -> float | None:
        return self.recommended_filled / (self.persons * len(RECOMMENDED)) if self.persons else None

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name, "persons": self.persons,
                "required_share": _round(self.required_share), "recommended_share": _round(self.recommended_share),
                "stale_persons": self.stale, "last_edit": self.last_edit.isoformat() if self.last_edit else None,
                "edited_in_period": self.edited_in_period, "villages": self.villages,
                "villages_without_edit": self.villages_without_edit, "missing": self.missing}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


@dataclass
class Completeness:
    area_code: str
    area_name: str
    on: date
    period: tuple[date, date]
    months: int
    villages: list[AreaQuality]
    townships: list[AreaQuality]
    total: AreaQuality

    def as_dict(self) -> dict[str, Any]:
        return {"area": {"code": self.area_code, "name": self.area_name}, "as_of": self.on.isoformat(),
                "period": [self.period[0].isoformat(), self.period[1].isoformat()], "stale_months": self.months,
                "required_fields": list(REQUIRED.values()), "recommended_fields": list(RECOMMENDED.values()),
                "total": self.total.as_dict(), "townships": [t.as_dict() for t in self.townships],
                "villages": [v.as_dict() for v in self.villages]}


def months_before(on: date, months: int) -> date:
    year, month = divmod(on.year * 12 + on.month - 1 - months, 12)
    month += 1
    return date(year, month, min(on.day, calendar.monthrange(year, month)[1]))


def _last_edits(session: Session, on: date) -> tuple[dict[int, date], dict[int, date]]:
    """Latest effective date (≤ on) of a change to each person and each household, tags included."""
    persons: dict[int, date] = {}
    households: dict[int, date] = {}

    def keep(target: dict[int, date], key: int, when: date) -> None:
        if key not in target or when > target[key]:
            target[key] = when

    query = (select(ChangeLog.entity, ChangeLog.entity_id, func.max(ChangeLog.effective_date))
             .where(ChangeLog.entity.in_(("person", "household", "tag")), ChangeLog.effective_date <= on)
             .group_by(ChangeLog.entity, ChangeLog.entity_id))
    tags: dict[int, date] = {}
    for entity, entity_id, when in session.execute(query):
        if when is None or not str(entity_id).isdigit():
            continue
        if isinstance(when, str):
            when = date.fromisoformat(when[:10])
        {"person": persons, "household": households, "tag": tags}[entity][int(entity_id)] = when
    if tags:
        ids = list(tags)
        for start in range(0, len(ids), 500):
            for tag_id, person_id, household_id in session.execute(
                    select(Tag.id, Tag.person_id, Tag.household_id).where(Tag.id.in_(ids[start:start + 500]))):
                if person_id is not None:
                    keep(persons, person_id, tags[tag_id])
                elif household_id is not None:
                    keep(households, household_id, tags[tag_id])
    return persons, households


def completeness(db: Database, session: Session, actor: User | None, area_code: str | None, on: date | None,
                 months: int = 12, period: str | None = None) -> Completeness:
    if months < 1 or months > 120:
        raise ValidationFailed(Issue("bad-months", f"月数 {months} 应在 1 到 120 之间", {"field": "months"}))
    area_code = area_code or (actor.area_code if actor is not None and actor.role != "admin" else county_code(session))
    area = session.get(Area, area_code)
    if area is None:
        raise NotFound(Issue("unknown-area", f"区划 {area_code} 不存在", {"field": "area"}))
    if actor is not None:
        require_read(actor, area.code)
    on = on or clock.today()
    span = parse_period(period) if period else (date(on.year, on.month, 1), on)
    span = (span[0], min(span[1], on))
    prefix = area_prefix(area)[:12]
    snap = CACHE.get(db.engine, on, data_version(db.engine))
    areas = snap.areas
    villages = {r["code"]: AreaQuality(r["code"], r["name"], 5)
                for r in areas.filter((pl.col("level") == 5) & pl.col("code").str.starts_with(prefix)).sort("code")
                .iter_rows(named=True)}
    persons = snap.persons.filter(pl.col("village").is_in(list(villages)))
    living = persons.filter(pl.col("living_status") == "1")

    def filled(name: str) -> pl.Expr:
        col = pl.col(name)
        return (col.is_not_null() & (col.cast(pl.String).str.strip_chars() != "")).cast(pl.Int64)

    stats = living.group_by("village").agg(
        pl.len().alias("persons"),
        pl.sum_horizontal([filled(f) for f in REQUIRED]).sum().alias("required"),
        pl.sum_horizontal([filled(f) for f in RECOMMENDED]).sum().alias("recommended"),
        *[(1 - filled(f)).sum().alias(f"missing:{f}") for f in (*REQUIRED, *RECOMMENDED)],
    )
    for row in stats.iter_rows(named=True):
        q = villages[row["village"]]
        q.persons, q.required_filled, q.recommended_filled = row["persons"], row["required"], row["recommended"]
        q.missing = {label: row[f"missing:{f}"] for f, label in {**REQUIRED, **RECOMMENDED}.items()}
    person_edits, household_edits = _last_edits(session, on)
    threshold = months_before(on, months)
    for pid, village, status in persons.select("id", "village", "living_status").iter_rows():
        when = person_edits.get(int(pid))
        q = villages[village]
        if status == "1" and (when is None or when < threshold):
            q.stale += 1
        if when is not None and (q.last_edit is None or when > q.last_edit):
            q.last_edit = when
    households = snap.households.filter(pl.col("village").is_in(list(villages)))
    for hid, village in households.select("id", "village").iter_rows():
        when = household_edits.get(int(hid))
        q = villages[village]
        if when is not None and (q.last_edit is None or when > q.last_edit):
            q.last_edit = when
    for q in villages.values():
        q.edited_in_period = q.last_edit is not None and q.last_edit >= span[0]
        q.villages, q.villages_without_edit = 1, int(not q.edited_in_period)
    names = dict(areas.select("code", "name").iter_rows())
    towns: dict[str, AreaQuality] = {}
    for q in villages.values():
        code = q.code[:9] + "000"
        _add(towns.setdefault(code, AreaQuality(code, names.get(code, code), 4)), q)
    total = AreaQuality(area.code, area.name, area.level)
    for q in villages.values():
        _add(total, q)
    return Completeness(area.code, area.name, on, span, months, list(villages.values()), list(towns.values()), total)


def _add(into: AreaQuality, q: AreaQuality) -> None:
    into.persons += q.persons
    into.required_filled += q.required_filled
    into.recommended_filled += q.recommended_filled
    into.stale += q.stale
    into.villages += 1
    into.villages_without_edit += int(not q.edited_in_period)
    into.edited_in_period = into.edited_in_period or q.edited_in_period
    if q.last_edit is not None and (into.last_edit is None or q.last_edit > into.last_edit):
        into.last_edit = q.last_edit
    merged: dict[str, int] = defaultdict(int, into.missing)
    for label, n in q.missing.items():
        merged[label] += n
    into.missing = dict(merged)


def completeness_xlsx(result: Completeness) -> bytes:
    wb = Workbook()
    header = ["区划代码", "名称", "在世人员", "必填项完整率", "建议项完整率", f"超过{result.months}个月未更新的人员",
              "最近修改生效日", "期间内有修改", "村数", "期间内无修改的村", *[f"缺{label}" for label in {**REQUIRED, **RECOMMENDED}.values()]]
    for title, rows in (("乡镇汇总", [result.total, *result.townships]), ("分村", result.villages)):
        ws = wb.active if title == "乡镇汇总" else wb.create_sheet(title)
        ws.title = title
        ws.append([f"{result.area_name} 数据完整性与时效（截至 {result.on.isoformat()}，期间 {result.period[0].isoformat()} 至 {result.period[1].isoformat()}）"])
        ws.append(header)
        for cell in ws[2]:
            cell.font = Font(bold=True)
        for q in rows:
            ws.append([q.code, q.name, q.persons, q.required_share, q.recommended_share, q.stale,
                       q.last_edit.isoformat() if q.last_edit else "", "是" if q.edited_in_period else "否",
                       q.villages, q.villages_without_edit,
                       *[q.missing.get(label, 0) for label in {**REQUIRED, **RECOMMENDED}.values()]])
            ws.cell(ws.max_row, 1).number_format = "@"
            for col in (4, 5):
                ws.cell(ws.max_row, col).number_format = "0.0%"
        ws.column_dimensions["A"].width = 15
        ws.column_dimensions["B"].width = 14
        ws.freeze_panes = "C3"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()

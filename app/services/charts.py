"""Chart data for the browser (rendered by app/static/js/charts.js with the vendored ECharts).

Every function returns one neutral chart spec — ``{"type": "line" | "bar" | "stacked", "title",
"categories": [...], "series": [{"name", "data"}], "percent": bool}`` — so the pages only embed JSON.
"""

from __future__ import annotations

import calendar
from datetime import date
from typing import Any

import polars as pl
from sqlalchemy import func, select
from sqlmodel import Session

from app import clock
from app.models import CollectionTask, Household, Person, Tag, TagType, User
from app.models.task import TASK_STATUSES, TaskVillage
from app.services.scope import scope_of


def month_ends(on: date, months: int) -> list[date]:
    """The last ``months`` month ends up to ``on`` (the last point is ``on`` itself)."""
    out = []
    year, month = on.year, on.month
    for _ in range(months):
        out.append(date(year, month, calendar.monthrange(year, month)[1]))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    out.reverse()
    out[-1] = on
    return out


def tag_trend(session: Session, actor: User, on: date | None = None, months: int = 24) -> dict[str, Any]:
    """Holders of each of the department's tags at every month end over ``months`` months (from the
    tags' validity intervals), within the user's area (the holder's current village)."""
    on = on or clock.today()
    types = select(TagType.code, TagType.name)
    if actor.role == "department":
        types = types.where(TagType.department == actor.department)
    names = dict(session.execute(types.order_by(TagType.code)).all())
    scope = scope_of(actor)
    points = month_ends(on, months)
    rows: list[tuple[str, date, date | None]] = []
    for owner, area_col, key in ((Person, Person.area_code, Tag.person_id), (Household, Household.area_code, Tag.household_id)):
        query = (select(Tag.tag_code, Tag.valid_from, Tag.valid_to).join(owner, owner.id == key)  # type: ignore[arg-type]
                 .where(Tag.tag_code.in_(list(names)), Tag.valid_from <= on, scope.clause(area_col)))
        rows += [tuple(r) for r in session.execute(query)]  # type: ignore[misc]
    frame = pl.DataFrame(rows, schema={"code": pl.String, "valid_from": pl.Date, "valid_to": pl.Date}, orient="row")
    series = []
    for code, name in names.items():
        tags = frame.filter(pl.col("code") == code)
        data = [tags.filter((pl.col("valid_from") <= d) & (pl.col("valid_to").is_null() | (pl.col("valid_to") > d))).height
                for d in points]
        if any(data):
            series.append({"name": name, "data": data})
    return {"type": "line", "title": f"本部门标签人数（户数）近{months}个月变化",
            "categories": [f"{d.year}-{d.month:02d}" for d in points], "series": series, "percent": False}


def task_progress(session: Session, actor: User, limit: int = 8) -> dict[str, Any]:
    """Villages per status for the newest collection tasks the user issued (department: its own)."""
    query = select(CollectionTask.id, CollectionTask.title).order_by(CollectionTask.id.desc()).limit(limit)
    if actor.role == "department":
        query = query.where(CollectionTask.issuer_department == actor.department)
    elif actor.role != "admin":
        query = query.where(CollectionTask.issuer_id == actor.id)
    tasks = list(session.execute(query).all())[::-1]
    counts: dict[tuple[int, str], int] = {}
    if tasks:
        grouped = (select(TaskVillage.task_id, TaskVillage.status, func.count())
                   .where(TaskVillage.task_id.in_([t.id for t in tasks])).group_by(TaskVillage.task_id, TaskVillage.status))
        counts = {(task_id, status): n for task_id, status, n in session.execute(grouped)}
    return {"type": "stacked", "title": "采集任务进度（村数）", "categories": [t.title for t in tasks],
            "series": [{"name": label, "data": [counts.get((t.id, status), 0) for t in tasks]}
                       for status, label in TASK_STATUSES.items()], "percent": False}


def completeness_chart(result: Any) -> dict[str, Any]:
    villages = result.villages
    return {"type": "bar", "title": "各村必填项与建议项完整率", "categories": [v.name for v in villages],
            "series": [{"name": "必填项", "data": [round((v.required_share or 0) * 100, 1) for v in villages]},
                       {"name": "建议项", "data": [round((v.recommended_share or 0) * 100, 1) for v in villages]}],
            "percent": True}


def rules_chart(run: Any) -> dict[str, Any]:
    towns = run.by_township()
    return {"type": "stacked", "title": "各乡镇校验不通过", "categories": [t["name"] for t in towns],
            "series": [{"name": "阻止提交", "data": [t["blocking"] for t in towns]},
                       {"name": "其他", "data": [t["violations"] - t["blocking"] for t in towns]}], "percent": False}

"""减负监测: for a period, how many report cells the base data delivered and how many base facts people
typed to get them.

* **Cells delivered**: every generated report (a download in the browser or from the command line,
  ``report_download``) counts its rows × the leaf columns of the version that was generated.
* **Facts entered**: change-log entries (one per record created, changed or ended) of change batches
  recorded in the period, by source — web, Excel 一表, task, import, flow-back. Seeds, the command line,
  the API and the system are not village work and are shown apart (``other``).
* **Per village**: the facts entered by the village's own accounts (village and grid users; township and
  county accounts are counted under 乡镇及以上) and the reports generated for the village or its grids.
* **Reports delivered with zero village re-typing**: reports generated in the period whose every column
  is computed from base data (no 需新建指标 column left for someone to type).
* **Forms absorbed**: reports in the catalogue, and those that entered it in the period (a first version
  published in the browser).

The period is read in local dates (``app.clock``): ``2025`` is 1 January to 31 December, Beijing time.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from app import clock
from app.issues import IssueError
from app.models import Area, ChangeBatch, ChangeLog, ReportDefinition, ReportDownload, User
from app.registry.loader import Registry
from app.services.reports import parse_period

VILLAGE_SOURCES = ("web", "excel", "task", "import", "flowback")
SOURCE_LABELS = {"web": "网页录入", "excel": "Excel 一表", "task": "采集任务", "import": "导入", "flowback": "数据回流",
                 "other": "其他（初始化、命令行、接口）"}
ABOVE = "above"  # township and county accounts


@dataclass
class ReportUse:
    report_id: str
    title: str
    downloads: int = 0
    rows: int = 0
    cells: int = 0
    generated_only: bool = True  # no column left for villages to type


@dataclass
class VillageUse:
    code: str
    name: str
    facts: dict[str, int] = field(default_factory=dict)
    downloads: int = 0
    cells: int = 0

    @property
    def facts_total(self) -> int:
        return sum(self.facts.get(s, 0) for s in VILLAGE_SOURCES)


@dataclass
class Burden:
    period: str
    start: date
    end: date
    reports: list[ReportUse]
    villages: list[VillageUse]
    facts: dict[str, int]  # by source, plus "other"
    catalogue_size: int
    absorbed: list[str]  # reports whose first version was published in the period

    @property
    def cells(self) -> int:
        return sum(r.cells for r in self.reports)

    @property
    def facts_total(self) -> int:
        return sum(self.facts.get(s, 0) for s in VILLAGE_SOURCES)

    @property
    def cells_per_fact(self) -> float | None:
        return round(self.cells / self.facts_total, 2) if self.facts_total else None

    @property
    def zero_retyping(self) -> list[str]:
        return [r.report_id for r in self.reports if r.downloads and r.generated_only]

    def as_dict(self) -> dict[str, Any]:
        return {
            "period": self.period, "start": self.start.isoformat(), "end": self.end.isoformat(),
            "cells_delivered": self.cells, "downloads": sum(r.downloads for r in self.reports),
            "facts_entered": self.facts_total,
            "facts_by_source": {s: self.facts.get(s, 0) for s in (*VILLAGE_SOURCES, "other")},
            "cells_per_fact": self.cells_per_fact,
            "reports_zero_retyping": self.zero_retyping,
            "catalogue_size": self.catalogue_size, "absorbed": self.absorbed,
            "reports": [{"id": r.report_id, "title": r.title, "downloads": r.downloads, "rows": r.rows,
                         "cells": r.cells, "zero_retyping": r.generated_only} for r in self.reports],
            "villages": [{"code": v.code, "name": v.name, "facts": v.facts_total,
                          "facts_by_source": {s: v.facts.get(s, 0) for s in VILLAGE_SOURCES},
                          "downloads": v.downloads, "cells": v.cells,
                          "cells_per_fact": round(v.cells / v.facts_total, 2) if v.facts_total else None}
                         for v in self.villages],
        }


def charts(burden: Burden) -> dict[str, dict[str, Any]]:
    """Chart specs for app/static/js/charts.js: cells delivered per report; facts entered per village by source."""
    return {
        "reports": {"type": "bar", "title": "各报表交付单元格", "categories": [r.title for r in burden.reports],
                    "series": [{"name": "交付单元格", "data": [r.cells for r in burden.reports]}] if burden.reports else [],
                    "percent": False},
        "villages": {"type": "stacked", "title": "各村录入条数（按来源）", "categories": [v.name for v in burden.villages],
                     "series": [{"name": SOURCE_LABELS[s], "data": [v.facts.get(s, 0) for v in burden.villages]}
                                for s in VILLAGE_SOURCES] if burden.villages else [],
                     "percent": False},
    }


def _utc_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """[start 00:00, end+1 00:00) local time, in UTC (how timestamps are stored)."""
    zone = clock.zone()
    lo = datetime.combine(start, time(), tzinfo=zone).astimezone(UTC)
    hi = datetime.combine(end + timedelta(days=1), time(), tzinfo=zone).astimezone(UTC)
    return lo, hi


def compute(session: Session, registry: Registry, period: str) -> Burden:
    start, end = parse_period(period)
    lo, hi = _utc_bounds(start, end)
    areas = {a.code: a for a in session.execute(select(Area).where(Area.level >= 5)).scalars()}

    def village_of(code: str | None) -> str:
        if not code:
            return ABOVE
        area = areas.get(code)
        if area is None:
            return ABOVE
        return code if area.level == 5 else (area.parent_code or code[:12])

    villages: dict[str, VillageUse] = {}

    def village(code: str) -> VillageUse:
        if code not in villages:
            villages[code] = VillageUse(code, areas[code].name if code in areas else code)
        return villages[code]

    # facts entered, by source and by the entering account's village
    facts: dict[str, int] = {}
    query = (select(ChangeBatch.source, User.area_code, func.count(ChangeLog.id))
             .join(ChangeBatch, ChangeLog.batch_id == ChangeBatch.id)
             .outerjoin(User, User.id == ChangeBatch.actor_id)
             .where(ChangeBatch.created_at >= lo, ChangeBatch.created_at < hi)
             .group_by(ChangeBatch.source, User.area_code))
    for source, area_code, n in session.execute(query):
        key = source if source in VILLAGE_SOURCES else "other"
        facts[key] = facts.get(key, 0) + n
        v = village_of(area_code)
        if v != ABOVE and key != "other":
            use = village(v)
            use.facts[key] = use.facts.get(key, 0) + n

    # cells delivered
    uses: dict[str, ReportUse] = {}
    query = (select(ReportDownload.report_ref, ReportDownload.area_code, func.count(), func.sum(ReportDownload.rows))
             .where(ReportDownload.created_at >= lo, ReportDownload.created_at < hi)
             .group_by(ReportDownload.report_ref, ReportDownload.area_code))
    for ref, area_code, n, rows in session.execute(query):
        rid, _, version = ref.partition("@")
        try:
            spec = registry.get(rid, int(version) if version.isascii() and version.isdigit() else None)
        except IssueError:
            spec = None
        leaves = spec.leaves() if spec is not None else []
        cells = int(rows or 0) * len(leaves)
        use = uses.setdefault(rid, ReportUse(rid, spec.plain_title if spec else rid))
        use.downloads += n
        use.rows += int(rows or 0)
        use.cells += cells
        if any(leaf.pending for leaf in leaves):
            use.generated_only = False
        v = village_of(area_code)
        if v != ABOVE:
            village(v).downloads += n
            village(v).cells += cells

    first_versions = session.execute(select(ReportDefinition.report_id).where(
        ReportDefinition.version == 1, ReportDefinition.published_at >= lo, ReportDefinition.published_at < hi)
        .order_by(ReportDefinition.report_id)).scalars().all()
    return Burden(period, start, end, sorted(uses.values(), key=lambda u: (-u.cells, u.report_id)),
                  sorted(villages.values(), key=lambda v: v.code), facts, len(registry.reports), list(first_versions))


def burden_xlsx(burden: Burden) -> bytes:
    from openpyxl import Workbook

    data = burden.as_dict()
    wb = Workbook()
    ws = wb.active
    ws.title = "汇总"
    ws.append(["减负监测", f"{burden.start} 至 {burden.end}"])
    ws.append(["交付报表单元格数", data["cells_delivered"]])
    ws.append(["生成（下载）次数", data["downloads"]])
    ws.append(["录入基础数据条数", data["facts_entered"]])
    for s in VILLAGE_SOURCES:
        ws.append([f"  其中：{SOURCE_LABELS[s]}", data["facts_by_source"][s]])
    ws.append(["每录入一条交付单元格数", data["cells_per_fact"]])
    ws.append(["村无需重复填报的报表数", len(data["reports_zero_retyping"])])
    ws.append(["目录中的报表数", data["catalogue_size"]])
    ws.append(["本期纳入目录的报表", "、".join(data["absorbed"])])
    rs = wb.create_sheet("按报表")
    rs.append(["报表编号", "报表名称", "生成次数", "行数", "交付单元格数", "村无需重复填报"])
    for r in data["reports"]:
        rs.append([r["id"], r["title"], r["downloads"], r["rows"], r["cells"], "是" if r["zero_retyping"] else "否"])
    vs = wb.create_sheet("按村")
    vs.append(["区划代码", "村", "录入条数", *[SOURCE_LABELS[s] for s in VILLAGE_SOURCES], "生成次数", "交付单元格数",
               "每录入一条交付单元格数"])
    for v in data["villages"]:
        vs.append([v["code"], v["name"], v["facts"], *[v["facts_by_source"][s] for s in VILLAGE_SOURCES], v["downloads"],
                   v["cells"], v["cells_per_fact"]])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()

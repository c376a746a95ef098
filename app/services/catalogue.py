"""报表准入 and 报表目录: what a new report (or version) adds to the catalogue before it goes live, and the
catalogue of every report with its validity, versions, overlap and use.

Overlap of report A with report B = the share of A's indicators that B also shows; ≥ 50 % is flagged
疑似重复报表 naming B. Fields villages would newly have to fill: A's columns no indicator computes
(需新建指标: the report leaves them blank for someone to type) plus the periodic values (台账 items) A
reads that no other report reads yet.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from app import clock
from app.issues import Issue
from app.models import ReportDownload
from app.registry.loader import Registry
from app.registry.schema import ReportSpec
from app.registry.vocabulary import DEPARTMENT_UNITS, FREQUENCIES

DUPLICATE_AT = 0.5
SOON_DAYS = 90


@dataclass
class Overlap:
    report_id: str
    title: str
    department: str
    shared: list[str]
    share: float  # of the new report's indicators

    @property
    def duplicate(self) -> bool:
        return self.share >= DUPLICATE_AT

    @property
    def department_label(self) -> str:
        return DEPARTMENT_UNITS.get(self.department, self.department)


@dataclass
class Admission:
    spec: ReportSpec
    reused: list[str]  # indicators other reports already show
    new: list[str]  # dictionary indicators no other report shows yet
    pending: list[str]  # columns without an indicator (需新建指标): typed by villages
    new_items: list[str]  # observation items no other report reads: a new 台账 for villages
    overlaps: list[Overlap]
    issues: list[Issue] = field(default_factory=list)

    @property
    def village_fields(self) -> int:
        return len(self.pending) + len(self.new_items)

    @property
    def duplicates(self) -> list[Overlap]:
        return [o for o in self.overlaps if o.duplicate]


def _codes(spec: ReportSpec) -> list[str]:
    return list(dict.fromkeys(spec.indicator_codes()))


def _items(spec: ReportSpec, registry: Registry) -> set[str]:
    out = set()
    for code in spec.indicator_codes():
        ind = registry.indicators.get(code)
        if ind is not None and ind.compute.subject == "observations" and ind.compute.item:
            out.add(ind.compute.item)
    return out


def overlaps_of(spec: ReportSpec, others: list[ReportSpec]) -> list[Overlap]:
    mine = _codes(spec)
    out = []
    for other in others:
        if other.id == spec.id:
            continue
        theirs = set(other.indicator_codes())
        shared = [c for c in mine if c in theirs]
        if shared:
            out.append(Overlap(other.id, other.plain_title, other.department, shared, len(shared) / len(mine)))
    return sorted(out, key=lambda o: (-o.share, o.report_id))


def admission(spec: ReportSpec, registry: Registry) -> Admission:
    """The admission sheet of a report about to be published (against every other published report)."""
    others = [s for s in registry.latest() if s.id != spec.id]
    used_elsewhere = {c for s in others for c in s.indicator_codes()}
    codes = _codes(spec)
    items_elsewhere = set().union(*(_items(s, registry) for s in others)) if others else set()
    pending = [leaf.label if not leaf.pending or leaf.pending == leaf.label else f"{leaf.label}（{leaf.pending}）"
               for leaf in spec.leaves() if leaf.pending]
    issues: list[Issue] = []
    if spec.valid_until is None:
        issues.append(Issue("no-valid-until", "准入要求填写有效期至：statutory 中缺少“有效期至”", {"path": "statutory.有效期至"},
                            hint="在 statutory 下加一行，例如  有效期至: 2027-12-31"))
    elif spec.valid_until < clock.today():
        issues.append(Issue("form-expired", f"有效期至{spec.valid_until}已过，不能发布", {"path": "statutory.有效期至"},
                            hint="填写报批后的新有效期"))
    overlaps = overlaps_of(spec, others)
    for o in overlaps:
        if o.duplicate:
            issues.append(Issue("suspected-duplicate",
                                f"疑似重复报表：与“{o.title}”（{o.report_id}）共用 {len(o.shared)} 个指标，占本表指标的 {o.share:.0%}",
                                {"record": o.report_id}, "warning", hint="请与该报表的部门核对，能合并的不再新设报表"))
    return Admission(spec, [c for c in codes if c in used_elsewhere], [c for c in codes if c not in used_elsewhere],
                     pending, sorted(_items(spec, registry) - items_elsewhere), overlaps, issues)


# ---------------------------------------------------------------------------------- the catalogue


@dataclass
class Entry:
    spec: ReportSpec
    versions: list[int]
    overlap: Overlap | None  # the largest
    last_generated: datetime | None
    downloads: int
    status: str  # valid | soon | expired | none

    def as_dict(self) -> dict[str, Any]:
        s = self.spec
        table_no = dict(s.statutory).get("表号", "")
        return {"id": s.id, "title": s.plain_title, "表号": table_no, "department": s.department,
                "frequency": s.frequency, "valid_until": s.valid_until.isoformat() if s.valid_until else None,
                "status": self.status, "versions": self.versions,
                "overlap": None if self.overlap is None else {
                    "report": self.overlap.report_id, "shared": len(self.overlap.shared),
                    "share": round(self.overlap.share, 3), "duplicate": self.overlap.duplicate},
                "last_generated": clock.display(self.last_generated) or None, "downloads": self.downloads}


STATUS_LABELS = {"valid": "有效", "soon": "即将到期", "expired": "已过期", "none": "未填有效期"}


def validity(spec: ReportSpec, today: date) -> str:
    if spec.valid_until is None:
        return "none"
    if spec.valid_until < today:
        return "expired"
    return "soon" if spec.valid_until <= today + timedelta(days=SOON_DAYS) else "valid"


def catalogue(session: Session, registry: Registry, today: date | None = None) -> list[Entry]:
    today = today or clock.today()
    specs = registry.latest()
    use: dict[str, tuple[datetime | None, int]] = {}
    query = select(ReportDownload.report_ref, func.max(ReportDownload.created_at), func.count()).group_by(
        ReportDownload.report_ref)
    for ref, last, n in session.execute(query):
        rid = ref.split("@", 1)[0]
        before, total = use.get(rid, (None, 0))
        use[rid] = (max(d for d in (before, last) if d is not None) if (before or last) else None, total + n)
    out = []
    for spec in specs:
        overlaps = overlaps_of(spec, specs)
        last, n = use.get(spec.id, (None, 0))
        out.append(Entry(spec, sorted(registry.reports[spec.id]), overlaps[0] if overlaps else None, last, n,
                         validity(spec, today)))
    return out


def catalogue_xlsx(entries: list[Entry], departments: dict[str, str] | None = None) -> bytes:
    from openpyxl import Workbook

    departments = departments or {}
    wb = Workbook()
    ws = wb.active
    ws.title = "报表目录"
    ws.append(["报表编号", "报表名称", "表号", "部门", "报送频率", "有效期至", "状态", "版本", "最大重合报表", "重合指标数",
               "重合比例", "疑似重复", "最近生成", "下载次数"])
    for e in entries:
        d = e.as_dict()
        o = d["overlap"] or {}
        ws.append([d["id"], d["title"], d["表号"], departments.get(e.spec.department, DEPARTMENT_UNITS.get(e.spec.department, e.spec.department)),
                   FREQUENCIES.get(e.spec.frequency, e.spec.frequency), d["valid_until"] or "", STATUS_LABELS[e.status],
                   "、".join(f"v{v}" for v in e.versions), o.get("report", ""), o.get("shared", 0),
                   o.get("share", 0), "是" if o.get("duplicate") else "", d["last_generated"] or "", e.downloads])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()

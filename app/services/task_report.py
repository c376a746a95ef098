"""The report of a collection task, generated from the confirmed state.

When a village submits, its *part* of the report is computed from the base data as of the task's
reference date and stored with the village's status row: for a summary the value of every column
(``{column key: value}``), for a roster its rows. The township approves exactly that part. The
issuer's report is assembled from the stored parts of the confirmed villages only: summary rows of
unconfirmed villages are shown empty and marked, subtotals and the total add up confirmed villages
only, a roster lists confirmed villages' rows. A change to the base data after a village submitted
does not alter its part; the report names such villages in a note ("submitted data differs from the
current data") so the issuer can return them if the change matters.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from app.db import Database
from app.models import Area, CollectionTask, TaskVillage
from app.models.area import LEVEL_PREFIX, level_of
from app.models.task import TASK_STATUSES
from app.registry.loader import Registry
from app.registry.schema import ReportSpec
from app.reporting import evaluate
from app.reporting.frames import CACHE
from app.reporting.store_delta import data_version
from app.reporting.table import Report, Row
from app.services import reports
from app.services.scope import ID_DERIVED, effective_unmasked

SUPPORTED_KINDS = ("area_summary", "roster")


@dataclass
class Assembled:
    report: Report
    confirmed: list[str]
    unconfirmed: list[str]
    changed_since: list[str]


def stored_form(value: Any) -> Any:
    """The part as JSON would store it (dates as ISO text), so stored and fresh parts compare equal."""
    return json.loads(json.dumps(value, default=lambda v: v.isoformat() if isinstance(v, date) else str(v)))


def compute_parts(db: Database, session: Session, registry: Registry, task: CollectionTask,
                  codes: list[str]) -> dict[str, dict[str, Any]]:
    """Each village's part of the task's report, from the base data as it is now (as of the reference date)."""
    spec = registry.get(task.report_id, task.report_version)
    version = data_version(db.engine)
    if spec.kind == "area_summary":
        snap = CACHE.get(db.engine, task.reference_date, version)
        leaves = spec.leaves()
        used = [registry.indicators[leaf.indicator] for leaf in leaves if leaf.indicator]
        values = evaluate.village_values(snap, list({i.code: i for i in used}.values()), spec.age_date)
        by_village = {r["village"]: r for r in values.iter_rows(named=True)}
        return {code: stored_form({"kind": "values", "data_version": version,
                             "values": {leaf.key: (by_village.get(code) or {}).get(leaf.indicator) or 0 for leaf in leaves}})
                for code in codes}
    parts = {}
    for code in codes:
        report = reports.build_from_spec(db, session, registry, None, spec,
                                         reports.RunRequest(spec.id, spec.version, code, task.reference_date))
        rows = [{"values": row.values, "group": row.group} for row in report.sheets[0].rows]
        parts[code] = stored_form({"kind": "rows", "data_version": version, "rows": rows})
    return parts


def same_part(a: dict[str, Any] | None, b: dict[str, Any] | None) -> bool:
    """Equal apart from the data version they were computed from."""
    def strip(p: dict[str, Any] | None) -> Any:
        return {k: v for k, v in (p or {}).items() if k != "data_version"}
    return strip(a) == strip(b)


def _prefix(code: str) -> str:
    return code[: LEVEL_PREFIX[level_of(code)]]


def assemble(db: Database, session: Session, registry: Registry, task: CollectionTask,
             villages: list[TaskVillage]) -> Assembled:
    """The issuer's report: the projection's layout for the task's area, filled from confirmed parts."""
    spec = registry.get(task.report_id, task.report_version)
    layout = reports.build_from_spec(db, session, registry, None, spec,
                                     reports.RunRequest(spec.id, spec.version, task.area_code, task.reference_date))
    codes = [v.village_code for v in villages]
    names = {code: name for code, name in session.execute(select(Area.code, Area.name).where(Area.code.in_(codes)))}
    confirmed = {v.village_code: v.part for v in villages if v.status == "confirmed" and v.part}
    fresh = compute_parts(db, session, registry, task, sorted(confirmed)) if confirmed else {}
    changed = [code for code in sorted(confirmed) if not same_part(confirmed[code], fresh.get(code))]
    sheet = layout.sheets[0]
    if spec.kind == "area_summary":
        sheet.rows = _summary_rows(spec, sheet.rows, [v.village_code for v in villages], confirmed)
    else:
        sheet.rows = _masked(spec, effective_unmasked(session, spec), _roster_rows(spec, sheet.columns, confirmed))
        noun = "人" if spec.subject == "persons" else "户"
        sheet.notes = [n for n in sheet.notes if not n.startswith("共 ")] + [f"共 {len(sheet.rows)} {noun}"]
    unconfirmed = [v for v in villages if v.village_code not in confirmed]
    notes = [f"采集任务 #{task.id}：按各村提交并经审核确认的数据生成，已确认 {len(confirmed)}/{len(villages)} 个村（社区）。"]
    if unconfirmed:
        listed = "、".join(f"{names.get(v.village_code, v.village_code)}（{TASK_STATUSES[v.status]}）" for v in unconfirmed)
        notes.append(f"未确认、未计入{'小计与合计' if spec.kind == 'area_summary' else '本表'}：{listed}。")
    if changed:
        notes.append("以下村（社区）提交后基础数据又有变动，本表仍按确认时的数据：" + "、".join(names.get(c, c) for c in changed) + "。")
    sheet.notes = [*sheet.notes, *notes]
    layout.meta["采集任务"] = f"#{task.id}"
    layout.meta["数据口径"] = "各村确认时的数据"
    return Assembled(layout, sorted(confirmed), [v.village_code for v in unconfirmed], changed)


def _summary_rows(spec: ReportSpec, rows: list[Row], task_codes: list[str], confirmed: dict[str, Any]) -> list[Row]:
    keys = [leaf.key for leaf in spec.leaves()]
    out = []
    for row in rows:
        code = row.values.get("code") or ""
        members = [c for c in task_codes if c.startswith(_prefix(code))]
        if not members:
            continue  # an area of the layout without any village of the task
        values = dict(row.values)
        done = [c for c in members if c in confirmed]
        if row.kind == "data" and not done:
            values.update({k: None for k in keys})
            values["name"] = f"{values['name']}（未确认）"
        else:
            values.update({k: sum(confirmed[c]["values"].get(k) or 0 for c in done) for k in keys})
            if row.kind == "data" and len(done) < len(members):
                values["name"] = f"{values['name']}（{len(done)}/{len(members)}个村已确认）"
        out.append(Row(values, row.kind, row.group))
    return out


def _masked(spec: ReportSpec, allowed: tuple[str, ...], rows: list[Row]) -> list[Row]:
    """Stored rows masked as a run today would mask them: a part confirmed while the department held a
    grant keeps full values, and a grant revoked since must not leave them printed in full."""
    from app.registry.vocabulary import ROSTER_FIELDS
    from app.reporting.projections import MASKS

    masks = {}
    for leaf in spec.leaves():
        name = leaf.field or ""
        if name.startswith("tag.") and name.count(".") == 2:
            if name.split(".")[2] in ID_DERIVED and "id_number" not in allowed:
                masks[leaf.key] = MASKS["id_number"]
        elif name in ROSTER_FIELDS and ROSTER_FIELDS[name].personal and ROSTER_FIELDS[name].personal not in allowed:
            masks[leaf.key] = MASKS[ROSTER_FIELDS[name].personal]
    for row in rows:
        for key, mask in masks.items():
            if row.values.get(key):
                row.values[key] = mask(row.values[key])
    return rows


def _roster_rows(spec: ReportSpec, columns: list[Any], confirmed: dict[str, Any]) -> list[Row]:
    dates = {c.key for c in columns if c.kind == "date"}
    seq = [leaf.key for leaf in spec.leaves() if leaf.field == "seq"]
    grouped = spec.group_by_household and spec.subject == "persons"
    out: list[Row] = []
    number, last_group = 0, None
    for code in sorted(confirmed):
        for stored in confirmed[code]["rows"]:
            values = {k: (date.fromisoformat(v) if k in dates and isinstance(v, str) else v) for k, v in stored["values"].items()}
            group = f"{code}:{stored['group']}" if stored.get("group") is not None else None
            if not grouped or group != last_group:
                number += 1
            last_group = group
            for key in seq:
                values[key] = number
            out.append(Row(values, "data", group))
    return out

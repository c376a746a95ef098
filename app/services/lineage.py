"""Cell lineage: what one number of an area summary counts, and the edits of the period that moved it.

A cell is (report, area row, leaf column 栏次 N). The value is recomputed by the report engine
(``evaluate.village_values``) and the records by the same ``where`` expression on the same snapshot,
so for a count the number of records equals the cell and for a sum the records' values add up to it.
The changes are the change-log entries with an effective date inside the period of the records counted
at its end or on the day before it began (a record that dropped out moved the number too), and of their
tags named in the indicator's filter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import polars as pl
from sqlalchemy import and_, select
from sqlmodel import Session

from app import clock
from app.db import Database
from app.issues import Issue, NotFound, ValidationFailed
from app.models import Area, ChangeBatch, ChangeLog, Tag, User
from app.models.history import SOURCES
from app.registry.loader import Registry
from app.registry.schema import Indicator, ReportSpec
from app.registry.vocabulary import CONVERSIONS
from app.reporting import evaluate
from app.reporting.frames import CACHE, Snapshot
from app.reporting.projections import LEVEL_PREFIX
from app.reporting.safe import mask_address, mask_id_number
from app.reporting.store_delta import data_version
from app.services.reports import RunRequest, county_code, parse_period, require_run
from app.services.scope import require_read

_CHUNK = 500
ACTIONS = {"create": "新增", "update": "修改", "end": "终止"}


@dataclass
class Explanation:
    report: str
    area_code: str
    area_name: str
    column: int
    column_label: str
    indicator: Indicator
    on: date
    period: tuple[date, date]
    value: float
    records: list[dict[str, Any]] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "report": self.report, "area": {"code": self.area_code, "name": self.area_name},
            "column": self.column, "column_label": self.column_label,
            "indicator": {"code": self.indicator.code, "name": self.indicator.name,
                          "definition": self.indicator.definition, "unit": self.indicator.unit,
                          "aggregate": self.indicator.compute.aggregate, "subject": self.indicator.compute.subject},
            "as_of": self.on.isoformat(), "period": [self.period[0].isoformat(), self.period[1].isoformat()],
            "value": _number(self.value), "records": self.records, "changes": self.changes,
        }


def _number(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def area_prefix(area: Area) -> str:
    return area.code[: LEVEL_PREFIX[6 if len(area.code) == 15 else max(3, min(area.level, 5))]]


def indicator_leaves(spec: ReportSpec) -> list[tuple[int, str, str]]:
    """(栏次 N, leaf label, indicator code) of an area summary's numbered columns."""
    return [(n, leaf.label, leaf.indicator) for n, leaf in enumerate(spec.leaves(), 1) if leaf.indicator]


def explain(db: Database, session: Session, registry: Registry, actor: User | None, req: RunRequest,
            column: int) -> Explanation:
    spec = registry.get(req.report_id, req.version)
    if actor is not None:
        require_run(actor, spec)
    if spec.kind != "area_summary":
        raise ValidationFailed(Issue("not-explainable", f"“{spec.plain_title}”不是分区划汇总表，单元格溯源只支持汇总表",
                                     {"record": spec.ref}))
    leaves = indicator_leaves(spec)
    match = [leaf for leaf in leaves if leaf[0] == column]
    if not match:
        raise ValidationFailed(Issue("bad-column", f"栏次 {column} 不存在", {"field": "column"},
                                     hint=f"可选栏次：1–{len(leaves)}"))
    _, label, code = match[0]
    indicator = registry.indicators[code]
    area_code = req.area_code or county_code(session)
    area = session.get(Area, area_code)
    if area is None:
        raise NotFound(Issue("unknown-area", f"区划 {area_code} 不存在", {"field": "area"}))
    if actor is not None:
        require_read(actor, area.code)
    if len(area.code) > 12 or area.level > 5:
        raise ValidationFailed(Issue("not-a-row", f"{area.name}（{area.code}）不是报表中的一行：请选村、乡镇或县",
                                     {"field": "area"}))
    if req.period:
        period = parse_period(req.period)
        on = period[1]
    else:
        on = req.on or clock.today()
        period = (date(on.year, on.month, 1), on)
    version = data_version(db.engine)
    prefix = area_prefix(area)
    snap = CACHE.get(db.engine, on, version)
    values = evaluate.village_values(snap, [indicator], spec.age_date)
    value = float(values.filter(pl.col("village").str.starts_with(prefix[:12])).get_column(code).sum() or 0)
    records = counted(snap, indicator, prefix, spec.age_date)
    before = counted(CACHE.get(db.engine, period[0] - timedelta(days=1), version), indicator, prefix, spec.age_date)
    result = Explanation(spec.ref, area.code, area.name, column, label, indicator, on, period, value)
    result.records = [_record_dict(indicator, r) for r in records.iter_rows(named=True)]
    ids: set[Any] = set()
    if "id" in records.columns:  # observations are values of an area, not records with a change history
        ids = set(records.get_column("id").to_list()) | set(before.get_column("id").to_list())
    households: set[Any] = set()
    if _entity(indicator) == "person":
        for frame in (records, before):
            households |= set(frame.get_column("household_id").drop_nulls().to_list())
    result.changes = changes(session, indicator, ids, period, households)
    return result


def counted(snap: Snapshot, indicator: Indicator, prefix: str, age_on: tuple[int, int] | None) -> pl.DataFrame:
    """The records a cell counts: the subject's rows under the area matching the indicator's filter."""
    c = indicator.compute
    if c.subject == "observations":
        start, end = evaluate.observation_period(snap.on, c.period)
        obs = snap.table("observations").filter(
            (pl.col("item_code") == c.item) & (pl.col("period_start") >= start) & (pl.col("period_end") <= end)
            & pl.col("area_code").str.starts_with(prefix))
        factor = CONVERSIONS[c.convert] if c.convert else 1.0
        return obs.with_columns((pl.col("value").cast(pl.Float64) * factor).alias("__value")).sort("area_code")
    at = evaluate.age_date(snap.on, c.age_date or age_on)
    frame = evaluate._with_tag_values(snap, evaluate.prepared(snap, c.subject, at), c.subject, [c])  # noqa: SLF001
    frame = frame.filter(pl.col("area_code").str.starts_with(prefix) & evaluate.where_expr(snap, c.where, c.subject))
    if c.aggregate == "distinct_households":
        ids = frame.get_column("household_id").drop_nulls().unique().implode()
        frame = snap.households.filter(pl.col("id").is_in(ids))
        return frame.with_columns(pl.lit(1.0).alias("__value")).sort("id")
    if c.aggregate == "count":
        return frame.with_columns(pl.lit(1.0).alias("__value")).sort("id")
    source = c.value_field or (f"__{c.tag_attr[0]}__{c.tag_attr[1]}" if c.tag_attr else None)
    if source is None:
        raise ValueError(c)
    factor = CONVERSIONS[c.convert] if c.convert else 1.0
    # a sum lists the records that carry a value (a household without the tag adds nothing)
    frame = frame.filter(pl.col(source).is_not_null())
    return frame.with_columns((pl.col(source).cast(pl.Float64) * factor).alias("__value")).sort("id")


def _entity(indicator: Indicator) -> str:
    c = indicator.compute
    if c.aggregate == "distinct_households":
        return "household"
    return {"persons": "person", "households": "household", "houses": "house", "organisations": "organisation",
            "observations": "observation"}[c.subject]


def _record_dict(indicator: Indicator, row: dict[str, Any]) -> dict[str, Any]:
    entity = _entity(indicator)
    out: dict[str, Any] = {"entity": entity, "id": row.get("id"), "area_code": row.get("area_code"),
                           "value": _number(row["__value"])}
    if entity == "person":
        out |= {"name": row.get("name"), "id_number": mask_id_number(row.get("id_number")),
                "household_id": row.get("household_id"), "link": f"/village/person/{row.get('id')}"}
    elif entity == "household":
        out |= {"name": f"户号 {row.get('number')}", "link": f"/village/household/{row.get('id')}"}
    elif entity == "observation":
        out |= {"name": f"{row.get('item_code')} {row.get('period')}", "link": None}
    else:  # houses and organisations: an address is personal data, shown masked as in reports
        out |= {"name": row.get("name") or mask_address(row.get("address")), "link": None}
    return out


def changes(session: Session, indicator: Indicator, ids: set[Any], period: tuple[date, date],
            household_ids: set[Any] | None = None) -> list[dict[str, Any]]:
    """Change-log entries effective within the period for the records and their filtered tags
    (a person's household tags through ``household_ids``, the households of the counted persons)."""
    entity = _entity(indicator)
    if not ids or entity == "observation":
        return []
    ids_text = sorted(str(i) for i in ids)
    tag_codes = {t.code for t in indicator.compute.where.tags}
    if indicator.compute.tag_attr:
        tag_codes.add(indicator.compute.tag_attr[0])
    tag_owner: dict[str, tuple[str, str]] = {}
    if tag_codes and entity in ("person", "household"):
        owners: list[tuple[Any, list[int]]] = []
        if entity == "person":
            owners.append((Tag.person_id, [int(i) for i in ids]))
            owners.append((Tag.household_id, [int(i) for i in household_ids or ()]))
        else:
            owners.append((Tag.household_id, [int(i) for i in ids]))
        for column, values in owners:
            for start in range(0, len(values), _CHUNK):
                chunk = values[start:start + _CHUNK]
                query = select(Tag.id, Tag.person_id, Tag.household_id).where(Tag.tag_code.in_(tag_codes), column.in_(chunk))
                for tag_id, person_id, household_id in session.execute(query):
                    tag_owner[str(tag_id)] = ("person", str(person_id)) if person_id else ("household", str(household_id))
    keys = [(entity, i) for i in ids_text] + [("tag", t) for t in tag_owner]
    out: list[dict[str, Any]] = []
    by_entity: dict[str, list[str]] = {}
    for ent, key in keys:
        by_entity.setdefault(ent, []).append(key)
    for ent, values in by_entity.items():
        for start in range(0, len(values), _CHUNK):
            chunk = values[start:start + _CHUNK]
            query = (select(ChangeLog, ChangeBatch, User.display_name)
                     .join(ChangeBatch, ChangeBatch.id == ChangeLog.batch_id)
                     .outerjoin(User, User.id == ChangeBatch.actor_id)
                     .where(ChangeLog.entity == ent, ChangeLog.entity_id.in_(chunk),
                            and_(ChangeLog.effective_date >= period[0], ChangeLog.effective_date <= period[1])))
            for log, batch, who in session.execute(query):
                owner = tag_owner.get(log.entity_id) if ent == "tag" else (ent, log.entity_id)
                link = f"/village/{owner[0]}/{owner[1]}" if owner and owner[0] in ("person", "household") else None
                out.append({"id": log.id, "entity": log.entity, "entity_id": log.entity_id, "action": log.action,
                            "action_label": ACTIONS.get(log.action, log.action),
                            "effective_date": log.effective_date.isoformat() if log.effective_date else None,
                            "when": clock.display(batch.created_at), "who": who or "系统", "source": batch.source,
                            "source_label": SOURCES.get(batch.source, batch.source),
                            "fields": {k: v for k, v in (log.changes or {}).items()},
                            "record": {"entity": owner[0], "id": owner[1]} if owner else None, "link": link})
    out.sort(key=lambda c: (c["effective_date"] or "", c["id"]))
    return out

"""Evaluate indicators over a snapshot with polars: filters become expressions, values are
computed per village in one group-by per subject, and roll up to townships and the county."""

from __future__ import annotations

from datetime import date

import polars as pl

from app.registry.schema import Compute, FieldFilter, Indicator, TagFilter, Where
from app.registry.vocabulary import CONVERSIONS
from app.reporting.frames import Snapshot


def age_date(on: date, month_day: tuple[int, int] | None) -> date:
    """The date ages are counted at: the reference date, or a fixed day of its year (e.g. 31 August)."""
    if month_day is None:
        return on
    month, day = month_day
    if (month, day) == (2, 29) and not (on.year % 4 == 0 and (on.year % 100 != 0 or on.year % 400 == 0)):
        day = 28
    return date(on.year, month, day)


def age_expr(at: date) -> pl.Expr:
    """Whole years of age on ``at`` (a birthday on ``at`` counts)."""
    birth = pl.col("birth_date")
    not_yet = (birth.dt.month().cast(pl.Int32) * 100 + birth.dt.day().cast(pl.Int32)) > (
        at.month * 100 + at.day
    )
    return (pl.lit(at.year) - birth.dt.year().cast(pl.Int32) - not_yet.cast(pl.Int32)).alias("age")


def _field_expr(f: FieldFilter) -> pl.Expr:
    if f.field == "alive":
        return (pl.col("living_status") == "1") if f.value else (pl.col("living_status") != "1")
    col = pl.col(f.field)
    match f.op:
        case "eq":
            return col == f.value
        case "ne":
            return col != f.value
        case "in":
            return col.is_in(f.value)
        case "not_in":
            return ~col.is_in(f.value)
        case "gte":
            return col >= f.value
        case "gt":
            return col > f.value
        case "lte":
            return col <= f.value
        case "lt":
            return col < f.value
    raise ValueError(f.op)


def tag_holders(snap: Snapshot, t: TagFilter, subject: str) -> pl.Series:
    """Ids of the persons (or households) holding tag ``t`` on the snapshot's date."""
    tags = snap.tag_frame(t.code)
    for name, values in t.attrs:
        tags = tags.filter(pl.col(f"attr.{name}").is_in(list(values)))
    column = "household_id" if (t.household or subject == "households") else "person_id"
    return tags.get_column(column).drop_nulls().unique()


def where_expr(snap: Snapshot, where: Where, subject: str) -> pl.Expr:
    """One boolean expression for a ``where`` block on a subject's frame."""
    expr = pl.lit(True)
    for f in where.fields:
        expr = expr & _field_expr(f)
    for t in where.tags:
        key = "household_id" if t.household else "id"
        held = pl.col(key).is_in(tag_holders(snap, t, subject).implode())
        expr = expr & (~held if t.negate else held)
    return expr


def prepared(snap: Snapshot, subject: str, at: date) -> pl.DataFrame:
    """The subject's frame with the derived columns filters may use (cached per snapshot)."""
    return snap.derived(f"{subject}@{at.isoformat()}", lambda: _prepare(snap, subject, at))


def _prepare(snap: Snapshot, subject: str, at: date) -> pl.DataFrame:
    if subject == "persons":
        return snap.persons.with_columns(age_expr(at))
    if subject == "households":
        sizes = (
            snap.persons.filter(pl.col("living_status") == "1")
            .group_by("household_id")
            .agg(pl.len().alias("member_count"))
            .rename({"household_id": "id"})
        )
        return snap.households.join(sizes, on="id", how="left").with_columns(
            pl.col("member_count").fill_null(0).cast(pl.Int64)
        )
    return snap.table(subject)


def observation_period(on: date, period: str) -> tuple[date, date]:
    if period == "previous_year":
        return date(on.year - 1, 1, 1), date(on.year - 1, 12, 31)
    if period == "reference_month":
        nxt = date(on.year + (on.month == 12), on.month % 12 + 1, 1)
        return date(on.year, on.month, 1), date.fromordinal(nxt.toordinal() - 1)
    if period == "reference_quarter":
        first = 3 * ((on.month - 1) // 3) + 1
        last_month = first + 2
        nxt = date(on.year + (last_month == 12), last_month % 12 + 1, 1)
        return date(on.year, first, 1), date.fromordinal(nxt.toordinal() - 1)
    return date(on.year, 1, 1), date(on.year, 12, 31)


def _value_expr(snap: Snapshot, c: Compute, mask_name: str) -> pl.Expr:
    mask = pl.col(mask_name)
    if c.aggregate == "count":
        return mask.sum()
    if c.aggregate == "distinct_households":
        return pl.col("household_id").filter(mask & pl.col("household_id").is_not_null()).n_unique()
    if c.value_field:
        return pl.col(c.value_field).filter(mask).sum()
    if c.tag_attr:
        return pl.col(f"__{c.tag_attr[0]}__{c.tag_attr[1]}").filter(mask).sum()
    raise ValueError(c)


def _with_tag_values(
    snap: Snapshot, frame: pl.DataFrame, subject: str, computes: list[Compute]
) -> pl.DataFrame:
    """Attach numeric tag attributes summed by a ``tag_attr`` indicator as columns of the subject."""
    for c in computes:
        if not c.tag_attr:
            continue
        code, attr = c.tag_attr
        name = f"__{code}__{attr}"
        if name in frame.columns:
            continue
        key = "household_id" if subject == "households" else "person_id"
        values = (snap.tag_frame(code)
                  .select(pl.col(key).alias("__key"), pl.col(f"attr.{attr}").cast(pl.Float64, strict=False).alias(name))
                  .drop_nulls("__key").group_by("__key").agg(pl.col(name).sum()))
        frame = frame.join(values, left_on="id", right_on="__key", how="left")
    return frame


def village_values(
    snap: Snapshot, indicators: list[Indicator], age_on: tuple[int, int] | None = None
) -> pl.DataFrame:
    """One row per village (12-digit code) with one column per indicator code (missing → 0)."""
    on = snap.on
    parts: list[pl.DataFrame] = []
    by_subject: dict[tuple[str, date], list[Indicator]] = {}
    for ind in indicators:
        if ind.compute.subject == "observations":
            continue
        at = age_date(on, ind.compute.age_date or age_on)
        by_subject.setdefault((ind.compute.subject, at), []).append(ind)
    for (subject, at), group in by_subject.items():
        frame = _with_tag_values(snap, prepared(snap, subject, at), subject, [i.compute for i in group])
        # Masks are computed over the whole frame first: membership tests inside a group-by would
        # run once per village.
        masks = {i.code: f"__mask_{n}" for n, i in enumerate(group)}
        frame = frame.with_columns([where_expr(snap, i.compute.where, subject).alias(masks[i.code]) for i in group])
        aggs = [_value_expr(snap, i.compute, masks[i.code]).alias(i.code) for i in group]
        parts.append(frame.group_by("village").agg(aggs))
    for ind in indicators:
        c = ind.compute
        if c.subject != "observations":
            continue
        start, end = observation_period(on, c.period)
        obs = snap.table("observations").filter(
            (pl.col("item_code") == c.item)
            & (pl.col("period_start") >= start)
            & (pl.col("period_end") <= end)
        )
        parts.append(obs.group_by("village").agg(pl.col("value").sum().alias(ind.code)))
    result = pl.DataFrame({"village": pl.Series([], dtype=pl.String)})
    for part in parts:
        result = result.join(part, on="village", how="full", coalesce=True)
    for ind in indicators:
        if ind.code not in result.columns:
            result = result.with_columns(pl.lit(0).alias(ind.code))
        factor = CONVERSIONS[ind.compute.convert] if ind.compute.convert else 1.0
        col = pl.col(ind.code).fill_null(0)
        result = result.with_columns(
            (col.cast(pl.Float64) * factor if factor != 1.0 else col).alias(ind.code)
        )
    return result

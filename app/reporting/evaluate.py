"""Evaluate indicators over a snapshot with polars: filters become expressions, values are
computed per village in one group-by per subject, and roll up to townships and the county."""

from __future__ import annotations

from datetime import date

import polars as pl

from app.registry.schema import Compute, FieldFilter, Indicator, TagFilter, Where
from app.registry.vocabulary import CONVERSIONS
from app.reporting.frames import Snapshot


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _month_day_in(year: int, month: int, day: int) -> date:
    return date(year, month, 28 if (month, day) == (2, 29) and not _leap(year) else day)


def age_date(on: date, month_day: tuple[int, int] | None, rule: str = "same_year") -> date:
    """The date ages are counted at: the reference date, or a fixed day (e.g. 31 August) — of the
    reference year (``same_year``), the last one on or before the reference date (``last``: a school-age
    count in March means last 31 August) or the next one on or after it (``next``: an enrolment forecast)."""
    if month_day is None:
        return on
    month, day = month_day
    this_year = _month_day_in(on.year, month, day)
    if rule == "last" and this_year > on:
        return _month_day_in(on.year - 1, month, day)
    if rule == "next" and this_year < on:
        return _month_day_in(on.year + 1, month, day)
    return this_year


def flow_window(on: date, period: tuple[date, date] | None, name: str) -> tuple[date, date]:
    """The days a flow indicator counts events in (both ends included)."""
    if name == "report_period" and period is not None:
        return period
    if name == "reference_quarter":
        return date(on.year, 3 * ((on.month - 1) // 3) + 1, 1), on
    if name == "reference_year":
        return date(on.year, 1, 1), on
    return date(on.year, on.month, 1), on


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
    """Ids of the persons (or households) holding tag ``t`` (any of its codes) on the snapshot's date."""
    column = "household_id" if (t.household or subject == "households") else "person_id"
    held: list[pl.Series] = []
    for code in t.codes:
        tags = snap.tag_frame(code)
        for name, values in t.attrs:
            tags = tags.filter(pl.col(f"attr.{name}").is_in(list(values)))
        held.append(tags.get_column(column).drop_nulls())
    return pl.concat(held).unique() if len(held) > 1 else held[0].unique()


def flow_ids(snap: Snapshot, subject: str, flow: tuple[str, str | None], window: tuple[date, date]) -> pl.Series:
    """Ids of the subject's records for which the flow event fell within ``window`` (both ends included).

    A tag started when an interval begins in the window and the holder did not hold the tag the day
    before (an attribute change that splits an interval is no new entry); it ended when an interval's
    end (its first day not held) falls in the window and no interval continues it.
    """
    event, code = flow
    start, end = window
    if event in ("tag_started", "tag_ended"):
        assert code is not None
        key = "person_id" if subject == "persons" else "household_id"
        tags = snap.store.tag_frame(code).filter(pl.col(key).is_not_null())
        starts = tags.select(pl.col(key), pl.col("valid_from").alias("day"))
        ends = tags.filter(pl.col("valid_to").is_not_null()).select(pl.col(key), pl.col("valid_to").alias("day"))
        if event == "tag_started":
            hits = starts.join(ends, on=[key, "day"], how="anti")
        else:
            hits = ends.join(starts, on=[key, "day"], how="anti")
        return hits.filter(pl.col("day").is_between(start, end)).get_column(key).unique()
    versions = snap.store.table(subject)
    if event in ("moved_in", "household_created"):
        first = versions.group_by("id").agg(pl.col("valid_from").min().alias("first"),
                                           *( [pl.col("birth_date").first()] if event == "moved_in" else []))
        hits = first.filter(pl.col("first").is_between(start, end))
        if event == "moved_in":  # a birth is counted as a birth, not as a moving in
            hits = hits.filter(pl.col("birth_date") < start)
        return hits.get_column("id")
    frame = snap.table(subject)
    if event == "born":
        return frame.filter(pl.col("birth_date").is_between(start, end)).get_column("id")
    status = {"died": ("living_status", "2"), "moved_out": ("living_status", "3"), "household_closed": ("status", "2")}[event]
    return frame.filter((pl.col(status[0]) == status[1]) & pl.col("status_date").is_between(start, end)).get_column("id")


def where_expr(snap: Snapshot, where: Where, subject: str) -> pl.Expr:
    """One boolean expression for a ``where`` block on a subject's frame."""
    expr = pl.lit(True)
    for f in where.fields:
        expr = expr & _field_expr(f)
    for t in where.tags:
        key = "household_id" if t.household else "id"  # (any_of: held = holds at least one)
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
        # lazy: only the two columns are read (a filter of the whole frame copies every column, +0.3 GB on 1 M)
        sizes = (
            snap.persons.lazy().filter(pl.col("living_status") == "1")
            .group_by("household_id")
            .agg(pl.len().alias("member_count"))
            .rename({"household_id": "id"})
            .collect()
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
    snap: Snapshot, indicators: list[Indicator], age_on: tuple[int, int] | None = None,
    period: tuple[date, date] | None = None,
) -> pl.DataFrame:
    """One row per village (12-digit code) with one column per indicator code (a missing count → 0; a
    missing observation stays null: no data is not zero).

    ``period`` is the report's period (flows count events within it; without one, within the
    reference month up to the reference date)."""
    on = snap.on
    parts: list[pl.DataFrame] = []
    by_subject: dict[tuple[str, date], list[Indicator]] = {}
    for ind in indicators:
        if ind.compute.subject == "observations":
            continue
        c = ind.compute
        at = age_date(on, c.age_date, c.age_rule) if c.age_date else age_date(on, age_on)
        by_subject.setdefault((c.subject, at), []).append(ind)
    for (subject, at), group in by_subject.items():
        frame = _with_tag_values(snap, prepared(snap, subject, at), subject, [i.compute for i in group])
        # Masks are computed over the whole frame first: membership tests inside a group-by would
        # run once per village.
        masks = {i.code: f"__mask_{n}" for n, i in enumerate(group)}

        def mask(ind: Indicator, subject: str = subject) -> pl.Expr:
            expr = where_expr(snap, ind.compute.where, subject)
            if ind.compute.flow is not None:
                window = flow_window(on, period, ind.compute.period)
                expr = expr & pl.col("id").is_in(flow_ids(snap, subject, ind.compute.flow, window).implode())
            return expr

        frame = frame.with_columns([mask(i).alias(masks[i.code]) for i in group])
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
        periodic = ind.compute.subject == "observations"
        if ind.code not in result.columns:
            result = result.with_columns(pl.lit(None if periodic else 0, dtype=pl.Float64 if periodic else pl.Int64).alias(ind.code))
        factor = CONVERSIONS[ind.compute.convert] if ind.compute.convert else 1.0
        # no data is not zero: a village without an observation for the period stays null (shown blank)
        col = pl.col(ind.code) if periodic else pl.col(ind.code).fill_null(0)
        result = result.with_columns(
            (col.cast(pl.Float64) * factor if factor != 1.0 else col).alias(ind.code)
        )
    return result

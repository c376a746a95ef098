"""Rosters (花名册) and change lists (新增/减少): one row per person or household."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import polars as pl

from app.registry.loader import runtime_context
from app.registry.schema import ReportSpec
from app.registry.vocabulary import PERSONAL_FIELDS, ROSTER_FIELDS, code_list_of
from app.reporting import evaluate
from app.reporting.frames import Snapshot
from app.reporting.projections import MASKS, RunContext, _furniture, _header, _sheet_name, render_title
from app.reporting.table import Column, Row, Sheet

#: Tag attributes that contain an ID number (残疾证号 = the ID number + 2 digits): masked like it.
ID_DERIVED = frozenset({"certificate_no"})

_CODE_FIELDS = {"household.kind": ("households", "kind")}


def _tag_columns(snap: Snapshot, frame: pl.DataFrame, subject: str, fields: list[str]) -> pl.DataFrame:
    """Columns ``tag.<code>.<attr>`` from the tags valid on the snapshot date (raw values)."""
    for name in fields:
        _, code, attr = name.split(".")
        household_tag = code in _household_tags()
        key = "household_id" if household_tag else "person_id"
        if attr == "held":
            value = pl.lit("是")
        elif attr in ("valid_from", "valid_to"):
            value = pl.col(attr).cast(pl.String)
        else:
            value = pl.col(f"attr.{attr}")
        values = (snap.tag_frame(code).select(pl.col(key).alias("__k"), value.alias(name))
                  .drop_nulls("__k").unique("__k", keep="first"))
        join_on = "household_id" if household_tag and subject == "persons" else "id"
        frame = frame.join(values, left_on=join_on, right_on="__k", how="left")
    return frame


def _households_frame(snap: Snapshot) -> pl.DataFrame:
    """Household columns a roster may show (head, size, …), computed once per snapshot."""
    return snap.derived("roster_households", lambda: _household_columns(snap))


def _household_columns(snap: Snapshot) -> pl.DataFrame:
    # only the columns used: a filter of the whole frame would copy every column
    persons = snap.persons.select("id", "household_id", "relation", "name", "id_number", "living_status").filter(
        pl.col("living_status") == "1")
    heads = (
        persons.filter(pl.col("relation") == "02")
        .sort("id")
        .unique("household_id", keep="first")
        .select(
            pl.col("household_id").alias("id"),
            pl.col("name").alias("household.head_name"),
            pl.col("id_number").alias("household.head_id_number"),
        )
    )
    sizes = (
        persons.group_by("household_id")
        .agg(pl.len().alias("household.member_count"))
        .rename({"household_id": "id"})
    )
    return (
        snap.households.join(heads, on="id", how="left")
        .join(sizes, on="id", how="left")
        .with_columns(pl.col("household.member_count").fill_null(0))
        .select(
            "id",
            pl.col("number").alias("household.number"),
            pl.col("address").alias("household.address"),
            pl.col("kind").alias("household.kind"),
            "household.head_name",
            "household.head_id_number",
            "household.member_count",
        )
    )


def roster_frame(spec: ReportSpec, snap: Snapshot, ctx: RunContext) -> pl.DataFrame:
    """The filtered subject rows with every column the projection shows (raw codes, unsorted)."""
    at = evaluate.age_date(ctx.on, spec.age_date)
    frame = evaluate.prepared(snap, spec.subject, at)
    frame = frame.filter(
        pl.col("area_code").str.starts_with(ctx.prefix) & evaluate.where_expr(snap, spec.where, spec.subject)
    )
    return _decorate(spec, snap, frame)


def _decorate(spec: ReportSpec, snap: Snapshot, frame: pl.DataFrame) -> pl.DataFrame:
    fields = [leaf.field for leaf in spec.leaves() if leaf.field] + [s.lstrip("-") for s in spec.sort]
    households = _households_frame(snap)
    key = "household_id" if spec.subject == "persons" else "id"
    frame = frame.join(households.rename({"id": "__hh"}), left_on=key, right_on="__hh", how="left")
    names = snap.table("all_areas").select("code", "name")
    frame = (
        frame.join(names.rename({"code": "village", "name": "area.village_name"}), on="village", how="left")
        .join(names.rename({"code": "township", "name": "area.township_name"}), on="township", how="left")
        .with_columns(pl.col("area_code").alias("area.code"))
    )
    if spec.subject == "households":
        frame = frame.with_columns(pl.col("household.head_name").alias("name"))
    return _tag_columns(snap, frame, spec.subject, sorted({f for f in fields if f.startswith("tag.")}))


def _sorted(spec: ReportSpec, frame: pl.DataFrame) -> pl.DataFrame:
    order = list(spec.sort) or (
        ["area.code", "household.number", "relation", "birth_date"]
        if spec.subject == "persons"
        else ["area.code", "household.number"]
    )
    order = [o for o in order if o.lstrip("-") in frame.columns] or ["id"]
    return frame.sort(
        [o.lstrip("-") for o in order], descending=[o.startswith("-") for o in order], nulls_last=True
    )


_derived: dict[str, Any] = {}  # what is derived from the runtime tag types, rebuilt when they change


def _from_tag_types(key: str, build: Any) -> Any:
    """``build(tag_types)`` cached for the tag-type dictionary the app runs on now (a tag type saved in
    the browser gives a new dictionary, see ``runtime_context``), not once per process."""
    types = runtime_context().tag_types
    if _derived.get("source") is not types:
        _derived.clear()
        _derived["source"] = types
    if key not in _derived:
        _derived[key] = build(types)
    return _derived[key]


def _tag_attr_specs() -> dict[tuple[str, str], dict[str, Any]]:
    return _from_tag_types("attrs", lambda types: {(code, a["name"]): a for code, t in types.items() for a in t["attributes"]})


def _display_expr(spec: ReportSpec, ctx: RunContext, field: str) -> pl.Expr:
    """The column as printed: code labels, numbers for numeric tag attributes, masked personal data."""
    col = pl.col(field)
    if field.startswith("tag."):
        _, code, attr = field.split(".")
        attr_spec = _tag_attr_specs().get((code, attr), {})
        if attr in ID_DERIVED and "id_number" not in spec.unmasked:  # e.g. 残疾证号 = ID number + 2 digits
            return col.cast(pl.String).map_elements(MASKS["id_number"], return_dtype=pl.String, skip_nulls=True)
        if attr_spec.get("type") == "code":
            return col.replace(ctx.code_lists.get(attr_spec["code_list"], {}))
        if attr_spec.get("type") == "number":
            return col.cast(pl.Float64, strict=False)
        return col
    subject, name = _CODE_FIELDS.get(field, (spec.subject, field))
    code_list = code_list_of(subject, name)
    if code_list:
        return col.replace(ctx.code_lists.get(code_list, {}))
    personal = ROSTER_FIELDS[field].personal
    if personal and personal not in spec.unmasked:
        return col.map_elements(MASKS[personal], return_dtype=pl.String, skip_nulls=True)
    return col


def _columns(spec: ReportSpec) -> list[Column]:
    out = []
    for leaf in spec.leaves():
        field = ROSTER_FIELDS.get(leaf.field or "")
        kind = field.kind if field else "text"
        if field and field.personal == "id_number" and field.personal not in spec.unmasked:
            kind = "text"
        if leaf.field and leaf.field.startswith("tag."):
            _, code, attr = leaf.field.split(".")
            if _tag_attr_specs().get((code, attr), {}).get("type") == "number":
                kind = "decimal"
        out.append(Column(leaf.key, leaf.label, kind, 2 if kind == "decimal" else 0))  # type: ignore[arg-type]
    return out


def _rows(spec: ReportSpec, ctx: RunContext, frame: pl.DataFrame, extra: dict[str, list[Any]] | None = None) -> list[Row]:
    """Body rows, built column-wise in polars and turned into ``Row`` objects once."""
    leaves = spec.leaves()
    grouped = spec.group_by_household and spec.subject == "persons"
    new_block = (pl.col("household_id") != pl.col("household_id").shift(1)).fill_null(True) | pl.col("household_id").is_null()
    exprs: list[pl.Expr] = []
    for leaf in leaves:
        if leaf.pending:  # a draft's unmatched column: blank, for someone to fill
            exprs.append(pl.lit(None, dtype=pl.String).alias(leaf.key))
        elif leaf.field == "seq":
            exprs.append((new_block.cum_sum() if grouped else pl.int_range(1, pl.len() + 1)).cast(pl.Int64).alias(leaf.key))
        elif extra and leaf.field in extra:
            exprs.append(pl.Series(leaf.key, extra[leaf.field], dtype=pl.String).alias(leaf.key) if frame.height
                         else pl.lit(None, dtype=pl.String).alias(leaf.key))
        else:
            exprs.append(_display_expr(spec, ctx, leaf.field or "").alias(leaf.key))
    keys = [leaf.key for leaf in leaves]
    shown = frame.select(*exprs, pl.col("household_id").cast(pl.String).alias("__group")) if grouped else frame.select(*exprs)
    rows: list[Row] = []
    for values in shown.iter_rows():
        rows.append(Row(dict(zip(keys, values, strict=False)), "data", values[-1] if grouped else None))
    return rows


def _household_tags() -> frozenset[str]:
    return _from_tag_types("household", lambda types: frozenset(code for code, t in types.items() if t["subject"] == "household"))


def _household_level(field: str) -> bool:
    """Same for every member of a household: household fields and attributes of household tags (低保类别, 月保障金额)."""
    if field.startswith("tag."):
        return field.split(".")[1] in _household_tags()
    return ROSTER_FIELDS.get(field, ROSTER_FIELDS["name"]).household_level


def _merge_keys(spec: ReportSpec) -> list[str]:
    if not (spec.group_by_household and spec.subject == "persons"):
        return []
    return [
        leaf.key
        for leaf in spec.leaves()
        if leaf.field and (leaf.field == "seq" or _household_level(leaf.field))
    ]


def roster(spec: ReportSpec, snap: Snapshot, ctx: RunContext) -> Any:
    frame = _sorted(spec, roster_frame(spec, snap, ctx))
    numbers = [str(i) for i in range(1, len(spec.leaves()) + 1)] if spec.column_numbers else None
    sheet = Sheet(
        _sheet_name(render_title(spec, ctx)),
        render_title(spec, ctx),
        _header(spec.columns),
        _columns(spec),
        _rows(spec, ctx, frame),
        merge_columns=_merge_keys(spec),
        column_numbers=numbers,
        notes=list(spec.notes),
    )
    sheet.notes = [
        *sheet.notes,
        f"共 {frame.height} 人" if spec.subject == "persons" else f"共 {frame.height} 户",
    ]
    return _furniture(spec, ctx, [sheet], snap.version)


# ---------------------------------------------------------------------------------- change list


def _reasons(
    spec: ReportSpec, ids: list[int], before: pl.DataFrame, after: pl.DataFrame, start: date, added: bool
) -> list[str]:
    """Why each row entered or left the list, from the two states."""
    b = {r["id"]: r for r in before.filter(pl.col("id").is_in(ids)).iter_rows(named=True)}
    a = {r["id"]: r for r in after.filter(pl.col("id").is_in(ids)).iter_rows(named=True)}
    out = []
    for i in ids:
        old, new = b.get(i), a.get(i)
        if spec.subject == "persons":
            if added:
                if old is None:
                    out.append(
                        "出生" if new and new["birth_date"] and new["birth_date"] >= start else "迁入或新登记"
                    )
                elif old["village"] != new["village"]:
                    out.append("迁入")
                else:
                    out.append("新纳入")
            elif new is None:
                out.append("记录撤销")
            elif new["living_status"] == "2":
                out.append("死亡")
            elif new["living_status"] == "3":
                out.append("迁出")
            elif old and old["village"] != new["village"]:
                out.append("迁出本区划")
            else:
                out.append("退出（条件不再满足）" if not spec.where.tags else "退出（标签终止）")
        elif added:
            out.append("新立户" if old is None else "新纳入")
        else:
            out.append(
                "注销"
                if new is not None and new["status"] == "2"
                else "退出（标签终止）"
                if spec.where.tags
                else "退出（条件不再满足）"
            )
    return out


def _with_end_status(spec: ReportSpec, removed: pl.DataFrame, after: pl.DataFrame) -> pl.DataFrame:
    """A person who left the list shows how they left (死亡/迁出 and its date) as of the period's end."""
    if spec.subject != "persons" or removed.is_empty():
        return removed
    cols = ["living_status", "status_date", "moved_to"]
    late = after.select("id", *[pl.col(c).alias(f"__end_{c}") for c in cols])
    return (
        removed.join(late, on="id", how="left")
        .with_columns([pl.coalesce(pl.col(f"__end_{c}"), pl.col(c)).alias(c) for c in cols])
        .drop([f"__end_{c}" for c in cols])
    )


def change_list(spec: ReportSpec, before: Snapshot, after: Snapshot, ctx: RunContext) -> Any:
    """新增 and 减少 between the day before the period and its last day."""
    assert ctx.period is not None
    start = ctx.period[0]
    at0 = evaluate.age_date(before.on, spec.age_date)
    at1 = evaluate.age_date(after.on, spec.age_date)
    f0 = evaluate.prepared(before, spec.subject, at0)
    f1 = evaluate.prepared(after, spec.subject, at1)
    in0 = f0.filter(
        pl.col("area_code").str.starts_with(ctx.prefix)
        & evaluate.where_expr(before, spec.where, spec.subject)
    )
    in1 = f1.filter(
        pl.col("area_code").str.starts_with(ctx.prefix) & evaluate.where_expr(after, spec.where, spec.subject)
    )
    ids0, ids1 = set(in0.get_column("id").to_list()), set(in1.get_column("id").to_list())
    added = _sorted(spec, _decorate(spec, after, in1.filter(pl.col("id").is_in(sorted(ids1 - ids0)))))
    removed = _sorted(
        spec,
        _decorate(
            spec, before, _with_end_status(spec, in0.filter(pl.col("id").is_in(sorted(ids0 - ids1))), f1)
        ),
    )
    rows: list[Row] = []
    for frame, label, is_added, state in ((added, "新增", True, f1), (removed, "减少", False, f1)):
        ids = frame.get_column("id").to_list()
        reasons = _reasons(spec, ids, f0, state, start, is_added)
        rows += _rows(spec, ctx, frame, {"change_type": [label] * len(ids), "change_reason": reasons})
    noun = "人" if spec.subject == "persons" else "户"
    sheet = Sheet(
        _sheet_name(render_title(spec, ctx)),
        render_title(spec, ctx),
        _header(spec.columns),
        _columns(spec),
        rows,
        column_numbers=[str(i) for i in range(1, len(spec.leaves()) + 1)] if spec.column_numbers else None,
        notes=[*spec.notes, f"本期新增 {added.height} {noun}，减少 {removed.height} {noun}"],
    )
    return _furniture(spec, ctx, [sheet], after.version)


def day_before(d: date) -> date:
    return d - timedelta(days=1)


__all__ = ["PERSONAL_FIELDS", "change_list", "day_before", "roster", "roster_frame"]

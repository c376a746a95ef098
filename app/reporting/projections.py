"""Turn a report projection and a snapshot into a finished ``Report`` (layout-level table).

One function per kind: area summary, roster, indicator rows, change list. They share the header
tree, the form furniture (title, statutory block, filler, period and unit lines, footer) and masking.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

import polars as pl

from app import clock
from app.registry.schema import ColumnNode, Indicator, ReportSpec
from app.registry.vocabulary import AREA_LEVELS
from app.reporting import evaluate
from app.reporting.frames import Snapshot
from app.reporting.safe import mask_address, mask_id_number, mask_phone
from app.reporting.table import Column, HeaderCell, Report, Row, Sheet

MASKS = {"id_number": mask_id_number, "phone": mask_phone, "address": mask_address}
LEVEL_PREFIX = {3: 6, 4: 9, 5: 12, 6: 15}


@dataclass(frozen=True)
class RunContext:
    """What a run is for: the area (a code and its name), the reference date or period, and labels."""

    area_code: str
    area_name: str
    on: date
    period: tuple[date, date] | None
    code_lists: dict[str, dict[str, str]]
    generated_at: datetime
    generated_by: str
    department_label: str

    @property
    def prefix(self) -> str:
        level = 3 if self.area_code[6:].strip("0") == "" else 4 if self.area_code[9:].strip("0") == "" else 5
        if len(self.area_code) == 15:
            level = 6
        return self.area_code[: LEVEL_PREFIX[level]]


def _chinese_date(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def _period_text(ctx: RunContext, spec: ReportSpec) -> str:
    if ctx.period is None:
        return f"{ctx.on.year}年{ctx.on.month}月" if spec.frequency == "monthly" else _chinese_date(ctx.on)
    start, end = ctx.period
    if start.day == 1 and start.month == end.month and start.year == end.year:
        return f"{start.year}年{start.month}月"
    if start == date(start.year, 1, 1) and end == date(start.year, 12, 31):
        return f"{start.year}年"
    return f"{_chinese_date(start)}至{_chinese_date(end)}"


def _furniture(spec: ReportSpec, ctx: RunContext, sheets: list[Sheet], snap_version: int) -> Report:
    if spec.kind == "change_list" and ctx.period is not None:
        period_line = f"报告期：{_period_text(ctx, spec)}"
    else:
        period_line = f"截至{_chinese_date(ctx.on)}"
    footer = [
        (name, _chinese_date(clock.local(ctx.generated_at).date()) if name == "报出日期" else "") for name in spec.footer
    ]
    meta = {
        "报表": spec.ref,
        "报表名称": render_title(spec, ctx),  # placeholders filled, in every output format
        "参考日期": ctx.on.isoformat(),
        "报告期": f"{ctx.period[0].isoformat()}..{ctx.period[1].isoformat()}" if ctx.period else "",
        "区划": f"{ctx.area_code} {ctx.area_name}",
        "生成时间": clock.display(ctx.generated_at),  # local time of YBT_TIMEZONE, readable
        "数据版本": str(snap_version),
        "生成人": ctx.generated_by,
    }
    return Report(
        sheets=sheets,
        statutory=dict(spec.statutory),
        filler=f"填报单位（盖章）：{ctx.area_name}{ctx.department_label}",
        period_line=period_line,
        unit_line=spec.unit_line,
        footer=footer,
        meta=meta,
        paper=spec.paper,
    )  # type: ignore[arg-type]


def render_title(spec: ReportSpec, ctx: RunContext) -> str:
    return (
        spec.title.replace("{area}", ctx.area_name)
        .replace("{period}", _period_text(ctx, spec))
        .replace("{date}", _chinese_date(ctx.on))
    )


def _header(nodes: tuple[ColumnNode, ...]) -> list[HeaderCell]:
    return [
        HeaderCell(n.label, _header(n.children)) if n.children else HeaderCell(n.label, key=n.key)
        for n in nodes
    ]


def _sheet_name(text: str) -> str:
    for ch in "[]:*?/\\":
        text = text.replace(ch, "")
    return text[:31] or "Sheet1"


# ---------------------------------------------------------------------------------- area summary


def _areas_in_scope(snap: Snapshot, ctx: RunContext, level: int) -> pl.DataFrame:
    return snap.areas.filter((pl.col("level") == level) & pl.col("code").str.starts_with(ctx.prefix)).sort(
        "code"
    )


def _rolled(
    values: pl.DataFrame, codes: list[str], key_len: int, indicators: list[Indicator]
) -> dict[str, dict[str, float]]:
    """Indicator values summed over every village whose code starts with each code's prefix."""
    frame = values.with_columns(pl.col("village").str.slice(0, key_len).alias("__key"))
    periodic = {i.code for i in indicators if i.compute.subject == "observations"}
    # a sum over villages none of which reported an observation is "no data", not 0
    sums = frame.group_by("__key").agg([
        pl.when(pl.col(i.code).is_not_null().any()).then(pl.col(i.code).sum()).otherwise(None).alias(i.code)
        if i.code in periodic else pl.col(i.code).sum() for i in indicators])
    by_key = {r["__key"]: r for r in sums.iter_rows(named=True)}
    return {
        code: {i.code: _or_zero((by_key.get(code[:key_len]) or {}).get(i.code), i.code in periodic) for i in indicators}
        for code in codes
    }


def _or_zero(value: Any, periodic: bool) -> Any:
    return value if periodic else (value or 0)


NO_VALUE = "—"  # a division by zero, or a comparison without a base


def _base(kind: str) -> str:
    """Which other date a comparison reads: the previous period's end or a year earlier."""
    return "last_year" if "last_year" in kind else "previous"


def previous_end(on: date, frequency: str, which: str) -> date:
    """The end of the previous period (``previous``) or the same day a year earlier (``last_year``)."""
    if which == "last_year":
        return date(on.year - 1, on.month, 28 if (on.month, on.day) == (2, 29) else on.day)
    months = {"quarterly": 3, "half_yearly": 6, "yearly": 12}.get(frequency, 1)
    if months == 12:
        return date(on.year - 1, on.month, 28 if (on.month, on.day) == (2, 29) else on.day)
    first = date(on.year, ((on.month - 1) // months) * months + 1, 1)
    return date.fromordinal(first.toordinal() - 1)


def _shifted(period: tuple[date, date] | None, end: date) -> tuple[date, date] | None:
    """The report period moved to end on ``end`` (same length in months)."""
    if period is None:
        return None
    start, last = period
    months = (last.year - start.year) * 12 + last.month - start.month
    first_month = end.month - months
    year = end.year + (first_month - 1) // 12
    return date(year, (first_month - 1) % 12 + 1, 1), end


def _derive(op: str, values: list[Any], decimals: int) -> Any:
    """A derived cell from the row's (already summed) parts: never an error, "—" for ÷0 or no data."""
    if any(x is None or x == NO_VALUE for x in values):
        return NO_VALUE
    if op == "sum":
        return round(sum(values), decimals)
    a, b = values
    if op == "difference":
        return round(a - b, decimals)
    if b == 0:
        return NO_VALUE
    return round(a / b * (100 if op == "share" else 1), decimals)


def _compared(kind: str, now: Any, before: Any, decimals: int) -> Any:
    if kind in ("previous", "last_year"):
        return before
    kind = kind.replace("change_last_year", "change")
    if now is None or before is None:
        return NO_VALUE
    if kind.endswith("_pct"):
        return NO_VALUE if before == 0 else round((now - before) / before * 100, 1)
    return round(now - before, decimals)


def summary_values(
    spec: ReportSpec, snap: Snapshot, ctx: RunContext, indicators: dict[str, Indicator]
) -> tuple[pl.DataFrame, list[Indicator]]:
    """Per village, the values of the summary's indicators, and of the comparisons (CODE@kind)."""
    leaves = spec.leaves()
    codes = spec.indicator_codes()
    used = [indicators[code] for code in codes]
    values = evaluate.village_values(snap, used, spec.age_date, ctx.period)
    # comparison values: the same indicators at the previous period's end / a year earlier, renamed CODE@kind
    for kind in sorted({_base(leaf.compare) for leaf in leaves if leaf.compare}
                       | {o.partition("@")[2] for leaf in leaves if leaf.derived for o in leaf.derived.operands} - {""}):
        end = previous_end(ctx.on, spec.frequency, kind)
        other = evaluate.village_values(snap.store.snapshot(end), used, spec.age_date, _shifted(ctx.period, end))
        other = other.rename({i.code: f"{i.code}@{kind}" for i in used})
        values = values.join(other, on="village", how="full", coalesce=True)
        used = [*used, *(replace(i, code=f"{i.code}@{kind}") for i in indicators.values() if i.code in codes)]
    return values, used


def summary_row(spec: ReportSpec, indicators: dict[str, Indicator], name: str, code: str, vals: dict[str, Any],
                kind: str) -> Row:
    """One row of an area summary from its (summed) values: plain, derived and compared columns."""
    data: dict[str, Any] = {"name": name, "code": code}
    for leaf in spec.leaves():
        if leaf.blank or leaf.pending:  # filled by hand / an indicator still to be created: empty
            data[leaf.key] = None
        elif leaf.derived is not None:
            data[leaf.key] = _derive(leaf.derived.op, [vals.get(o, 0) for o in leaf.derived.operands],
                                     leaf.derived.decimals)
        elif leaf.compare:
            data[leaf.key] = _compared(leaf.compare, vals.get(leaf.indicator or "", 0),
                                       vals.get(f"{leaf.indicator}@{_base(leaf.compare)}", 0),
                                       indicators[leaf.indicator or ""].decimals)
        else:  # a draft's unmatched column has no indicator: left blank
            data[leaf.key] = vals.get(leaf.indicator, 0) if leaf.indicator else None
    return Row(data, kind)  # type: ignore[arg-type]


def summary_columns(spec: ReportSpec, indicators: dict[str, Indicator]) -> tuple[list[Column], list[HeaderCell]]:
    label_cols = [Column("name", "单位名称", "text")]
    header = [HeaderCell("单位名称", key="name")]
    if spec.rows.show_code:
        label_cols.append(Column("code", "区划代码", "id"))
        header.append(HeaderCell("区划代码", key="code"))
    return label_cols + [_leaf_column(leaf, indicators) for leaf in spec.leaves()], header + _header(spec.columns)


def summary_sheet(spec: ReportSpec, ctx: RunContext, columns: list[Column], header: list[HeaderCell],
                  rows: list[Row]) -> Sheet:
    label_count = 2 if spec.rows.show_code else 1
    numbers = None
    if spec.column_numbers:
        numbers = ["甲", "乙"][:label_count] + [str(i) for i in range(1, len(spec.leaves()) + 1)]
    return Sheet(_sheet_name(render_title(spec, ctx)), render_title(spec, ctx), header, columns, rows,
                 column_numbers=numbers, notes=list(spec.notes))


def area_summary(
    spec: ReportSpec, snap: Snapshot, ctx: RunContext, indicators: dict[str, Indicator]
) -> Report:
    values, used = summary_values(spec, snap, ctx, indicators)
    level = AREA_LEVELS[spec.rows.level]
    areas = _areas_in_scope(snap, ctx, level)
    area_rows = list(areas.iter_rows(named=True))
    key_len = LEVEL_PREFIX[level]
    row_values = _rolled(values, [a["code"] for a in area_rows], key_len, used)

    columns, header = summary_columns(spec, indicators)

    def row_of(name: str, code: str, vals: dict[str, float], kind: str) -> Row:
        return summary_row(spec, indicators, name, code, vals, kind)

    rows: list[Row] = []
    # subtotals one level up (villages → townships), unless the report covers a single such area
    subtotal_level = level - 1
    if spec.rows.subtotals and subtotal_level >= 4 and len(ctx.prefix) < LEVEL_PREFIX[subtotal_level]:
        parents = _areas_in_scope(snap, ctx, subtotal_level)
        parent_len = LEVEL_PREFIX[subtotal_level]
        parent_values = _rolled(values, parents.get_column("code").to_list(), parent_len, used)
        for parent in parents.iter_rows(named=True):
            children = [a for a in area_rows if a["code"].startswith(parent["code"][:parent_len])]
            rows.append(
                row_of(f"{parent['name']}小计", parent["code"], parent_values[parent["code"]], "subtotal")
            )
            rows += [row_of(a["name"], a["code"], row_values[a["code"]], "data") for a in children]
    else:
        rows += [row_of(a["name"], a["code"], row_values[a["code"]], "data") for a in area_rows]
    if spec.rows.total != "none":
        total = _rolled(values, [ctx.prefix], len(ctx.prefix), used)[ctx.prefix]
        total_row = row_of("合计", ctx.area_code, total, "total")
        rows = [total_row, *rows] if spec.rows.total == "top" else [*rows, total_row]
    sheet = summary_sheet(spec, ctx, columns, header, rows)
    return _furniture(spec, ctx, [sheet], snap.version)


def _kind(indicator: Indicator) -> str:
    return "decimal" if indicator.decimals else "integer"


def _value_column(label: str, used: list[Indicator]) -> Column:
    """The value column of an indicator-as-row table: integers when every indicator is a count
    (no "12.00"), else the most decimals any indicator asks for."""
    decimals = max((i.decimals for i in used), default=0)
    return Column("value", label, "decimal" if decimals else "integer", decimals)


def _leaf_column(leaf: ColumnNode, indicators: dict[str, Indicator]) -> Column:
    if leaf.blank or leaf.pending:
        return Column(leaf.key, leaf.label, "text")
    if leaf.derived is not None:
        return Column(leaf.key, leaf.label, "decimal" if leaf.derived.decimals else "integer", leaf.derived.decimals)
    if not leaf.indicator:  # a draft's unmatched column (需新建指标): left blank
        return Column(leaf.key, leaf.label, "integer")
    indicator = indicators[leaf.indicator]
    if leaf.compare and leaf.compare.endswith("_pct"):
        return Column(leaf.key, leaf.label, "decimal", 1)
    return Column(leaf.key, leaf.label, _kind(indicator), indicator.decimals)


# ---------------------------------------------------------------------------------- indicator rows


def indicator_rows(
    spec: ReportSpec, snap: Snapshot, ctx: RunContext, indicators: dict[str, Indicator]
) -> Report:
    """One sheet per area at ``rows.level``: 指标名称 | 计量单位 | 代码 | value (headed ``rows.value_label``,
    e.g. 本年; codes are the form's own ``row_code`` where given). Counts are written as integers."""
    leaves = [leaf for leaf in spec.leaves() if leaf.indicator]
    used = [indicators[leaf.indicator or ""] for leaf in leaves]
    values = evaluate.village_values(snap, list({i.code: i for i in used}.values()), spec.age_date)
    level = AREA_LEVELS[spec.rows.level]
    if len(ctx.prefix) > LEVEL_PREFIX[level]:
        level = {6: 6, 12: 5, 9: 4, 15: 6}[len(ctx.prefix)]
    areas = _areas_in_scope(snap, ctx, level)
    key_len = LEVEL_PREFIX[level]
    vals = _rolled(values, areas.get_column("code").to_list(), key_len, used)
    columns = [
        Column("name", "指标名称"),
        Column("unit", "计量单位"),
        Column("code", "代码"),
        _value_column(spec.rows.value_label, used),
    ]
    sheets = []
    for area in areas.iter_rows(named=True):
        rows = [
            Row(
                {
                    "name": leaf.label,
                    "unit": indicators[leaf.indicator].unit,
                    "code": leaf.row_code or f"{n:02d}",
                    "value": vals[area["code"]].get(leaf.indicator, 0),
                }
            )
            for n, leaf in enumerate(leaves, 1)
        ]
        title = render_title(
            spec,
            RunContext(
                area["code"],
                area["name"],
                ctx.on,
                ctx.period,
                ctx.code_lists,
                ctx.generated_at,
                ctx.generated_by,
                ctx.department_label,
            ),
        )
        numbers = ["甲", "乙", "丙", "1"] if spec.column_numbers else None
        sheets.append(
            Sheet(
                _sheet_name(area["name"]),
                title,
                [],
                columns,
                rows,
                column_numbers=numbers,
                notes=list(spec.notes),
            )
        )
    return _furniture(spec, ctx, sheets, snap.version)

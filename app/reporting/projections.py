"""Turn a report projection and a snapshot into a finished ``Report`` (layout-level table).

One function per kind: area summary, roster, indicator rows, change list. They share the header
tree, the form furniture (title, statutory block, filler, period and unit lines, footer) and masking.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import polars as pl

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
        (name, _chinese_date(ctx.generated_at.date()) if name == "报出日期" else "") for name in spec.footer
    ]
    meta = {
        "报表": spec.ref,
        "报表名称": spec.title,
        "参考日期": ctx.on.isoformat(),
        "报告期": f"{ctx.period[0].isoformat()}..{ctx.period[1].isoformat()}" if ctx.period else "",
        "区划": f"{ctx.area_code} {ctx.area_name}",
        "生成时间": ctx.generated_at.isoformat(timespec="seconds"),
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
    sums = frame.group_by("__key").agg([pl.col(i.code).sum() for i in indicators])
    by_key = {r["__key"]: r for r in sums.iter_rows(named=True)}
    return {
        code: {i.code: (by_key.get(code[:key_len]) or {}).get(i.code, 0) or 0 for i in indicators}
        for code in codes
    }


def area_summary(
    spec: ReportSpec, snap: Snapshot, ctx: RunContext, indicators: dict[str, Indicator]
) -> Report:
    leaves = spec.leaves()
    used = [indicators[leaf.indicator] for leaf in leaves if leaf.indicator]
    values = evaluate.village_values(snap, list({i.code: i for i in used}.values()), spec.age_date)
    level = AREA_LEVELS[spec.rows.level]
    areas = _areas_in_scope(snap, ctx, level)
    area_rows = list(areas.iter_rows(named=True))
    key_len = LEVEL_PREFIX[level]
    row_values = _rolled(values, [a["code"] for a in area_rows], key_len, used)

    label_cols = [Column("name", "单位名称", "text")]
    header = [HeaderCell("单位名称", key="name")]
    if spec.rows.show_code:
        label_cols.append(Column("code", "区划代码", "id"))
        header.append(HeaderCell("区划代码", key="code"))
    columns = label_cols + [
        Column(leaf.key, leaf.label, _kind(indicators[leaf.indicator]), indicators[leaf.indicator].decimals)
        if leaf.indicator else Column(leaf.key, leaf.label, "integer")  # a draft's unmatched column: left blank
        for leaf in leaves
    ]
    header += _header(spec.columns)

    def row_of(name: str, code: str, vals: dict[str, float], kind: str) -> Row:
        data: dict[str, Any] = {"name": name, "code": code}
        for leaf in leaves:
            data[leaf.key] = vals.get(leaf.indicator, 0) if leaf.indicator else None
        return Row(data, kind)  # type: ignore[arg-type]

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
    numbers = None
    if spec.column_numbers:
        numbers = ["甲", "乙"][: len(label_cols)] + [str(i) for i in range(1, len(leaves) + 1)]
    sheet = Sheet(
        _sheet_name(render_title(spec, ctx)),
        render_title(spec, ctx),
        header,
        columns,
        rows,
        column_numbers=numbers,
        notes=list(spec.notes),
    )
    return _furniture(spec, ctx, [sheet], snap.version)


def _kind(indicator: Indicator) -> str:
    return "decimal" if indicator.decimals else "integer"


# ---------------------------------------------------------------------------------- indicator rows


def indicator_rows(
    spec: ReportSpec, snap: Snapshot, ctx: RunContext, indicators: dict[str, Indicator]
) -> Report:
    """One sheet per area at ``rows.level``: 指标名称 | 计量单位 | 代码 | value."""
    leaves = spec.leaves()
    used = [indicators[leaf.indicator] for leaf in leaves]
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
        Column("value", "数值", "decimal", 2),
    ]
    sheets = []
    for area in areas.iter_rows(named=True):
        rows = [
            Row(
                {
                    "name": leaf.label,
                    "unit": indicators[leaf.indicator].unit,
                    "code": f"{n:02d}",
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

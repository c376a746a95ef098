"""Province (or city) roll-ups of an area summary, county by county with bounded memory.

One store of a whole province would hold tens of millions of persons (README "Province scale"). A
roll-up instead reads one county at a time (``Store(county=…)``: the county's entities, tags and
observations), computes that county's per-village values exactly as a county report does
(``projections.summary_values``), keeps only those few hundred rows, and lets the county's store go
once more than ``lru`` counties are held (``CountyStores``: least recently used first). Area
summaries are sums, so the merge is a concatenation of the village values and the same roll-up as
a county report: one row per county, a subtotal per city (4-digit prefix), the province (2 digits)
or city total; derived and compared columns are computed from the summed parts, as in any summary.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import date
from typing import Any

import polars as pl
from sqlalchemy.engine import Engine

from app.registry.schema import Indicator, ReportSpec
from app.reporting import projections
from app.reporting.frames import Store
from app.reporting.projections import RunContext, _rolled, summary_columns, summary_row, summary_sheet
from app.reporting.store_delta import data_version
from app.reporting.store_read import read_table
from app.reporting.table import Report, Row

PREFIX = {1: 2, 2: 4, 3: 6}  # area level → length of its code prefix (province, city, county)


class CountyStores:
    """At most ``size`` county stores in memory, the least recently used dropped first."""

    def __init__(self, engine: Engine, size: int = 2):
        if size < 1:
            raise ValueError(size)
        self.engine, self.size = engine, size
        self._stores: OrderedDict[tuple[str, int], Store] = OrderedDict()
        self.reads = 0  # county stores made (a miss of the LRU)

    def get(self, county: str, version: int) -> Store:
        key = (county, version)
        store = self._stores.get(key)
        if store is None:
            store = Store(self.engine, version, county=county)
            self.reads += 1
            self._stores[key] = store
            while len(self._stores) > self.size:
                self._stores.popitem(last=False)[1].release()
        else:
            self._stores.move_to_end(key)
        return store

    def __len__(self) -> int:
        return len(self._stores)


def area_level(code: str, areas: pl.DataFrame) -> int | None:
    found = areas.filter(pl.col("code") == code)
    return int(found.get_column("level")[0]) if found.height else None


def _in_force(areas: pl.DataFrame, on: date) -> pl.DataFrame:
    return areas.filter((pl.col("valid_from") <= on) & (pl.col("valid_to").is_null() | (pl.col("valid_to") > on)))


def rollup(engine: Engine, spec: ReportSpec, ctx: RunContext, indicators: dict[str, Indicator], *,
           lru: int = 2, stores: CountyStores | None = None) -> Report:
    """``spec`` (an area summary) for a province or city ``ctx.area_code``: county rows, city subtotals, a total."""
    version = data_version(engine)
    areas = _in_force(read_table(engine, "areas"), ctx.on)
    level = area_level(ctx.area_code, areas)
    if level not in (1, 2):
        raise ValueError(ctx.area_code)
    prefix = ctx.area_code[:PREFIX[level]]
    in_scope = areas.filter(pl.col("code").str.starts_with(prefix)).sort("code")
    counties = in_scope.filter(pl.col("level") == 3)
    cities = in_scope.filter(pl.col("level") == 2)
    stores = stores if stores is not None else CountyStores(engine, lru)
    parts: list[pl.DataFrame] = []
    used: list[Indicator] = []
    for county in counties.get_column("code").to_list():
        county_prefix = county[:6]
        snap = stores.get(county_prefix, version).snapshot(ctx.on)
        county_ctx = RunContext(county, "", ctx.on, ctx.period, ctx.code_lists, ctx.generated_at, ctx.generated_by,
                                ctx.department_label)
        values, used = projections.summary_values(spec, snap, county_ctx, indicators)
        # a county's store holds every version of entities that were ever in it: keep its own villages
        parts.append(values.filter(pl.col("village").str.starts_with(county_prefix)))
    if not parts:
        values = pl.DataFrame({"village": pl.Series([], dtype=pl.String)})
        used = []
    else:
        values = pl.concat(parts, how="diagonal_relaxed")

    def rolled(codes_in: list[str], key_len: int) -> dict[str, dict[str, Any]]:
        if not used:
            return {c: {} for c in codes_in}
        return _rolled(values, codes_in, key_len, used)

    county_values = rolled(counties.get_column("code").to_list(), 6)
    city_values = rolled(cities.get_column("code").to_list(), 4)
    columns, header = summary_columns(spec, indicators)
    rows: list[Row] = []
    for city in cities.iter_rows(named=True):
        members = [c for c in counties.iter_rows(named=True) if c["code"].startswith(city["code"][:4])]
        if level == 1:
            rows.append(summary_row(spec, indicators, f"{city['name']}小计", city["code"], city_values[city["code"]], "subtotal"))
        rows += [summary_row(spec, indicators, c["name"], c["code"], county_values[c["code"]], "data") for c in members]
    covered = {r.values["code"] for r in rows}
    # counties directly under the province (no city level in the area table)
    rows += [summary_row(spec, indicators, c["name"], c["code"], county_values[c["code"]], "data")
             for c in counties.iter_rows(named=True) if c["code"] not in covered]
    if spec.rows.total != "none":
        total = rolled([prefix], len(prefix))[prefix]
        total_row = summary_row(spec, indicators, "合计", ctx.area_code, total, "total")
        rows = [total_row, *rows] if spec.rows.total == "top" else [*rows, total_row]
    sheet = summary_sheet(spec, ctx, columns, header, rows)
    return projections._furniture(spec, ctx, [sheet], version)  # noqa: SLF001

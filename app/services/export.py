"""Export base tables to CSV or Parquet, current or as of a date, with documented column names.

The column names are the model's field names (English, stable); ``COLUMN_DOCS`` gives each one's
Chinese label for the README and for other systems. ID numbers are always text.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
from sqlalchemy import Select, select
from sqlalchemy.engine import Engine

from app.models import VERSIONED, Area, Observation, Tag
from app.reporting.safe import FORMULA_TRIGGERS
from app.services.history import areas_as_of_select, as_of_select, tags_as_of_select

TABLES = ("persons", "households", "houses", "organisations", "tags", "observations", "areas")
_ENTITY = {"persons": "person", "households": "household", "houses": "house", "organisations": "organisation"}


def export_select(table: str, on: date | None) -> Select:
    """The query behind an export: current state, or the state on ``on`` (history included)."""
    if table in _ENTITY:
        entity = _ENTITY[table]
        if on is not None:
            return as_of_select(entity, on)
        current, _ = VERSIONED[entity]
        return select(current).order_by(current.id)
    if table == "tags":
        return tags_as_of_select(on) if on is not None else select(Tag).order_by(Tag.id)
    if table == "areas":
        return areas_as_of_select(on) if on is not None else select(Area).order_by(Area.code)
    if table == "observations":
        query = select(Observation).order_by(Observation.id)
        return query.where(Observation.period_end <= on) if on is not None else query
    raise ValueError(table)


def read_frame(engine: Engine, query: Select) -> pl.DataFrame:
    """Run a query into a polars frame; text columns stay text (ID numbers never become numbers)."""
    with engine.connect() as conn:
        result = conn.execute(query)
        columns = list(result.keys())
        rows = result.fetchall()
    data = {name: [row[i] for row in rows] for i, name in enumerate(columns)}
    frame = pl.DataFrame(data, strict=False, infer_schema_length=None)
    for name in ("attrs", "attributes", "changes"):
        if name in frame.columns:
            import json

            frame = frame.with_columns(pl.Series(name, [json.dumps(v, ensure_ascii=False) for v in data[name]]))
    return frame


def export_table(engine: Engine, table: str, fmt: str, out: Path, on: date | None = None) -> int:
    """Write one table to ``out``; returns the row count."""
    if table not in TABLES:
        raise ValueError(table)
    frame = read_frame(engine, export_select(table, on))
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        # UTF-8 with BOM so Excel shows Chinese; every value that looks like a formula is defused.
        triggers = list(FORMULA_TRIGGERS)
        frame = frame.with_columns(
            pl.when(pl.col(c).str.starts_with(triggers[0]) | pl.any_horizontal(pl.col(c).str.starts_with(t) for t in triggers[1:]))
            .then(pl.lit("'") + pl.col(c)).otherwise(pl.col(c)).alias(c)
            for c, t in frame.schema.items() if t == pl.String
        )
        frame.write_csv(out, include_bom=True)
    elif fmt == "parquet":
        frame.write_parquet(out)
    else:
        raise ValueError(fmt)
    return frame.height

"""Export base tables to CSV or Parquet, current or as of a date, with documented column names.

The column names are the model's field names (English, stable); ``COLUMN_DOCS`` gives each one's
Chinese label for the README and for other systems. ID numbers are always text.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import Select, select
from sqlalchemy import types as sa_types
from sqlalchemy.engine import Engine

from app.models import VERSIONED, Area, Observation, Tag
from app.reporting.safe import FORMULA_TRIGGERS
from app.services.history import areas_as_of_select, as_of_select, tags_as_of_select

TABLES = ("persons", "households", "houses", "organisations", "tags", "observations", "areas")
CHUNK_ROWS = 100_000
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
            frame = frame.with_columns(pl.Series(name, [json.dumps(v, ensure_ascii=False) for v in data[name]]))
    return frame


def export_table(engine: Engine, table: str, fmt: str, out: Path, on: date | None = None) -> int:
    """Write one table to ``out``, streamed in chunks of ``CHUNK_ROWS``; returns the row count.

    Rows come from a server-side cursor (PostgreSQL) or a plain sqlite3 cursor, ``CHUNK_ROWS`` at a
    time, each chunk built into a polars frame with the dtypes of the query's columns and written at
    once: CSV is appended chunk by chunk; Parquet chunks go to temporary Arrow IPC files that polars'
    streaming engine then writes as one Parquet file. The content equals ``export_table_in_memory`` (the reference way).
    """
    if table not in TABLES:
        raise ValueError(table)
    if fmt not in ("csv", "parquet"):
        raise ValueError(fmt)
    query = export_select(table, on)
    schema = _query_schema(query)
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "parquet":
        return _write_parquet(_chunks(engine, query, schema), schema, out)
    n = 0
    with open(out, "wb") as fh:
        fh.write(b"\xef\xbb\xbf")  # UTF-8 with BOM so Excel shows Chinese
        for chunk in _chunks(engine, query, schema):
            _defuse(chunk).write_csv(fh, include_header=n == 0)
            n += chunk.height
        if n == 0:
            pl.DataFrame(schema=schema).write_csv(fh, include_header=True)
    return n


def _write_parquet(chunks: Iterator[pl.DataFrame], schema: dict[str, Any], out: Path) -> int:
    """Chunks → temporary IPC files beside ``out`` → one Parquet file, streamed (no whole table in memory).

    polars writes Parquet incrementally only from a lazy scan (``sink_parquet``); without pyarrow there
    is no appending writer. The Parquet file is written under a temporary name and renamed when whole.
    """
    n = 0
    with tempfile.TemporaryDirectory(prefix=".ybt-export-", dir=out.parent) as tmp:
        files = []
        for i, chunk in enumerate(chunks):
            files.append(Path(tmp) / f"{i:06d}.arrow")
            chunk.write_ipc(files[-1])
            n += chunk.height
        part = Path(tmp) / "out.parquet"
        if files:
            pl.scan_ipc(files).sink_parquet(part)
        else:
            pl.DataFrame(schema=schema).write_parquet(part)
        os.replace(part, out)
    return n


# JSON columns whose null is written as the text ``null`` (as json.dumps(None) in the former way);
# other JSON columns (tag.pending_attrs) stay empty when null, and are JSON text otherwise.
_JSON_COLUMNS = ("attrs", "attributes", "changes")


def _json_names(query: Select) -> set[str]:
    return {c.name for c in query.selected_columns if c.name in _JSON_COLUMNS or isinstance(c.type, sa_types.JSON)}


def _query_schema(query: Select) -> dict[str, Any]:
    """polars dtypes of a SELECT's columns, from their SQLAlchemy types (not inferred per chunk)."""
    schema: dict[str, Any] = {}
    for col in query.selected_columns:
        t = col.type.impl if isinstance(col.type, sa_types.TypeDecorator) else col.type  # AutoString → String
        if col.name in _JSON_COLUMNS or isinstance(t, sa_types.JSON):
            dtype: Any = pl.String
        elif isinstance(t, sa_types.Boolean):
            dtype = pl.Boolean
        elif isinstance(t, sa_types.Integer):
            dtype = pl.Int64
        elif isinstance(t, sa_types.DateTime):
            dtype = pl.Datetime("us")
        elif isinstance(t, sa_types.Date):
            dtype = pl.Date
        elif isinstance(t, sa_types.Float | sa_types.Numeric):
            dtype = pl.Float64
        elif isinstance(t, sa_types.String):
            dtype = pl.String
        else:
            raise TypeError(f"export: no column type for {col.name} ({t!r})")
        schema[col.name] = dtype
    return schema


def _chunks(engine: Engine, query: Select, schema: dict[str, Any]) -> Iterator[pl.DataFrame]:
    """The query's rows as polars frames of at most ``CHUNK_ROWS`` rows, in the query's order."""
    sql = str(query.compile(engine, compile_kwargs={"literal_binds": True}))
    if "id" in schema:
        yield from _array_chunks(engine, sql, schema, _json_names(query))
        return
    names = list(schema)
    sqlite = engine.url.get_backend_name() == "sqlite"
    json_memo: dict[Any, str] = {}
    json_names = _json_names(query)
    raw = engine.raw_connection()
    try:
        # PostgreSQL: a named (server-side) cursor, so the server hands rows over chunk by chunk
        cursor = raw.cursor() if sqlite else raw.driver_connection.cursor(name="ybt_export")
        try:
            cursor.execute(sql)
            while True:
                rows = cursor.fetchmany(CHUNK_ROWS)
                if not rows:
                    break
                columns = list(zip(*rows, strict=True))
                del rows
                yield pl.DataFrame(
                    [_series(name, values, schema[name], sqlite, json_memo, name in json_names) for name, values in zip(names, columns, strict=True)]
                )
        finally:
            cursor.close()
    finally:
        raw.close()


def _array_chunks(engine: Engine, sql: str, schema: dict[str, Any], json_names: set[str]) -> Iterator[pl.DataFrame]:
    """Each chunk (the next ``CHUNK_ROWS`` by id) comes back as one JSON array per column.

    A DB-API cursor builds a Python tuple and a Python object per cell (2.5 M tags: 25 M objects, most
    of the export's time); ``json_group_array`` (SQLite) / ``json_agg`` (PostgreSQL) build each column's
    values as one text in C and polars parses it in Rust, so no Python object per cell is made. JSON
    columns travel as their stored text. The query is ordered by ``id``, which is unique.
    """
    names = list(schema)
    if engine.url.get_backend_name() == "sqlite":
        arrays = ", ".join(f'json_group_array("{n}")' for n in names)
        inner = f"SELECT * FROM ({sql}) WHERE id > :last: ORDER BY id LIMIT {int(CHUNK_ROWS)}"
    else:
        arrays = ", ".join(f'json_agg("{n}"{"::text" if n in json_names else ""} ORDER BY id)::text' for n in names)
        inner = f"SELECT * FROM ({sql}) AS q WHERE id > :last: ORDER BY id LIMIT {int(CHUNK_ROWS)}"
    chunk_sql = f"SELECT count(*), max(id), {arrays} FROM ({inner}) AS c"
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        try:
            last = -(2**62)
            while True:
                cursor.execute(chunk_sql.replace(":last:", str(int(last)), 1))  # not .format: SQL may hold braces
                count, last_id, *texts = cursor.fetchone()
                if not count:
                    break
                last = last_id
                yield pl.DataFrame([_json_column(n, t, schema[n], n in json_names) for n, t in zip(names, texts, strict=True)])
        finally:
            cursor.close()
    finally:
        raw.close()


def _json_column(name: str, text: str, dtype: Any, is_json: bool) -> pl.Series:
    """One column from the JSON array SQLite made of it, typed as the export's schema."""
    raw_type = pl.Int64 if dtype in (pl.Int64, pl.Boolean) else pl.Float64 if dtype == pl.Float64 else pl.String
    values = pl.Series(name, [text]).str.json_decode(pl.List(raw_type)).explode()
    if is_json:
        # stored as json.dumps(value) (non-ASCII escaped); exported as json.dumps(value, ensure_ascii=False)
        values = values.fill_null("null")
        if name not in _JSON_COLUMNS:
            values = values.replace("null", None)
        escaped = values.str.contains("\\u", literal=True)
        if escaped.any():
            values = values.to_frame().with_columns(
                pl.when(escaped).then(values.map_elements(lambda v: json.dumps(json.loads(v), ensure_ascii=False),
                                                          return_dtype=pl.String)).otherwise(values).alias(name)
            ).to_series()
        return values
    if dtype == pl.Date:
        return values.str.to_date("%Y-%m-%d")
    if dtype == pl.Datetime("us"):
        return values.str.to_datetime(time_unit="us")
    if dtype == pl.Boolean:
        return values.cast(pl.Boolean)
    return values


def _series(name: str, values: tuple, dtype: Any, sqlite: bool, json_memo: dict[Any, str], is_json: bool) -> pl.Series:
    if is_json and name not in _JSON_COLUMNS:
        values = tuple(None if v is None or v == "null" else v for v in values)
        out = [v if v is None else json.dumps(json.loads(v) if isinstance(v, str) else v, ensure_ascii=False) for v in values]
        return pl.Series(name, out, dtype=pl.String)
    if is_json:
        # the same text as json.dumps(value, ensure_ascii=False) of the loaded value, as the reference way
        out = []
        for v in values:
            if isinstance(v, str):
                text = json_memo.get(v)
                if text is None:
                    text = json_memo[v] = json.dumps(json.loads(v), ensure_ascii=False)
            else:
                text = json.dumps(v, ensure_ascii=False)
            out.append(text)
        return pl.Series(name, out, dtype=pl.String)
    if sqlite and dtype in (pl.Date, pl.Datetime("us"), pl.Boolean):
        # sqlite3 hands dates back as ISO text and booleans as 0/1: convert column-wise
        raw = pl.Series(name, values, strict=False)
        if dtype == pl.Date:
            return raw.cast(pl.String).str.to_date("%Y-%m-%d")
        if dtype == pl.Boolean:
            return raw.cast(pl.Int64).cast(pl.Boolean)
        return raw.cast(pl.String).str.to_datetime(time_unit="us")
    return pl.Series(name, values, dtype=dtype, strict=False)


def _defuse(frame: pl.DataFrame) -> pl.DataFrame:
    """Every text value a spreadsheet would run as a formula gets a leading ``'``."""
    triggers = list(FORMULA_TRIGGERS)
    return frame.with_columns(
        pl.when(pl.col(c).str.starts_with(triggers[0]) | pl.any_horizontal(pl.col(c).str.starts_with(t) for t in triggers[1:]))
        .then(pl.lit("'") + pl.col(c)).otherwise(pl.col(c)).alias(c)
        for c, t in frame.schema.items() if t == pl.String
    )


def export_table_in_memory(engine: Engine, table: str, fmt: str, out: Path, on: date | None = None) -> int:
    """The former way, every row in memory at once: kept as the reference for tests and bench_export."""
    if table not in TABLES:
        raise ValueError(table)
    frame = read_frame(engine, export_select(table, on))
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        # UTF-8 with BOM so Excel shows Chinese; every value that looks like a formula is defused.
        _defuse(frame).write_csv(out, include_bom=True)
    elif fmt == "parquet":
        frame.write_parquet(out)
    else:
        raise ValueError(fmt)
    return frame.height

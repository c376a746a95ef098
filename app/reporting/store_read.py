"""Reading the store tables into polars: connectorx on PostgreSQL, the app's own driver on SQLite.

``read_table`` reads one store table (every version of each entity, with its validity interval);
the schemas and ``COLUMNS`` say which columns each table has and their types.

Memory (README "Store memory"): a polars string costs a 16-byte view per row even when it is one
character, so a code column of a million rows is 16 MB in the store and again in every dated copy.
Code columns (a model column declared with a ``code_list``, and ``tags.tag_code``) are kept as
``pl.Categorical``: 4 bytes a row. Categorical and not Enum: polars 2 keeps one global category
mapping (no string cache to enable), so frames read at different times, deltas and persisted files
concatenate without re-encoding; an Enum is fixed to a category list, and code lists are edited at
run time by the admin and history rows may hold codes since retired — a value outside an Enum is an
error (strict) or silently null (not strict). Comparisons with text, ``is_in``, sorting (lexical) and
``replace`` work on Categorical as on text; ``.str`` does not, so area codes (sliced and matched by
prefix everywhere) stay text. Only the columns the engine may use are read (``used_columns``).
"""

from __future__ import annotations

import json
import logging
from typing import Any

import polars as pl
from sqlalchemy import Date, Select, null, select, union, union_all
from sqlalchemy.engine import Engine

from app.models import VERSIONED, Area, Observation, Tag
from app.registry.vocabulary import ROSTER_FIELDS, SUBJECT_MODELS, SUBJECTS
from app.services.history import entity_fields

log = logging.getLogger(__name__)

# Columns every snapshot table carries, and their types (IDs and codes always text).
_TEXT = pl.String


def _connectorx_uri(engine: Engine) -> str | None:
    url = engine.url
    if url.get_backend_name() == "sqlite":
        # Never for SQLite: connectorx links its own SQLite library, whose connection, on close, cannot
        # see this process's WAL locks (POSIX locks are per process), checkpoints and deletes the -wal
        # and -shm files under the app's open connections; their next commit is lost or fails with
        # "disk I/O error". The portable read below goes through the app's own driver.
        return None
    if url.get_backend_name() == "postgresql":
        return url.set(drivername="postgresql").render_as_string(hide_password=False)
    return None


def read_frame(engine: Engine, query: Select, schema: dict[str, Any] | None = None) -> pl.DataFrame:
    """Run a SELECT into a polars frame (connectorx when possible), casting to ``schema``."""
    sql = str(query.compile(engine, compile_kwargs={"literal_binds": True}))
    uri = _connectorx_uri(engine)
    frame = None
    if uri is not None:
        try:
            frame = pl.read_database_uri(sql, uri, engine="connectorx")
        except Exception as exc:  # noqa: BLE001 — unsupported types or URL: use the portable path
            log.warning("connectorx read failed, using the slower SQLAlchemy read: %s", exc)
            frame = None
    if frame is None and engine.url.get_backend_name() == "sqlite":
        frame = _read_sqlite(engine, sql)
    if frame is None:
        with engine.connect() as conn:
            result = conn.execute(query)
            names = list(result.keys())
            rows = result.fetchall()
        # JSON columns come back as dicts from a DB-API cursor: keep them as JSON text, as connectorx does
        data = {n: [_json_text(r[i]) if isinstance(r[i], dict | list) else r[i] for r in rows] for i, n in enumerate(names)}
        frame = pl.DataFrame(data, strict=False, infer_schema_length=None)
    return _cast(frame, schema or {})


def _read_sqlite(engine: Engine, sql: str) -> pl.DataFrame:
    """Plain DB-API rows of the app's own sqlite3 driver, built into a frame column by column.

    No SQLAlchemy result processing: dates stay ISO text and JSON stays text, both converted by
    ``_cast`` column-wise — about 10x faster than per-cell Python conversion on a million rows.
    """
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        try:
            cursor.execute(sql)
            names = [d[0] for d in cursor.description]
            rows = cursor.fetchall()
        finally:
            cursor.close()
    finally:
        raw.close()
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    del rows
    return pl.DataFrame([pl.Series(name, values, strict=False) for name, values in zip(names, columns, strict=True)])


def _cast(frame: pl.DataFrame, schema: dict[str, Any]) -> pl.DataFrame:
    exprs = []
    for name, dtype in schema.items():
        if name not in frame.columns:
            exprs.append(pl.lit(None, dtype=dtype).alias(name))
        elif frame.schema[name] != dtype:
            col = pl.col(name)
            if dtype == pl.Date and frame.schema[name] == pl.String:
                exprs.append(col.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False).alias(name))
            elif dtype == pl.String and frame.schema[name] not in (pl.String, pl.Null):
                exprs.append(
                    col.cast(pl.String).alias(name)
                    if frame.schema[name] != pl.Object
                    else col.map_elements(_json_text, return_dtype=pl.String).alias(name)
                )
            else:
                exprs.append(col.cast(dtype, strict=False).alias(name))
    return frame.with_columns(exprs) if exprs else frame


def _json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


PERSON_SCHEMA = {
    "id": pl.Int64,
    "id_number": _TEXT,
    "name": _TEXT,
    "sex": _TEXT,
    "birth_date": pl.Date,
    "ethnic_group": _TEXT,
    "relation": _TEXT,
    "marital_status": _TEXT,
    "education": _TEXT,
    "political_status": _TEXT,
    "residence_type": _TEXT,
    "phone": _TEXT,
    "household_id": pl.Int64,
    "area_code": _TEXT,
    "living_status": _TEXT,
    "status_date": pl.Date,
    "moved_to": _TEXT,
}
HOUSEHOLD_SCHEMA = {
    "id": pl.Int64,
    "number": _TEXT,
    "kind": _TEXT,
    "area_code": _TEXT,
    "address": _TEXT,
    "status": _TEXT,
    "status_date": pl.Date,
}
HOUSE_SCHEMA = {
    "id": pl.Int64,
    "address": _TEXT,
    "area_code": _TEXT,
    "house_type": _TEXT,
    "floor_area": pl.Float64,
    "structure": _TEXT,
    "safety_grade": _TEXT,
    "household_id": pl.Int64,
    "status": _TEXT,
}
ORG_SCHEMA = {
    "id": pl.Int64,
    "uscc": _TEXT,
    "name": _TEXT,
    "kind": _TEXT,
    "industry": _TEXT,
    "area_code": _TEXT,
    "employees": pl.Int64,
    "status": _TEXT,
}
TAG_SCHEMA = {
    "id": pl.Int64,
    "tag_code": _TEXT,
    "person_id": pl.Int64,
    "household_id": pl.Int64,
    "valid_from": pl.Date,
    "valid_to": pl.Date,
    "attrs": _TEXT,
}
AREA_SCHEMA = {"code": _TEXT, "name": _TEXT, "level": pl.Int64, "parent_code": _TEXT}
OBS_SCHEMA = {
    "item_code": _TEXT,
    "area_code": _TEXT,
    "period": _TEXT,
    "period_start": pl.Date,
    "period_end": pl.Date,
    "value": pl.Float64,
}


def _with_area_keys(frame: pl.DataFrame) -> pl.DataFrame:
    """Add ``village`` (12-digit code) and ``township`` (9 digits + 000) for grouping."""
    return frame.with_columns(
        pl.col("area_code").str.slice(0, 12).alias("village"),
        (pl.col("area_code").str.slice(0, 9) + "000").alias("township"),
    )


_ENTITIES = {"persons": ("person", PERSON_SCHEMA), "households": ("household", HOUSEHOLD_SCHEMA),
             "houses": ("house", HOUSE_SCHEMA), "organisations": ("organisation", ORG_SCHEMA)}
_INTERVAL = {"valid_from": pl.Date, "valid_to": pl.Date}

# Fields the engine's own code reads, beyond what the registry declares: keys and intervals, ages and
# flows (born, died, moved out, closed), household heads and sizes, change lists (moved_to), and the
# fields shown by lineage (a person's name and ID number, an organisation's name, a house's address)
# and counted by completeness (filled-in rates).
ENGINE_FIELDS: dict[str, frozenset[str]] = {
    "persons": frozenset({"id", "household_id", "area_code", "birth_date", "living_status", "status_date", "moved_to",
                          "relation", "name", "id_number", "ethnic_group", "marital_status", "education",
                          "political_status", "phone"}),
    "households": frozenset({"id", "area_code", "status", "status_date", "number", "address", "kind"}),
    "houses": frozenset({"id", "area_code", "household_id", "status", "address"}),
    "organisations": frozenset({"id", "area_code", "status", "name"}),
}
# A roster field ``household.<x>`` shows a household column.
_ROSTER_HOUSEHOLD = {"household.number": "number", "household.address": "address", "household.kind": "kind"}


def used_columns(name: str) -> list[str]:
    """The columns of entity table ``name`` the engine may read, in schema order.

    Derived from what the registry may declare, so that a report designed in the browser can never
    ask for a column the store left out: the fields a ``where`` may filter on (``SUBJECTS``), the
    numeric fields a sum may add, the fields a roster may show (``ROSTER_FIELDS``), plus
    ``ENGINE_FIELDS``. Anything else (today: an organisation's credit code) is not read.
    """
    _entity, schema = _ENTITIES[name]
    declared = set(SUBJECTS[name].fields) | ENGINE_FIELDS[name]
    model = SUBJECT_MODELS[name]
    declared |= {c.name for c in model.__table__.columns if c.name in schema and c.type.python_type in (int, float)}
    if name == "persons":
        declared |= {f for f in ROSTER_FIELDS if f in schema}
    if name == "households":
        declared |= {column for field, column in _ROSTER_HOUSEHOLD.items() if field in ROSTER_FIELDS}
    return [c for c in schema if c in declared]


def code_columns(name: str) -> frozenset[str]:
    """Columns kept dictionary-encoded (``pl.Categorical``): those the model declares with a code list."""
    if name == "tags":
        return frozenset({"tag_code"})
    if name not in _ENTITIES:
        return frozenset()
    model = SUBJECT_MODELS[name]
    return frozenset(c.name for c in model.__table__.columns if c.info.get("code_list"))


def _stored_schema(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    codes = code_columns(name)
    return {c: (pl.Categorical if c in codes else t) for c, t in schema.items()}


# The columns each store table has, in order: a persisted file with other columns is not used.
COLUMNS: dict[str, list[str]] = {
    **{name: [*used_columns(name), "village", "township", *_INTERVAL] for name in _ENTITIES},
    "tags": list(TAG_SCHEMA),
    "areas": [*AREA_SCHEMA, *_INTERVAL],
    "observations": [*OBS_SCHEMA, "village", "township"],
}


def county_ids(entity: str, county: str) -> Select:
    """Ids of the entities that were ever in ``county`` (an area-code prefix): current or history rows."""
    current, history = VERSIONED[entity]
    pattern = f"{county}%"
    return union(select(current.id).where(current.area_code.like(pattern)),
                 select(history.id).where(history.area_code.like(pattern)))


def _versions_select(entity: str, ids: list[int] | None = None, county: str | None = None) -> Select:
    """Every state of every entity (or of ``ids``, or of those ever in ``county``): current rows (no
    end) and history rows, one query."""
    current, history = VERSIONED[entity]
    names = ["id", *[f for f in entity_fields(entity) if f in COLUMNS[f"{entity}s"]], "valid_from"]
    cur_q = select(*[getattr(current, n) for n in names], null().cast(Date).label("valid_to"))
    hist_q = select(*[getattr(history, n) for n in names], history.valid_to)
    if ids is not None:
        cur_q = cur_q.where(current.id.in_(ids))
        hist_q = hist_q.where(history.id.in_(ids))
    if county is not None:
        cur_q = cur_q.where(current.id.in_(county_ids(entity, county)))
        hist_q = hist_q.where(history.id.in_(county_ids(entity, county)))
    return select(union_all(cur_q, hist_q).subquery(f"{entity}_versions"))


def read_table(engine: Engine, name: str, ids: list[int] | None = None, county: str | None = None) -> pl.DataFrame:
    """One store table read from the database: every row, or only the rows of entity / tag ``ids``.

    ``county`` (an area-code prefix, 6 digits) reads one county's part: every version of the
    entities that were ever in it (so that a date's state and flows are those of the whole store),
    the tags of those persons and households, its observations; areas are read whole (small).
    """
    if name in _ENTITIES:
        entity, schema = _ENTITIES[name]
        used = {c: t for c, t in _stored_schema(name, schema).items() if c in COLUMNS[name]}
        frame = read_frame(engine, _versions_select(entity, ids, county), {**used, **_INTERVAL})
        return _with_area_keys(frame).select(COLUMNS[name])
    if name == "tags":
        query = select(Tag.id, Tag.tag_code, Tag.person_id, Tag.household_id, Tag.valid_from, Tag.valid_to, Tag.attrs)
        if ids is not None:
            query = query.where(Tag.id.in_(ids))
        if county is not None:
            # a tag has exactly one subject (check constraint one_subject): two semi-joins, no OR — with
            # ``person_id IN (…) OR household_id IN (…)`` PostgreSQL ran a sub-plan per tag row (minutes)
            query = select(union_all(query.where(Tag.person_id.in_(county_ids("person", county))),
                                     query.where(Tag.household_id.in_(county_ids("household", county))))
                           .subquery("county_tags"))
        return read_frame(engine, query, _stored_schema(name, TAG_SCHEMA)).select(COLUMNS[name])
    if name == "areas":
        query = select(Area.code, Area.name, Area.level, Area.parent_code, Area.valid_from, Area.valid_to)
        return read_frame(engine, query, {**AREA_SCHEMA, **_INTERVAL}).select(COLUMNS[name])
    if name == "observations":
        query = select(Observation).where(Observation.subject_type == "area")
        if county is not None:
            query = query.where(Observation.area_code.like(f"{county}%"))
        return _with_area_keys(read_frame(engine, query, OBS_SCHEMA)).select(COLUMNS[name])
    raise KeyError(name)

"""Bulk loading of column data into the model's tables, the fast way each backend offers.

- SQLite: the raw ``sqlite3`` connection's ``executemany`` (one prepared statement, rows streamed
  from the polars frame), inside the caller's transaction.
- PostgreSQL: ``COPY … FROM STDIN`` in CSV form through psycopg, inside the caller's transaction.
- Anything else: SQLAlchemy Core ``insert`` with a list of dicts (slow, but correct).

Values are converted once per column to what the backend stores: on SQLite dates become ISO text,
date-times ``YYYY-MM-DD HH:MM:SS.ffffff`` and booleans 0/1, exactly as SQLAlchemy writes them, so the
ORM reads bulk-loaded rows like any other. JSON columns take either text that already holds JSON
(fast: the caller serialises once, e.g. a constant) or Python objects (serialised here).

It sits below both of its users, beside ``app/db.py``: the demo seed (``app/seed``) and the import
service's bulk writes (``services/ledger_import/writes.py``) load through it; it imports only the
models' table metadata.

Pass a ``Connection`` to load inside a transaction of your own (all or nothing with the rest of
your work); pass an ``Engine`` and each call commits on its own.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import polars as pl
from sqlalchemy import JSON, Boolean, Connection, Date, DateTime, Engine, Table, insert, text

from app.models import metadata

#: Rows per COPY chunk on PostgreSQL (bounds the memory of the CSV text).
PG_CHUNK_ROWS = 200_000

# SQLite settings while a large load runs, restored afterwards (both may change inside a transaction):
# a 512 MB page cache keeps the indexes of a million-person load in memory. (``synchronous`` cannot be
# changed inside a transaction, and under WAL + NORMAL one big transaction gains nothing from OFF.)
_SQLITE_LOAD_PRAGMAS = {"cache_size": "-524288", "temp_store": "MEMORY"}


def table_of(table: str | Table) -> Table:
    return table if isinstance(table, Table) else metadata.tables[table]


def as_frame(data: pl.DataFrame | Mapping[str, Any]) -> pl.DataFrame:
    """A polars frame from a frame or a mapping of column name → sequence / numpy array / Series."""
    if isinstance(data, pl.DataFrame):
        return data
    return pl.DataFrame({name: values for name, values in data.items()})


def bulk_insert(target: Engine | Connection, table: str | Table, data: pl.DataFrame | Mapping[str, Any]) -> int:
    """Insert every row of ``data`` (columns named as the table's columns) into ``table``.

    Columns the data leaves out take the database default (e.g. an autoincrement ``id``). Returns
    the number of rows.
    """
    tbl = table_of(table)
    frame = as_frame(data)
    unknown = [c for c in frame.columns if c not in tbl.c]
    if unknown:
        raise ValueError(f"{tbl.name}: unknown columns {unknown}")
    if frame.height == 0:
        return 0
    if isinstance(target, Engine):
        with target.begin() as conn:
            return bulk_insert(conn, tbl, frame)
    dialect = target.dialect.name
    if dialect == "sqlite":
        return _sqlite_insert(target, tbl, frame)
    if dialect == "postgresql":
        return _pg_copy(target, tbl, frame)
    target.execute(insert(tbl), _python_values(tbl, frame).to_dicts())
    return frame.height


def _json_text(tbl: Table, frame: pl.DataFrame) -> pl.DataFrame:
    """JSON columns as text: kept when already text, serialised from Python objects otherwise."""
    out = []
    for name in frame.columns:
        s = frame[name]
        if isinstance(tbl.c[name].type, JSON) and s.dtype != pl.String:
            s = pl.Series(name, [None if v is None else json.dumps(v, ensure_ascii=False) for v in s.to_list()], dtype=pl.String)
        out.append(s)
    return pl.DataFrame(out)


def _python_values(tbl: Table, frame: pl.DataFrame) -> pl.DataFrame:
    """For the generic Core path: JSON text parsed back to objects so SQLAlchemy serialises it once."""
    cols = []
    for name in frame.columns:
        s = frame[name]
        if isinstance(tbl.c[name].type, JSON) and s.dtype == pl.String:
            s = pl.Series(name, [None if v is None else json.loads(v) for v in s.to_list()], dtype=pl.Object)
        cols.append(s)
    return pl.DataFrame(cols)


def _sqlite_columns(tbl: Table, frame: pl.DataFrame) -> pl.DataFrame:
    frame = _json_text(tbl, frame)
    exprs = []
    for name in frame.columns:
        col_type, dtype, c = tbl.c[name].type, frame.schema[name], pl.col(name)
        if isinstance(col_type, DateTime) and dtype == pl.Datetime:
            c = c.dt.strftime("%Y-%m-%d %H:%M:%S.%6f")
        elif isinstance(col_type, Date) and not isinstance(col_type, DateTime) and dtype == pl.Date:
            c = c.dt.strftime("%Y-%m-%d")
        elif isinstance(col_type, Boolean) and dtype == pl.Boolean:
            c = c.cast(pl.Int8)
        exprs.append(c)
    return frame.select(exprs)


def _sqlite_insert(conn: Connection, tbl: Table, frame: pl.DataFrame) -> int:
    frame = _sqlite_columns(tbl, frame)
    raw = conn.connection.dbapi_connection
    names = ", ".join(f'"{n}"' for n in frame.columns)
    marks = ", ".join("?" for _ in frame.columns)
    cursor = raw.cursor()
    try:
        cursor.executemany(f'INSERT INTO "{tbl.name}" ({names}) VALUES ({marks})', frame.iter_rows(buffer_size=10_000))
    finally:
        cursor.close()
    return frame.height


def _pg_copy(conn: Connection, tbl: Table, frame: pl.DataFrame) -> int:
    frame = _json_text(tbl, frame)
    raw = conn.connection.dbapi_connection
    names = ", ".join(f'"{n}"' for n in frame.columns)
    statement = f"COPY \"{tbl.name}\" ({names}) FROM STDIN WITH (FORMAT csv, NULL '\\N')"
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        for offset in range(0, frame.height, PG_CHUNK_ROWS):
            chunk = frame.slice(offset, PG_CHUNK_ROWS)
            copy.write(chunk.write_csv(include_header=False, null_value="\\N", datetime_format="%Y-%m-%d %H:%M:%S.%6f"))
    return frame.height


@contextmanager
def fast_load(conn: Connection) -> Iterator[None]:
    """Settings for a large load on this connection, restored afterwards (SQLite only; no-op elsewhere)."""
    if conn.dialect.name != "sqlite":
        yield
        return
    raw = conn.connection.dbapi_connection
    saved = {name: raw.execute(f"PRAGMA {name}").fetchone()[0] for name in _SQLITE_LOAD_PRAGMAS}
    for name, value in _SQLITE_LOAD_PRAGMAS.items():
        raw.execute(f"PRAGMA {name}={value}")
    try:
        yield
    finally:
        for name, value in saved.items():
            raw.execute(f"PRAGMA {name}={value}")


@contextmanager
def constraints_deferred(conn: Connection, tables: Sequence[str]) -> Iterator[list[str]]:
    """Drop the secondary indexes of ``tables`` (and on PostgreSQL their foreign keys) for a load, and
    build them again afterwards.

    One sort per index after the load is much cheaper than keeping every index up to date row by row;
    on PostgreSQL a foreign key checked row by row fires a trigger per row, while adding it back after
    the load validates all rows in one join (what pg_restore does). The definitions are read back from
    the database itself (``sqlite_master``; ``pg_indexes`` and ``pg_get_constraintdef``), so what is
    rebuilt is exactly what was migrated. Primary keys, unique and check constraints stay (they guard
    the load), and SQLite keeps checking foreign keys (it cannot drop them). Both backends have
    transactional DDL: inside the caller's transaction a failed load rolls the drops back too, and
    the dropped tables stay locked from other writers until then. Yields the names of what was deferred.
    """
    dialect = conn.dialect.name
    foreign_keys: list[tuple[str, str, str]] = []
    if dialect == "sqlite":
        marks = ", ".join(f"'{t}'" for t in tables)
        indexes = conn.execute(text(
            f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ({marks}) ORDER BY name"
        )).all()
    elif dialect == "postgresql":
        indexes = conn.execute(text(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i "
            "WHERE i.schemaname = current_schema() AND i.tablename = ANY(:tables) "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = format('%I.%I', i.schemaname, i.indexname)::regclass) "
            "ORDER BY i.indexname"
        ), {"tables": list(tables)}).all()
        foreign_keys = [tuple(r) for r in conn.execute(text(
            "SELECT t.relname, c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c "
            "JOIN pg_class t ON t.oid = c.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace "
            "WHERE c.contype = 'f' AND n.nspname = current_schema() AND t.relname = ANY(:tables) ORDER BY t.relname, c.conname"
        ), {"tables": list(tables)}).all()]
    else:
        indexes = []
    for table, name, _definition in foreign_keys:
        conn.execute(text(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"'))
    for name, _sql in indexes:
        conn.execute(text(f'DROP INDEX "{name}"'))
    yield [name for name, _sql in indexes] + [name for _t, name, _d in foreign_keys]
    for _name, sql in indexes:
        conn.execute(text(sql))
    for table, name, definition in foreign_keys:
        conn.execute(text(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}'))


def max_id(conn: Connection, table: str, column: str = "id") -> int:
    """The largest id in use (0 for an empty table)."""
    return int(conn.execute(text(f'SELECT COALESCE(MAX("{column}"), 0) FROM "{table}"')).scalar_one())


def finish_load(conn: Connection, tables: Sequence[str]) -> None:
    """After a load with explicit ids: move PostgreSQL's SERIAL sequences past them, and ANALYZE.

    SQLite needs neither (its rowid follows the largest key; the planner works without statistics),
    so it gets ``ANALYZE`` only for the loaded tables.
    """
    if conn.dialect.name == "postgresql":
        for name in tables:
            tbl = table_of(name)
            for key in ("id", "hid"):
                if key in tbl.c and tbl.c[key].primary_key and tbl.c[key].autoincrement in (True, "auto"):
                    conn.execute(text(
                        f"SELECT setval(pg_get_serial_sequence('\"{name}\"', '{key}'), "
                        f"COALESCE((SELECT MAX(\"{key}\") FROM \"{name}\"), 0) + 1, false)"
                    ))
        for name in tables:
            conn.execute(text(f'ANALYZE "{name}"'))
    elif conn.dialect.name == "sqlite":
        conn.execute(text("PRAGMA analysis_limit=1000"))  # sampled statistics: seconds, not minutes
        for name in tables:
            conn.execute(text(f'ANALYZE "{name}"'))

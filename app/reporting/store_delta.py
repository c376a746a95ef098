"""What changed since a data version, and a store table brought forward by re-reading only that.

Every write opens a ``change_batch``: its highest id is the data version (``data_version``).
``touched`` lists the entities later batches wrote; ``patch_table`` re-reads just those rows.
"""

from __future__ import annotations

from typing import Any

import polars as pl
from sqlalchemy import func, or_, select
from sqlalchemy.engine import Engine

from app.models import VERSIONED, ChangeBatch, ChangeLog, Observation, Tag
from app.reporting.store_read import _ENTITIES, read_table

# Batch ids below the data version that were not visible when a store was read (a transaction still
# open on PostgreSQL, or an empty import batch deleted): each later refresh looks at them again, so a
# batch that commits late is applied. Only the last GAP_WINDOW ids are watched.
GAP_WINDOW = 1000
# More changed entities than this share of a table: reading the whole table is cheaper than the ids.
FULL_RELOAD_SHARE = 0.25
_ID_CHUNK = 20_000


def data_version(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.coalesce(func.max(ChangeBatch.id), 0))).scalar_one())


def _after(column: Any, since: int, pending: frozenset[int]) -> Any:
    """Rows written by a batch after ``since`` or by one of the ``pending`` batches."""
    return or_(column > since, column.in_(sorted(pending))) if pending else column > since


def batch_gaps(engine: Engine, version: int) -> frozenset[int]:
    """Ids at or below ``version`` (within GAP_WINDOW) that no visible batch has."""
    if version <= 0:
        return frozenset()
    low = max(0, version - GAP_WINDOW)
    with engine.connect() as conn:
        seen = set(conn.execute(select(ChangeBatch.id).where(ChangeBatch.id > low, ChangeBatch.id <= version)).scalars())
    return frozenset(set(range(low + 1, version + 1)) - seen)


def batch_stamp(engine: Engine, version: int) -> str | None:
    """The creation time of batch ``version``: tells this database from another one at the same URL."""
    if version <= 0:
        return None
    with engine.connect() as conn:
        value = conn.execute(select(ChangeBatch.created_at).where(ChangeBatch.id == version)).scalar()
    return None if value is None else str(value)


def touched(engine: Engine, since: int, pending: frozenset[int] = frozenset()) -> dict[str, set[int]]:
    """Per store table, the entity (or tag) ids that a batch after ``since`` (or a pending one) wrote.

    An entity counts when its current row, any of its history rows or a change-log entry carries
    such a batch: an update copies the closed state into history with its old batch id, and a
    retroactive correction rewrites history rows, so no single table says it all. The whole entity
    (every version) is then read again. ``observations`` is {0} when any observation changed.
    """
    out: dict[str, set[int]] = {}
    with engine.connect() as conn:
        # one query on the batch id alone: with ``entity = …`` as well, SQLite chose the (entity,
        # entity_id) index and scanned every log entry of persons (11 s on the 1 M county)
        log: dict[str, set[int]] = {}
        for entity, entity_id in conn.execute(select(ChangeLog.entity, ChangeLog.entity_id)
                                              .where(_after(ChangeLog.batch_id, since, pending))):
            if str(entity_id).isdigit():
                log.setdefault(entity, set()).add(int(entity_id))

        def logged(entity: str) -> set[int]:
            return log.get(entity, set())

        for name, (entity, _schema) in _ENTITIES.items():
            current, history = VERSIONED[entity]
            ids = set(conn.execute(select(current.id).where(_after(current.batch_id, since, pending))).scalars())
            ids |= set(conn.execute(select(history.id).where(_after(history.batch_id, since, pending))).scalars())
            out[name] = ids | logged(entity)
        tag_ids = set(conn.execute(select(Tag.id).where(_after(Tag.batch_id, since, pending))).scalars())
        out["tags"] = tag_ids | logged("tag")
        changed = conn.execute(select(Observation.id).where(_after(Observation.batch_id, since, pending)).limit(1)).first()
        out["observations"] = {0} if changed is not None or logged("observation") else set()
    return out


def _chunks(ids: list[int]) -> list[list[int]]:
    return [ids[i:i + _ID_CHUNK] for i in range(0, len(ids), _ID_CHUNK)]


def patch_table(engine: Engine, name: str, frame: pl.DataFrame, changed: dict[str, set[int]]) -> tuple[pl.DataFrame, int]:
    """``frame`` brought forward: the rows of changed ids read again, the rest kept.

    Returns the new frame and how many entities were read again (-1: the whole table was).
    """
    if name == "areas":  # a few thousand rows, no batch ids: always read again
        return read_table(engine, name), -1
    if name == "observations":
        return (read_table(engine, name), -1) if changed.get(name) else (frame, 0)
    ids = changed.get(name) or set()
    if not ids:
        return frame, 0
    if len(ids) > 1000 and len(ids) > FULL_RELOAD_SHARE * frame.height:
        return read_table(engine, name), -1
    ordered = sorted(ids)
    fresh = [read_table(engine, name, chunk) for chunk in _chunks(ordered)]
    kept = frame.filter(~pl.col("id").is_in(pl.Series(ordered, dtype=pl.Int64).implode()))
    return pl.concat([kept, *[f.select(frame.columns).cast(frame.schema) for f in fresh]], how="vertical"), len(ids)

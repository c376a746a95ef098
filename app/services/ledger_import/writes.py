"""Bulk creation of new persons and households for the apply layer, with their change-log entries.

The records have already passed the services' own checks (``check_person`` / ``check_household``,
scope); this module only writes them fast, inside the caller's transaction: ids are reserved up
front (PostgreSQL: from the table's sequence; SQLite: past the largest id, safe because the import
already holds SQLite's write lock through its change batch; taken again at each chunk that commits),
the rows go in with the backend's bulk
path (``app.bulk``), and each gets a ``create`` entry in ``change_log`` like ``history.create_version``
writes.
"""

from __future__ import annotations

import json
from datetime import date
from typing import TYPE_CHECKING, Any

import polars as pl
from sqlalchemy import Boolean, Date, DateTime, Integer, Table, text

from app import bulk
from app.models import metadata

if TYPE_CHECKING:
    from app.services.ledger_import.apply import Applier

ID_BLOCK = 1000
FLUSH_ROWS = 10_000  # queued new rows per bulk insert: bounds the memory of the frames and COPY text


#: A dry run applied in chunks (each rolled back) numbers its new rows this far past the largest id
#: on SQLite, so a row it puts back in a later chunk never meets a row someone saved meanwhile.
DRY_RUN_ID_GAP = 1_000_000_000


def _pending(applier: Applier) -> dict[str, list[dict[str, Any]]]:
    if not hasattr(applier, "_pending_rows"):
        applier._pending_rows = {"person": [], "household": []}  # type: ignore[attr-defined]
        applier._free_ids = {"person": [], "household": []}  # type: ignore[attr-defined]
        applier._kept = {"person": [], "household": []}  # type: ignore[attr-defined]
    return applier._pending_rows  # type: ignore[attr-defined]


def start_chunk(applier: Applier) -> None:
    """At the start of a chunk that commits on SQLite: ids past the largest id are taken again, now
    that this chunk holds the write lock (another writer may have added rows since the last one)."""
    _pending(applier)
    if applier.chunks == "commit" and applier.session.get_bind().dialect.name == "sqlite":
        for entity in ("person", "household"):
            applier._free_ids[entity].clear()  # type: ignore[attr-defined]
            applier.__dict__.pop(f"_last_{entity}_id", None)


def _next_id(applier: Applier, entity: str) -> int:
    _pending(applier)
    free: list[int] = applier._free_ids[entity]  # type: ignore[attr-defined]
    if not free:
        conn = applier.session.connection()
        if conn.dialect.name == "postgresql":
            seq = f"pg_get_serial_sequence('{entity}', 'id')"
            free.extend(conn.execute(text(f"SELECT nextval({seq}) FROM generate_series(1, {ID_BLOCK})")).scalars())
        else:
            last = getattr(applier, f"_last_{entity}_id", None)
            if last is None:
                last = bulk.max_id(conn, entity) + (DRY_RUN_ID_GAP if applier.chunks == "rollback" else 0)
            free.extend(range(last + 1, last + 1 + ID_BLOCK))
            setattr(applier, f"_last_{entity}_id", last + ID_BLOCK)
        free.reverse()
    return free.pop()


def restore(applier: Applier, household_ids: set[int], person_ids: set[int]) -> None:
    """A chunked dry run: insert again (under this chunk's batch) the new rows of earlier, rolled-back
    chunks that this chunk points at (a tag's holder, a person's household), households first."""
    _pending(applier)
    kept = applier._kept  # type: ignore[attr-defined]
    persons = _kept_rows(kept["person"], person_ids)
    if persons is not None:
        household_ids = household_ids | {h for h in persons["household_id"].to_list() if h is not None}
    households = _kept_rows(kept["household"], household_ids)
    conn = applier.session.connection()
    for entity, rows in (("household", households), ("person", persons)):
        if rows is not None:
            bulk.bulk_insert(conn, entity, rows.with_columns(pl.lit(applier.batch.id, dtype=pl.Int64).alias("batch_id")))


def _kept_rows(frames: list[pl.DataFrame], ids: set[int]) -> pl.DataFrame | None:
    if not ids or not frames:
        return None
    wanted = pl.Series(sorted(ids), dtype=pl.Int64).implode()
    rows = pl.concat([f.filter(pl.col("id").is_in(wanted)) for f in frames], how="vertical")
    return rows if rows.height else None


def reserve(applier: Applier, entity: str, key: str, values: dict[str, Any]) -> int:
    """Take an id for a new record and queue its row; ``flush`` inserts the queued rows."""
    new_id = _next_id(applier, entity)
    _pending(applier)[entity].append({**values, "id": new_id})
    if entity == "household":
        applier.new_households[key] = new_id
        applier.new_household_ids.add(new_id)
        applier.household_areas[new_id] = values["area_code"]
    else:
        applier.new_persons[key] = new_id
    if len(_pending(applier)[entity]) >= FLUSH_ROWS:
        flush(applier, entity)
    return new_id


def _schema(tbl: Table, names: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in names:
        t = tbl.c[name].type
        if isinstance(t, DateTime):
            out[name] = pl.Datetime("us")
        elif isinstance(t, Date):
            out[name] = pl.Date
        elif isinstance(t, Boolean):
            out[name] = pl.Boolean
        elif isinstance(t, Integer):
            out[name] = pl.Int64
        else:
            out[name] = pl.String
    return out


def flush(applier: Applier, entity: str) -> int:
    """Insert the queued new rows of one entity, then their ``create`` change-log entries."""
    rows = _pending(applier)[entity]
    if not rows:
        return 0
    tbl = metadata.tables[entity]
    effective = applier.today
    business = [c.name for c in tbl.columns if c.name not in {"id", "valid_from", "batch_id", "row_version"}]
    names = ["id", *business, "valid_from", "batch_id", "row_version"]
    columns: dict[str, list[Any]] = {n: [] for n in names}
    log_changes: list[str] = []
    for row in rows:
        for n in business:
            columns[n].append(row.get(n))
        columns["id"].append(row["id"])
        log_changes.append(json.dumps({k: [None, v] for k in business if (v := row.get(k)) is not None}, ensure_ascii=False,
                                      default=date.isoformat))
    n_rows = len(rows)
    columns["valid_from"] = [effective] * n_rows
    columns["batch_id"] = [applier.batch.id] * n_rows
    columns["row_version"] = [1] * n_rows
    conn = applier.session.connection()
    frame = pl.DataFrame(columns, schema=_schema(tbl, names))
    bulk.bulk_insert(conn, tbl, frame)
    if applier.chunks == "rollback":  # kept to be put back when a later chunk points at these rows
        applier._kept[entity].append(frame)  # type: ignore[attr-defined]
    log = pl.DataFrame({
        "batch_id": [applier.batch.id] * n_rows,
        "entity": [entity] * n_rows,
        "entity_id": [str(i) for i in columns["id"]],
        "action": ["create"] * n_rows,
        "effective_date": [effective] * n_rows,
        "changes": log_changes,
    }, schema={"batch_id": pl.Int64, "entity": pl.String, "entity_id": pl.String, "action": pl.String,
               "effective_date": pl.Date, "changes": pl.String})
    bulk.bulk_insert(conn, "change_log", log)
    rows.clear()
    return n_rows


class FastPersonCheck:
    """``persons.check_person`` for the common case of a bulk import, compiled once per import.

    Same checks and messages as ``fields.check_values`` (required, length, code list, date type) from
    the same column metadata, with the model's defaults; the ID number must be a normalised 18-digit
    number whose check character, birth date and sex agree with the record. Anything else (15-digit
    or unnormalised IDs, missing birth date or sex, a person recorded dead or moved out) returns
    ``None`` and the caller runs the service's own ``check_person``.
    """

    def __init__(self, session: Any, model: Any = None) -> None:
        from app.models import Person
        from app.services.codelists import code_lists
        from app.services.fields import with_defaults

        model = model or Person
        self.is_person = model is Person
        lists = code_lists(session)
        skip = {"id", "hid", "row_version", "batch_id", "valid_from", "valid_to"}
        self.defaults = {k: v for k, v in with_defaults(model, {}).items() if k not in skip}
        self.columns = {c.name for c in model.__table__.columns}
        self.specs = []
        for column in model.__table__.columns:
            if column.name in skip:
                continue
            code_list = column.info.get("code_list")
            self.specs.append((
                column.name, column.info.get("label", column.name), not column.nullable and column.default is None,
                getattr(column.type, "length", None), (set(lists.get(code_list, {})), code_list) if code_list else None,
                column.type.python_type is date,
            ))

    def check(self, values: dict[str, Any]) -> tuple[dict[str, Any], list[Any]] | None:
        from app.validators.idcard import id_check_char

        given = values
        values = {**self.defaults, **values}
        if not self.is_person:
            return values, self.field_issues(values, given)
        id_number, birth, sex = values.get("id_number"), values.get("birth_date"), values.get("sex")
        if (not isinstance(id_number, str) or len(id_number) != 18 or not id_number[:17].isdigit() or birth is None or not sex
                or values.get("living_status", "1") != "1" or values.get("status_date") is not None):
            return None
        if (id_check_char(id_number[:17]) != id_number[17] or id_number[6:14] != birth.strftime("%Y%m%d")
                or str(int(id_number[16]) % 2 or 2) != sex):
            return None  # let the service explain which part disagrees
        return values, self.field_issues(values, given)

    def field_issues(self, values: dict[str, Any], given: dict[str, Any]) -> list[Any]:
        """Issues in the order of the columns; a default value is valid (checked once, in the tests)."""
        from app.issues import Issue

        issues = []
        for name, label, required, length, codes, is_date in self.specs:
            if name not in given and name in self.defaults and self.defaults[name] is not None:
                continue
            value = values.get(name)
            if value is None or value == "":
                if required:
                    issues.append(Issue("required", f"{label}不能为空", {"field": name}))
                continue
            if length and isinstance(value, str) and len(value) > length:
                issues.append(Issue("too-long", f"{label}最多{length}个字符，现为{len(value)}个", {"field": name}))
            if codes is not None and str(value) not in codes[0]:
                issues.append(Issue("unknown-code", f"{label}的值“{value}”不在代码表中", {"field": name},
                                    hint=f"可选值见代码表 {codes[1]}"))
            if is_date and not isinstance(value, date):
                issues.append(Issue("bad-date", f"{label}不是有效日期：{value}", {"field": name}))
        return issues

"""The generated demo county as rows: one polars frame per table (current rows, history rows, tags,
observations) and the parts of the change log, creates first, then the events in date order."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from app.seed import names
from app.seed.changelog import CREATE_CHANGES, CreateLog
from app.seed.county import County
from app.seed.days import NO_DAY, from_day, iso
from app.seed.events import END_KINDS
from app.seed.frames import codes, dates, ints_or_null, json_choice, strs, take
from app.seed.persons import person_names
from app.seed.places import addresses
from app.seed.versions import LogRow, versioned

Frames = tuple[pl.DataFrame, pl.DataFrame | dict[str, Any]]  # current rows, history rows ({} if none)


def county_frames(gen: County, batches: dict[str, int]) -> dict[str, Any]:
    """One frame per table, except ``change_log``: a list of frames and ``CreateLog`` parts."""
    logs: list[LogRow] = []  # the events' entries, of every entity
    address = addresses(gen)
    household, household_history = _households(gen, batches, logs, address)
    person, person_history = _persons(gen, batches, logs)
    house, house_history = _houses(gen, batches, logs, address)
    organisation, organisation_history = _organisations(gen, batches, logs)
    tag = _tags(gen, batches["create"], logs)
    return {
        "household": household, "person": person, "house": house, "organisation": organisation,
        "household_history": household_history, "person_history": person_history,
        "house_history": house_history, "organisation_history": organisation_history,
        "tag": tag, "observation": _observations(gen, batches["create"]), "change_log": _change_log(gen, batches, logs),
    }


def _households(gen: County, batches: dict[str, int], logs: list[LogRow], address: pl.Series) -> Frames:
    Hn = gen.H
    grid_codes = pl.Series(gen.grid_codes)
    vf = np.full(Hn, gen.start, dtype=np.int32)
    state = {"area": gen.h_grid.copy(), "status": np.full(Hn, "1", dtype="<U1"), "status_date": np.full(Hn, NO_DAY, dtype=np.int32)}
    numbers = pl.Series([v.code for v in gen.villages]).gather(gen.h_village) + pl.Series(gen.h_seq).cast(pl.String).str.zfill(4)
    static = pl.DataFrame({"number": numbers, "kind": pl.Series(["1"] * Hn), "address": address})

    def render(f: str, v: Any) -> Any:
        if f == "area":
            return gen.grid_codes[int(v)]
        if f == "status_date":
            return iso(int(v))
        return None if v == "" else str(v)

    def build(idx: np.ndarray, state: dict[str, np.ndarray], vf: np.ndarray, batch: np.ndarray) -> pl.DataFrame:
        return take(static, idx).with_columns(
            pl.Series("area_code", grid_codes.gather(state["area"])),
            codes(state["status"], "status"),
            dates(state["status_date"], "status_date"),
            dates(vf, "valid_from"),
            pl.Series("batch_id", batch),
        )

    return versioned("household", 1, vf, state, gen.h_changes, batches, build, render, logs)


def _persons(gen: County, batches: dict[str, int], logs: list[LogRow]) -> Frames:
    N = gen.N
    grid_codes = pl.Series(gen.grid_codes)
    dests = list(names.DESTINATIONS)
    state = {
        "area": gen.p_grid.copy(), "household_id": gen.p_hh.astype(np.int64) + 1, "relation": gen.p_rel.copy(),
        "marital_status": gen.p_mar.copy(), "living_status": gen.p_live.copy(), "status_date": gen.p_sdate.copy(),
        "moved_to": gen.p_moved.copy(),
    }
    p_ids = np.arange(1, N + 1, dtype=np.int64)
    phone_no = pl.Series((p_ids * 7919 + gen.seed * 104729) % 1_000_000).cast(pl.String).str.zfill(6)
    phones = pl.select(pl.when(pl.Series(gen.p_has_phone)).then("19900" + phone_no).otherwise(None)).to_series()
    static = pl.DataFrame({
        "id_number": gen.id_number,
        "name": person_names(gen),
        "sex": json_choice(["2", "1"], gen.p_male),
        "birth_date": dates(gen.p_birth),
        "ethnic_group": codes(gen.p_ethnic),
        "education": strs(codes(gen.p_edu)),
        "political_status": codes(gen.p_pol),
        "residence_type": codes(gen.p_res.astype(str)),
        "phone": phones,
    })
    dest_series = pl.Series(dests + [None])

    def render(f: str, v: Any) -> Any:
        if f == "area":
            return gen.grid_codes[int(v)]
        if f == "status_date":
            return iso(int(v))
        if f == "moved_to":
            return None if int(v) < 0 else dests[int(v)]
        if f == "household_id":
            return int(v)
        return str(v)

    def build(idx: np.ndarray, state: dict[str, np.ndarray], vf: np.ndarray, batch: np.ndarray) -> pl.DataFrame:
        moved = np.where(state["moved_to"] < 0, len(dests), state["moved_to"]).astype(np.int64)
        return take(static, idx).with_columns(
            pl.Series("area_code", grid_codes.gather(state["area"])),
            pl.Series("household_id", state["household_id"].astype(np.int64)),
            codes(state["relation"], "relation"),
            codes(state["marital_status"], "marital_status"),
            codes(state["living_status"], "living_status"),
            dates(state["status_date"], "status_date"),
            pl.Series("moved_to", dest_series.gather(moved)),
            dates(vf, "valid_from"),
            pl.Series("batch_id", batch),
        )

    return versioned("person", 2, gen.p_vf.copy(), state, gen.p_changes, batches, build, render, logs)


def _houses(gen: County, batches: dict[str, int], logs: list[LogRow], address: pl.Series) -> Frames:
    hs = gen.house
    k = len(hs["hh"])
    grid_codes = pl.Series(gen.grid_codes)
    house_of_hh = np.full(gen.H, -1, dtype=np.int64)
    house_of_hh[hs["hh"]] = np.arange(k)
    changes = {int(house_of_hh[h]): [c for c in ch if c[1] == "merge"] for h, ch in gen.h_changes.items() if house_of_hh[h] >= 0}
    changes = {i: c for i, c in changes.items() if c}
    static = pl.DataFrame({
        "address": address.gather(hs["hh"]),
        "house_type": codes(hs["type"]),
        "floor_area": pl.Series(hs["area"]),
        "structure": codes(hs["structure"]),
        "safety_grade": codes(hs["grade"]),
        "household_id": pl.Series(hs["hh"].astype(np.int64) + 1),
        "status": pl.Series(["1"]).gather(np.zeros(k, dtype=np.int64)),
    })

    def build(idx: np.ndarray, state: dict[str, np.ndarray], vf: np.ndarray, batch: np.ndarray) -> pl.DataFrame:
        return take(static, idx).with_columns(
            pl.Series("area_code", grid_codes.gather(state["area"])), dates(vf, "valid_from"), pl.Series("batch_id", batch))

    vf = np.full(k, gen.start, dtype=np.int32)
    state = {"area": gen.h_grid[hs["hh"]].copy()}
    return versioned("house", 3, vf, state, changes, batches, build, lambda f, v: gen.grid_codes[int(v)], logs)


def _organisations(gen: County, batches: dict[str, int], logs: list[LogRow]) -> Frames:
    orgs = gen.orgs
    ko = len(orgs)
    vf = np.array([o["vf"] for o in orgs], dtype=np.int32)
    state = {"area_code": np.array([o["area"] for o in orgs], dtype="<U15"), "status": np.full(ko, "1", dtype="<U1")}
    changes = {i: o["changes"] for i, o in enumerate(orgs) if o["changes"]}
    static = pl.DataFrame({
        "uscc": [o["uscc"] for o in orgs], "name": [o["name"] for o in orgs], "kind": [o["kind"] for o in orgs],
        "industry": [o["industry"] for o in orgs], "employees": [o["employees"] for o in orgs],
    })

    def build(idx: np.ndarray, state: dict[str, np.ndarray], vf: np.ndarray, batch: np.ndarray) -> pl.DataFrame:
        return take(static, idx).with_columns(
            pl.Series("area_code", state["area_code"]), pl.Series("status", state["status"]),
            dates(vf, "valid_from"), pl.Series("batch_id", batch))

    return versioned("organisation", 4, vf, state, changes, batches, build, lambda f, v: str(v), logs)


def _tags(gen: County, create: int, logs: list[LogRow]) -> pl.DataFrame:
    """The tag rows (never versioned: a tag ends, it does not change) and the log rows of their ends."""
    parts = gen.tag_parts
    lens = np.array([len(p["subject"]) for p in parts], dtype=np.int64)
    part_of = np.repeat(np.arange(len(parts)), lens)
    t_code = pl.Series("tag_code", [p["code"] for p in parts]).gather(part_of)
    t_household = np.array([p["household"] for p in parts], dtype=bool)[part_of]
    t_subject = np.concatenate([p["subject"] for p in parts]).astype(np.int64) + 1
    t_vf = np.concatenate([p["vf"] for p in parts])
    t_vt = np.concatenate([p["vt"] for p in parts])
    t_reason = np.concatenate([p["reason"] for p in parts])
    t_attrs = pl.concat([p["attrs"] for p in parts]).alias("attrs")
    kt = len(t_code)
    t_ids = np.arange(1, kt + 1, dtype=np.int64)
    tag = pl.DataFrame({
        "id": t_ids,
        "tag_code": t_code,
        "person_id": ints_or_null(t_subject, ~t_household),
        "household_id": ints_or_null(t_subject, t_household),
        "valid_from": dates(t_vf),
        "valid_to": dates(t_vt),
        "attrs": t_attrs,
        "evidence": pl.Series([None] * kt, dtype=pl.String),
        "batch_id": np.full(kt, create, dtype=np.int64),
        "row_version": np.where(t_vt != NO_DAY, 2, 1),
    })
    ended = np.flatnonzero(t_vt != NO_DAY)
    for i, d, r in zip(ended.tolist(), t_vt[ended].tolist(), t_reason[ended].tolist(), strict=True):
        logs.append((d, 5, int(t_ids[i]), "tag", "end", END_KINDS[r], f'{{"valid_to": [null, "{iso(d)}"]}}'))
    return tag


def _observations(gen: County, create: int) -> pl.DataFrame:
    ob = gen.obs
    kob = len(ob)
    return pl.DataFrame({
        "id": np.arange(1, kob + 1, dtype=np.int64),
        "item_code": [r[0] for r in ob], "subject_type": ["area"] * kob, "subject_id": [r[1] for r in ob],
        "area_code": [r[2] for r in ob], "period": [r[3] for r in ob],
        "period_start": dates(np.array([r[4] for r in ob])), "period_end": dates(np.array([r[5] for r in ob])),
        "value": [float(r[6]) for r in ob], "unit": [r[7] for r in ob],
        "batch_id": np.full(kob, create, dtype=np.int64), "row_version": np.ones(kob, dtype=np.int64),
    })


def _change_log(gen: County, batches: dict[str, int], logs: list[LogRow]) -> list[CreateLog | pl.DataFrame]:
    """Creates first (ids ascending per entity), then the events in date order.

    The creates of the big tables are derived from their loaded rows by the database (CreateLog);
    the few organisations and the events are written as rows."""
    create = batches["create"]
    ko = len(gen.orgs)
    org_creates = pl.DataFrame({
        "batch_id": np.full(ko, create, dtype=np.int64),
        "entity": ["organisation"] * ko,
        "entity_id": pl.Series(np.arange(1, ko + 1, dtype=np.int64)).cast(pl.String),
        "action": ["create"] * ko,
        "effective_date": dates(np.array([o["vf"] for o in gen.orgs], dtype=np.int32)),
        "changes": pl.Series([CREATE_CHANGES] * ko, dtype=pl.String),
    })
    logs.sort(key=lambda e: (e[0], e[1], e[2]))
    event_log = pl.DataFrame({
        "batch_id": np.array([batches[e[5]] for e in logs], dtype=np.int64),
        "entity": [e[3] for e in logs],
        "entity_id": [str(e[2]) for e in logs],
        "action": [e[4] for e in logs],
        "effective_date": dates(np.array([e[0] for e in logs], dtype=np.int32)),
        "changes": pl.Series([e[6] for e in logs], dtype=pl.String),
    })
    start = from_day(gen.start)
    return [
        CreateLog("household", "household", create, start),
        CreateLog("person", "person", create, start, from_birth=True),
        CreateLog("house", "house", create, start),
        org_creates,
        CreateLog("tag", "tag", create, column="valid_from"),
        CreateLog("observation", "observation", create, column="period_end"),
        event_log,
    ]

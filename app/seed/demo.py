"""A deterministic synthetic county for demos, benchmarks and tests: ``seed_demo``.

Same ``persons``, ``seed`` and ``today`` → the same data, row for row (except the wall-clock
``created_at`` of the change batches and users, and the salted password hashes).

What it builds (云溪县, code 339901, from ``demo_county_areas.csv``):

- areas through ``import_areas_csv``, plus one village merged into its neighbour about two years
  before ``today`` (the village and its grids get ``valid_to`` and a successor; its households,
  persons, houses and organisations move to the successor with history rows and change-log entries);
- households of rural structure (sizes 1–8, mean ≈ 2.9; head 02, spouse 10, children 20/30,
  children's spouses 28/38, parents 51/52, grandchildren 41/42), each in one grid of its village;
- persons from those structures (an old rural population pyramid), with valid synthetic ID numbers
  (area 339901, sequence unique per birth date and sex), synthetic names, phones ``19900xxxxxx``;
- events over the three years before ``today``: deaths (~7‰ a year, by a Gompertz curve), moves out
  of the county (~1 % a year, single persons and whole households), moves between households of the
  county, and the succession of a new head when a head dies or leaves (or the household's
  deregistration when nobody is left). Each event is a new version (history row + current row) and
  a change-log entry with the real old → new values;
- tags at realistic rates with start dates over the past years, some ended (attribute changes,
  contracts not renewed, risks removed, 16th / 60th birthdays, and every tag of a person or
  household that ended);
- houses (one for most households), a few organisations per village (the N2 village collective with
  a valid 统一社会信用代码, co-operatives, firms, shops), yearly village observations for five years
  and the monthly 低保 payments of the last 24 months (the sum of the village's 低保 amounts);
- the demo users (``create_demo_users``).

Change log: every created record gets one ``create`` entry whose ``changes`` is the compact
``{"seed": [null, true]}`` and whose effective date is the record's first ``valid_from`` (the record
and its history rows hold the values; writing every field again would double the size of a
million-person load). For the big tables the database derives these entries from the loaded rows
(``INSERT … SELECT``, see ``CreateLog``). Every event gets an ``update`` / ``end`` entry with the
real old and new values, as the services write them, in the batch of its kind (死亡注销, 迁出, …).
Entry ids grow with time for each record (creates first, then events by date), as
``history.record_history`` expects.

Dates: the "system start" (base data recorded from) is 1 January six years before ``today``; a
person born later is recorded from the birth date. Events fall in the three years before ``today``;
the merge is on the first day of the month 24 months before ``today``.

Writing: one transaction; areas, batches and users through the ORM, everything else through
``app.bulk`` (sqlite3 ``executemany`` / PostgreSQL ``COPY``), with the secondary indexes (and
PostgreSQL's foreign keys) of the loaded tables dropped during the load and rebuilt at its end. A
failure leaves nothing behind, indexes included.

Modules: ``county`` (areas, villages, household structures, the merged village), ``persons``
(members, attributes, ID numbers, names), ``events`` (deaths, moves, head succession, the merge
applied), ``tags``, ``places`` (houses, organisations, observations), ``versions`` and ``tables``
(changes → rows), ``changelog`` (the create entries derived in SQL); this module runs them in order.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text, update
from sqlmodel import Session

from app import bulk
from app.db import Database
from app.issues import Issue, ValidationFailed
from app.models import Area, ChangeBatch, User
from app.seed.changelog import CreateLog, write_change_log
from app.seed.county import AREAS_CSV, COUNTY_CODE, County, read_areas
from app.seed.days import from_day
from app.seed.events import plan_events, simulate
from app.seed.persons import draw_persons, id_numbers
from app.seed.places import draw_houses, draw_observations, draw_organisations
from app.seed.tables import county_frames
from app.seed.tags import assign_tags
from app.services import history
from app.services.areas import import_areas_csv

__all__ = ["AREAS_CSV", "TABLES", "CreateLog", "SeedSummary", "base_data_counts", "demo_frames", "seed_demo"]

# Tables written by the seed, in foreign-key order.
TABLES = (
    "household", "person", "house", "organisation",
    "household_history", "person_history", "house_history", "organisation_history",
    "tag", "observation", "change_log",
)

# Base tables that must be empty before seeding.
_BASE_TABLES = ("person", "household", "house", "organisation", "tag", "observation")

_BATCH_NOTES = {
    "create": "演示数据：初始建档（户、人员、房屋、单位、标签、台账）",
    "merge": "演示数据：区划调整（{old}并入{new}）",
    "death": "演示数据：死亡注销",
    "moveout": "演示数据：迁出县外",
    "move": "演示数据：县内户间迁移",
    "household": "演示数据：户主变更、户注销",
    "tagend": "演示数据：标签到期或结束",
    "org": "演示数据：单位注销",
}

# The bench scripts drive the generator phase by phase through these names.
_County, _read_areas = County, read_areas


# --------------------------------------------------------------------------------------- summary


@dataclass
class SeedSummary:
    persons: int
    seed: int
    today: date
    counts: dict[str, int] = field(default_factory=dict)
    phases: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0
    merged: tuple[str, str, date] | None = None

    def lines(self) -> list[str]:
        out = [f"演示数据已生成：{self.persons:,} 人，种子 {self.seed}，基准日 {self.today}，用时 {self.seconds:.1f} 秒"]
        if self.merged:
            out.append(f"  区划调整：{self.merged[0]} 于 {self.merged[2]} 并入 {self.merged[1]}")
        out.append("  各表行数：")
        out += [f"    {name:<22} {n:>12,}" for name, n in self.counts.items()]
        out.append("  各阶段用时（秒）：")
        out += [f"    {name:<22} {s:>8.2f}" for name, s in self.phases.items()]
        return out


class _Clock:
    """Phase timings (seconds, summed per name), reported through ``progress`` as they end."""

    def __init__(self, phases: dict[str, float], progress: Callable[[str], None] | None):
        self.phases, self.progress = phases, progress
        self.t = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.phases[name] = self.phases.get(name, 0.0) + now - self.t
        self.t = now
        if self.progress:
            self.progress(f"{name}: {self.phases[name]:.1f}s")


# --------------------------------------------------------------------------------------- database


def base_data_counts(session: Session) -> dict[str, int]:
    """Rows in the base tables the demo county must find empty."""
    return {t: int(session.execute(text(f'SELECT COUNT(*) FROM "{t}"')).scalar_one()) for t in _BASE_TABLES}


def seed_demo(
    db: Database,
    persons: int,
    seed: int,
    today: date,
    *,
    progress: Callable[[str], None] | None = None,
    areas_csv: Path = AREAS_CSV,
) -> SeedSummary:
    """Fill an empty, migrated database with the demo county (all or nothing); see the module doc."""
    summary = SeedSummary(persons=persons, seed=seed, today=today)
    clock = _Clock(summary.phases, progress)
    t0 = time.perf_counter()
    villages, grid_codes = read_areas(areas_csv)
    gen = County(persons, seed, today, villages, grid_codes)
    # An engine-bound session; the bulk loads run on the session's own connection, so the ORM work
    # (areas, batches, users) and the raw loads are one transaction.
    with db.session() as session:
        try:
            conn = session.connection()
            counts = base_data_counts(session)
            demo_users = session.execute(select(func.count()).select_from(User).where(User.username.startswith("demo_"))).scalar_one()
            if any(counts.values()) or demo_users:
                filled = "、".join(f"{k} {v:,} 条" for k, v in counts.items() if v) or f"演示账号 {demo_users} 个"
                raise ValidationFailed(Issue("database-not-empty", f"数据库中已有数据（{filled}），演示数据只能写入空库",
                                             hint="换一个空数据库，或使用 --if-empty 在已有数据时跳过"))
            with bulk.fast_load(conn):
                gen.plan()
                batches = _write_reference(session, gen, areas_csv)
                clock.lap("areas, batches, users")
                frames = _generate(gen, batches, clock)
                with bulk.constraints_deferred(conn, TABLES):
                    clock.lap("drop indexes, foreign keys")
                    for name in TABLES:
                        data = frames.pop(name)
                        if name == "change_log":
                            summary.counts[name] = write_change_log(conn, data)
                        else:
                            summary.counts[name] = bulk.bulk_insert(conn, name, data)
                        clock.lap(f"write {name}")
                clock.lap("rebuild indexes, foreign keys")
                bulk.finish_load(conn, TABLES)
                clock.lap("analyze / sequences")
            session.commit()
            clock.lap("commit")
        except BaseException:
            session.rollback()
            raise
    for name in ("area", "app_user", "change_batch"):
        with db.engine.connect() as conn:
            summary.counts[name] = int(conn.execute(text(f'SELECT COUNT(*) FROM "{name}"')).scalar_one())
    old, into = gen.villages[gen.merged_village], gen.villages[gen.into_village]
    summary.merged = (f"{old.name}（{old.code}）", f"{into.name}（{into.code}）", from_day(gen.merge_day))
    summary.seconds = time.perf_counter() - t0
    return summary


def _write_reference(session: Session, gen: County, areas_csv: Path) -> dict[str, int]:
    """Areas (with the merge), change batches and demo users, through the ORM."""
    from app.seed.users import create_demo_users

    before = session.execute(select(func.coalesce(func.max(ChangeBatch.id), 0))).scalar_one()
    import_areas_csv(session, None, areas_csv, file_name=areas_csv.name)
    session.execute(update(ChangeBatch).where(ChangeBatch.id > before).values(source="seed", note="演示数据：示范县区划"))
    old, into = gen.villages[gen.merged_village], gen.villages[gen.into_village]
    batches: dict[str, int] = {}
    for key, note in _BATCH_NOTES.items():
        batches[key] = history.open_batch(session, None, "seed", note=note.format(old=old.name, new=into.name)).id
    merge_batch = session.get(ChangeBatch, batches["merge"])
    on = from_day(gen.merge_day)
    successors = {old.code: into.code} | {gen.grid_codes[g]: gen.grid_codes[g2] for g, g2 in gen.grid_map.items()}
    for code, successor in successors.items():
        area = session.get(Area, code)
        area.valid_to, area.successor_code = on, successor
        history.log_change(session, merge_batch, "area", code, "end", {"valid_to": (None, on), "successor_code": (None, successor)}, on)
    session.flush()
    create_demo_users(session, COUNTY_CODE)
    session.flush()
    return batches


def _generate(gen: County, batches: dict[str, int], clock: _Clock) -> dict[str, Any]:
    """The phases after ``gen.plan()``, in order (each draws from its own random stream)."""
    draw_persons(gen)
    gen.id_number = id_numbers(gen)
    clock.lap("generate persons")
    plan_events(gen)
    simulate(gen)
    clock.lap("generate events")
    assign_tags(gen)
    clock.lap("generate tags")
    draw_houses(gen)
    draw_organisations(gen)
    draw_observations(gen)
    clock.lap("generate houses, orgs, observations")
    frames = county_frames(gen, batches)
    clock.lap("build frames")
    return frames


def demo_frames(persons: int, seed: int, today: date, batches: dict[str, int] | None = None) -> dict[str, Any]:
    """The generated rows without a database (for inspection and benchmarks); batch ids are stand-ins.

    One frame per table, except ``change_log``: a list of frames and ``CreateLog`` parts."""
    villages, grid_codes = read_areas()
    gen = County(persons, seed, today, villages, grid_codes)
    batches = batches or {k: i for i, k in enumerate(_BATCH_NOTES, start=1)}
    gen.plan()
    return _generate(gen, batches, _Clock({}, None))

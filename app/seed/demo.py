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
``app.seed.bulk`` (sqlite3 ``executemany`` / PostgreSQL ``COPY``), with the secondary indexes (and
PostgreSQL's foreign keys) of the loaded tables dropped during the load and rebuilt at its end. A
failure leaves nothing behind, indexes included.
"""

from __future__ import annotations

import csv
import json
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from sqlalchemy import Date, bindparam, func, select, text, update
from sqlmodel import Session

from app.db import Database
from app.issues import Issue, ValidationFailed
from app.models import Area, ChangeBatch, User
from app.seed import bulk, names
from app.services import history
from app.services.areas import import_areas_csv
from app.validators.uscc import ALPHABET, make_uscc

AREAS_CSV = Path(__file__).resolve().parent / "demo_county_areas.csv"
COUNTY_CODE = "339901000000"
COUNTY_NAME = "云溪县"
ID_AREA = "339901"
CREATE_CHANGES = '{"seed": [null, true]}'
EMPTY = "{}"
# Why a record or tag ended (the batch its change-log entry goes to); int8 codes in the arrays.
END_KINDS = ("", "death", "moveout", "household", "tagend")
DEATH, MOVEOUT, HOUSEHOLD_END, TAGEND = 1, 2, 3, 4

_EPOCH = date(1970, 1, 1)
NO_DAY = np.iinfo(np.int32).max  # "no date" in the int32 day-number arrays
_ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
_ID_CHECK = np.array(list("10X98765432"))

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


def day(d: date) -> int:
    return (d - _EPOCH).days


def from_day(n: int) -> date:
    return _EPOCH + timedelta(days=int(n))


@lru_cache(maxsize=100_000)
def iso(n: int) -> str | None:
    return None if n == NO_DAY else from_day(n).isoformat()


def _dates(days: np.ndarray, name: str = "") -> pl.Series:
    s = pl.Series(name, np.asarray(days, dtype=np.int32))
    return pl.select(pl.when(s == NO_DAY).then(None).otherwise(s).cast(pl.Date).alias(name)).to_series()


def _ints_or_null(values: np.ndarray, mask: np.ndarray, name: str = "") -> pl.Series:
    s = pl.Series(name, np.asarray(values, dtype=np.int64))
    return pl.select(pl.when(pl.Series(mask)).then(s).otherwise(None).alias(name)).to_series()


def _rows(frame: pl.DataFrame, idx: np.ndarray) -> pl.DataFrame:
    return frame.select(pl.all().gather(pl.Series(np.asarray(idx, dtype=np.int64))))


def _strs(values: np.ndarray, name: str = "", null: str = "") -> pl.Series:
    s = pl.Series(name, values, dtype=pl.String)
    return pl.select(pl.when(s == null).then(None).otherwise(s).alias(name)).to_series()


def _ymd(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    d = np.asarray(days).astype("datetime64[D]")
    months = d.astype("datetime64[M]")
    y = months.astype(np.int64) // 12 + 1970
    m = months.astype(np.int64) % 12 + 1
    dd = (d - months.astype("datetime64[D]")).astype(np.int64) + 1
    return y, m, dd


def add_years(days: np.ndarray, years: int | np.ndarray) -> np.ndarray:
    """Day numbers of the same calendar day ``years`` later (29 Feb → 1 Mar)."""
    y, m, d = _ymd(days)
    months = ((y + years - 1970) * 12 + (m - 1)).astype("datetime64[M]")
    return (months.astype("datetime64[D]") + (d - 1)).astype(np.int64).astype(np.int32)


def _floor(rng: np.random.Generator, x: np.ndarray, low: float, spread: float = 1.5) -> np.ndarray:
    """``x`` with values under ``low`` spread over [low, low + spread) (a hard clip would pile them on one day)."""
    return np.where(x < low, low + rng.random(len(x)) * spread, x)


def _json_choice(options: list[str], which: np.ndarray) -> pl.Series:
    """One of a few JSON texts per row (``which``: bool or int index into ``options``)."""
    return pl.Series(options).gather(np.asarray(which, dtype=np.int64))


def _s(values: np.ndarray, name: str = "") -> pl.Series:
    """A numpy array of short code strings as a polars column (via its few distinct values: fast)."""
    uniq, inverse = np.unique(values, return_inverse=True)
    return pl.Series(name, uniq.tolist(), dtype=pl.String).gather(inverse.astype(np.int64))


def _pick(rng: np.random.Generator, codes: list[str], probs: list[float], n: int) -> np.ndarray:
    p = np.asarray(probs, dtype=float)
    return np.asarray(codes)[rng.choice(len(codes), size=n, p=p / p.sum())]


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
    def __init__(self, phases: dict[str, float], progress: Callable[[str], None] | None):
        self.phases, self.progress = phases, progress
        self.t = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.phases[name] = self.phases.get(name, 0.0) + now - self.t
        self.t = now
        if self.progress:
            self.progress(f"{name}: {self.phases[name]:.1f}s")


# --------------------------------------------------------------------------------------- areas


@dataclass
class _Village:
    code: str
    name: str  # short: 大湾村 / 湾口社区
    township: str
    urban: bool
    grids: list[int]  # indices into _County.grid_codes


def _read_areas(path: Path = AREAS_CSV) -> tuple[list[_Village], list[str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))[1:]
    names_by_code = {r[0]: r[1] for r in rows}
    villages: list[_Village] = []
    grid_codes: list[str] = []
    for code, name, urban_rural, *_ in rows:
        if len(code) == 12 and code[9:] != "000" and code[6:9] != "000":
            short = name.replace("社区居民委员会", "社区").replace("村民委员会", "村").replace("居民委员会", "社区")
            villages.append(_Village(code, short, names_by_code[code[:9] + "000"], urban_rural.startswith("1") or code[9:] < "200", []))
    index = {v.code: v for v in villages}
    for code, *_ in rows:
        if len(code) == 15:
            index[code[:12]].grids.append(len(grid_codes))
            grid_codes.append(code)
    return villages, grid_codes


# --------------------------------------------------------------------------------------- structures

# (size, roles, weight within the size, head age (low, mode, high), P(head is a man)).
# Roles: H head, S spouse, C child, D child's spouse, P parent of the head, G grandchild.
TEMPLATES: tuple[tuple[int, str, float, tuple[float, float, float], float], ...] = (
    (1, "H", 0.52, (60, 75, 102.5), 0.40),
    (1, "H", 0.36, (35, 54, 66), 0.75),
    (1, "H", 0.12, (20, 28, 40), 0.60),
    (2, "HS", 0.66, (50, 64, 94), 0.88),
    (2, "HS", 0.06, (22, 30, 45), 0.80),
    (2, "HC", 0.14, (40, 64, 94), 0.45),
    (2, "HP", 0.10, (30, 48, 66), 0.65),
    (2, "HG", 0.06, (52, 66, 84), 0.45),
    (3, "HSC", 0.50, (28, 50, 68), 0.88),
    (3, "HSP", 0.14, (30, 46, 62), 0.85),
    (3, "HSG", 0.12, (50, 62, 80), 0.88),
    (3, "HCG", 0.10, (50, 66, 90), 0.40),
    (3, "HCC", 0.08, (36, 50, 72), 0.50),
    (3, "HCD", 0.06, (55, 70, 92), 0.40),
    (4, "HSCC", 0.50, (32, 48, 64), 0.90),
    (4, "HSCP", 0.14, (30, 44, 60), 0.88),
    (4, "HSCG", 0.16, (48, 60, 80), 0.90),
    (4, "HSPP", 0.08, (28, 40, 54), 0.88),
    (4, "HCDG", 0.12, (52, 68, 92), 0.40),
    (5, "HSCCC", 0.18, (32, 44, 62), 0.90),
    (5, "HSCCP", 0.22, (32, 44, 58), 0.90),
    (5, "HSCPP", 0.20, (28, 40, 52), 0.90),
    (5, "HSCDG", 0.40, (48, 60, 80), 0.90),
    (6, "HSCCPP", 0.35, (30, 40, 52), 0.90),
    (6, "HSCDGG", 0.50, (48, 60, 78), 0.90),
    (6, "HSCCCP", 0.15, (32, 44, 58), 0.90),
    (7, "HSCDGGG", 0.50, (50, 62, 78), 0.90),
    (7, "HSCCCPP", 0.25, (30, 42, 54), 0.90),
    (7, "HSCDCGG", 0.25, (50, 62, 78), 0.90),
    (8, "HSCDCDGG", 0.50, (52, 64, 80), 0.90),
    (8, "HSCDGGGP", 0.50, (45, 56, 66), 0.90),
)
SIZE_P = (0.19, 0.31, 0.19, 0.14, 0.09, 0.05, 0.02, 0.01)
H, S, C, D, P, G = range(6)
_ROLE = {"H": H, "S": S, "C": C, "D": D, "P": P, "G": G}


class _County:
    """The generator: numpy arrays per table, built phase by phase (no database access)."""

    def __init__(self, persons: int, seed: int, today: date, villages: list[_Village], grid_codes: list[str]):
        if persons < 1 or seed < 0:
            raise ValueError("persons must be at least 1 and seed not negative")
        self.N, self.seed, self.today = persons, seed, today
        self.t = day(today)
        self.start = day(date(today.year - 6, 1, 1))  # the "system start": base data recorded from here
        self.win = day(today - timedelta(days=3 * 365))  # events happen in [win, t)
        m = today.year * 12 + today.month - 1 - 24
        self.merge_day = day(date(m // 12, m % 12 + 1, 1))
        self.villages, self.grid_codes = villages, grid_codes
        self.grid_village = np.empty(len(grid_codes), dtype=np.int32)
        for v, vil in enumerate(villages):
            self.grid_village[vil.grids] = v
        self.urban = np.array([v.urban for v in villages])

    def rng(self, phase: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, phase])

    # ----------------------------------------------------------------------------- households, persons

    def households(self) -> None:
        rng = self.rng(1)
        sizes = rng.choice(np.arange(1, 9), size=int(self.N / 2.4) + 16, p=np.array(SIZE_P) / sum(SIZE_P))
        while sizes.sum() < self.N:
            sizes = np.concatenate([sizes, rng.choice(np.arange(1, 9), size=64, p=np.array(SIZE_P) / sum(SIZE_P))])
        cum = np.cumsum(sizes)
        n_hh = int(np.searchsorted(cum, self.N)) + 1
        sizes = sizes[:n_hh].astype(np.int32)
        sizes[-1] -= int(cum[n_hh - 1] - self.N)
        V = len(self.villages)
        weight = rng.lognormal(0.0, 0.45, V) * np.where(self.urban, 1.4, 1.0)
        village = rng.choice(V, size=n_hh, p=weight / weight.sum())
        n_grids = np.array([len(v.grids) for v in self.villages])
        first_grid = np.array([v.grids[0] for v in self.villages])
        grid = np.sort(first_grid[village] + (rng.random(n_hh) * n_grids[village]).astype(np.int32)).astype(np.int32)
        self.H = n_hh
        self.h_size = sizes
        self.h_grid = grid
        self.h_village = self.grid_village[grid]
        self.h_seq = np.arange(n_hh) - np.searchsorted(self.h_village, self.h_village) + 1
        self.h_door = np.arange(n_hh) - np.searchsorted(grid, grid) + 1
        # household-level draws
        tmpl = np.empty(n_hh, dtype=np.int32)
        for size in range(1, 9):
            idx = np.flatnonzero(sizes == size)
            options = [i for i, t in enumerate(TEMPLATES) if t[0] == size]
            p = np.array([TEMPLATES[i][2] for i in options])
            tmpl[idx] = np.asarray(options)[rng.choice(len(options), size=len(idx), p=p / p.sum())]
        self.h_tmpl = tmpl
        r = rng.random(n_hh)
        self.h_res = np.where(r < 0.085, 3, np.where(r < 0.125, 4, 1)).astype(np.int8)  # 3/4: whole outsider households
        self.h_res[self.h_size > 5] = 1
        self.h_ethnic = np.where(rng.random(n_hh) < 0.985, "01",
                                 _pick(rng, ["22", "15", "06", "03", "08", "12"], [0.5, 0.15, 0.1, 0.1, 0.1, 0.05], n_hh))
        self.h_surname = self._surnames(rng, n_hh)

    def plan(self) -> None:
        """Households and the merged village: what the areas written first need to know."""
        self.households()
        self.choose_merge()

    def _surnames(self, rng: np.random.Generator, n: int) -> np.ndarray:
        k = len(names.SURNAMES)
        w = 1.0 / (np.arange(k) + 4.0)
        return rng.choice(k, size=n, p=w / w.sum()).astype(np.int32)

    def persons(self) -> None:
        rng = self.rng(2)
        parts: dict[str, list[np.ndarray]] = defaultdict(list)
        for t, (_size, roles, _w, (lo, mode, hi), p_male) in enumerate(TEMPLATES):
            hh = np.flatnonzero(self.h_tmpl == t)
            n = len(hh)
            if n == 0:
                continue
            adult_children = "D" in roles or ("G" in roles and "C" in roles)
            head_age = rng.triangular(lo, mode, hi, n)
            head_male = rng.random(n) < p_male
            ages: list[np.ndarray] = []
            males: list[np.ndarray] = []
            first_c = last_c = None
            for pos, role in enumerate(roles):
                if role == "H":
                    age, male = head_age, head_male
                elif role == "S":
                    age = _floor(rng, np.minimum(head_age + np.where(head_male, -2.5, 2.5) + rng.normal(0, 3, n), 104), 20.2)
                    male = ~head_male
                elif role == "C":
                    if last_c is None:
                        if adult_children:
                            age = _floor(rng, head_age - rng.uniform(22, 32, n), 18.5)
                        else:
                            gap = 22 + rng.random(n) * (np.minimum(38, head_age) - 22)
                            age = _floor(rng, head_age - gap, 0.02)
                    else:
                        age = ages[last_c] - rng.uniform(1, 6, n)
                        age = _floor(rng, age, 18.5 if adult_children else 0.02)
                    male = rng.random(n) < (0.85 if (adult_children and "D" in roles[pos:pos + 2]) else 0.52)
                    first_c = pos if first_c is None else first_c
                    last_c = pos
                elif role == "D":
                    c_male = males[last_c]
                    age = _floor(rng, np.minimum(ages[last_c] + np.where(c_male, -2, 2) + rng.normal(0, 2.5, n), 100), 20.2)
                    male = ~c_male
                elif role == "P":
                    if roles.count("P") == 2 and roles[pos - 1] != "P":
                        age = np.minimum(head_age + rng.uniform(24, 34, n), 103 + rng.random(n))
                        male = np.ones(n, dtype=bool)
                    elif roles.count("P") == 2:
                        age = np.maximum(ages[pos - 1] - rng.uniform(0, 5, n), head_age + 19)
                        male = np.zeros(n, dtype=bool)
                    else:
                        age = np.minimum(head_age + rng.uniform(22, 34, n), 100 + 5 * rng.random(n))
                        male = rng.random(n) < 0.35
                else:  # G
                    if pos > 0 and roles[pos - 1] == "G":
                        age = ages[pos - 1] - rng.uniform(1, 5, n)
                    elif first_c is not None:
                        age = ages[first_c] - rng.uniform(23, 35, n)
                    else:
                        age = head_age - rng.uniform(44, 62, n)
                        age = np.where(age > 17, rng.uniform(10, 17, n), age)
                    age = _floor(rng, age, 0.02, 4)
                    male = rng.random(n) < 0.54
                ages.append(age)
                males.append(male)
                parts["hh"].append(hh)
                parts["pos"].append(np.full(n, pos, dtype=np.int8))
                parts["role"].append(np.full(n, _ROLE[role], dtype=np.int8))
                parts["age"].append(age)
                parts["male"].append(male)
        hh = np.concatenate(parts["hh"])
        pos = np.concatenate(parts["pos"])
        order = np.lexsort((pos, hh))
        self.p_hh = hh[order].astype(np.int32)
        self.p_pos = pos[order]
        self.p_role = np.concatenate(parts["role"])[order]
        age = np.concatenate(parts["age"])[order]
        self.p_male = np.concatenate(parts["male"])[order]
        assert len(self.p_hh) == self.N
        self.h_first = np.searchsorted(self.p_hh, np.arange(self.H)).astype(np.int32)
        self.p_birth = (self.t - np.maximum(np.round(age * 365.2425), 1)).astype(np.int32)
        self.p_age = (self.t - self.p_birth) / 365.2425
        self.p_vf = np.maximum(self.p_birth, self.start).astype(np.int32)
        self.p_grid = self.h_grid[self.p_hh]
        self._attributes(rng)

    def _attributes(self, rng: np.random.Generator) -> None:
        n, age, role, male = self.N, self.p_age, self.p_role, self.p_male
        roles_of_hh = np.array([TEMPLATES[t][1] for t in range(len(TEMPLATES))])[self.h_tmpl[self.p_hh]]
        has_spouse = np.char.find(roles_of_hh, "S") >= 0
        two_parents = np.char.count(roles_of_hh, "P") == 2
        has_d = np.char.find(roles_of_hh, "D") >= 0
        adult_t = has_d | ((np.char.find(roles_of_hh, "G") >= 0) & (np.char.find(roles_of_hh, "C") >= 0))

        # relation to the head
        rel = np.full(n, "02", dtype="<U2")
        rel[role == S] = "10"
        rel[role == C] = np.where(male[role == C], "20", "30")
        rel[role == D] = np.where(male[role == D], "28", "38")
        rel[role == P] = np.where(male[role == P], "51", "52")
        rel[role == G] = np.where(male[role == G], "41", "42")
        self.p_rel = rel

        # marital status
        mar = np.full(n, "10", dtype="<U2")
        married = (role == S) | (role == D) | ((role == H) & has_spouse) | ((role == P) & two_parents)
        mar[married] = "20"
        c_with_d = (role == C) & has_d & (self.p_pos == 2)  # the first child of a template with D is married
        mar[c_with_d] = "20"
        single_p = (role == P) & ~two_parents
        mar[single_p] = _pick(rng, ["30", "40", "20"], [0.85, 0.05, 0.10], int(single_p.sum()))
        for lo, hi, codes, probs in (
            (60, 200, ["30", "40", "10", "20"], [0.72, 0.08, 0.15, 0.05]),
            (35, 60, ["10", "40", "30", "20"], [0.45, 0.30, 0.20, 0.05]),
            (20, 35, ["10", "40", "20"], [0.85, 0.10, 0.05]),
        ):
            sel = (role == H) & ~has_spouse & (age >= lo) & (age < hi)
            mar[sel] = _pick(rng, codes, probs, int(sel.sum()))
        for lo, hi, codes, probs in (
            (20, 30, ["10", "20", "40"], [0.75, 0.20, 0.05]),
            (30, 45, ["10", "20", "40"], [0.40, 0.45, 0.15]),
            (45, 200, ["10", "20", "40", "30"], [0.30, 0.40, 0.20, 0.10]),
        ):
            sel = ((role == C) & ~c_with_d | (role == G)) & (age >= lo) & (age < hi)
            mar[sel] = _pick(rng, codes, probs, int(sel.sum()))
        too_young = age < np.where(male, 22, 20)
        mar[too_young] = "10"
        self.p_mar = mar

        # education (highest level reached, by age)
        edu = np.full(n, "", dtype="<U2")
        edu[(age >= 6) & (age < 15)] = "80"
        edu[(age >= 15) & (age < 18)] = "70"
        for lo, hi, codes, probs in (
            (18, 25, ["20", "30", "40", "60", "70"], [0.25, 0.30, 0.15, 0.15, 0.15]),
            (25, 40, ["10", "20", "30", "40", "60", "70", "80"], [0.02, 0.15, 0.18, 0.15, 0.15, 0.30, 0.05]),
            (40, 55, ["20", "30", "40", "60", "70", "80", "90"], [0.04, 0.07, 0.10, 0.16, 0.45, 0.16, 0.02]),
            (55, 70, ["30", "40", "60", "70", "80", "90"], [0.02, 0.04, 0.12, 0.35, 0.37, 0.10]),
            (70, 200, ["60", "70", "80", "90"], [0.03, 0.12, 0.45, 0.40]),
        ):
            sel = (age >= lo) & (age < hi)
            edu[sel] = _pick(rng, codes, probs, int(sel.sum()))
        self.p_edu = edu
        r = rng.random(n)
        self.p_student = ((age >= 16) & (age < 18) & (r < 0.9)) | ((age >= 18) & (age < 22) & np.isin(edu, ["20", "30"]) & (r < 0.8))

        # residence type: outsider households whole; locals away for work by age and role
        res = self.h_res[self.p_hh].copy()
        local = res == 1
        p_away = np.zeros(n)
        working = (age >= 18) & (age < 50)
        p_away[working] = 0.30
        p_away[working & ((role == C) | (role == D)) & adult_t] = 0.62
        p_away[(age >= 16) & (age < 18)] = 0.05
        p_away[(age >= 50) & (age < 60)] = 0.08
        p_away[self.p_student & (age >= 18)] = 0.9
        res[local & (rng.random(n) < p_away)] = 2
        self.p_res = res

        # political status
        pol = np.full(n, "13", dtype="<U2")
        adult = age >= 18
        p01 = np.where(male, np.where(age >= 40, 0.125, 0.06), np.where(age >= 40, 0.045, 0.04)) * adult
        r = rng.random(n)
        pol[r < p01] = "01"
        pol[(pol == "13") & adult & (age < 40) & (rng.random(n) < 0.003)] = "02"
        pol[(pol == "13") & (age >= 14) & (age < 28) & (rng.random(n) < 0.35)] = "03"
        self.p_pol = pol

        self.p_ethnic = self.h_ethnic[self.p_hh].copy()
        outsider_spouse = ((role == S) | (role == D)) & (rng.random(n) < 0.02)
        self.p_ethnic[outsider_spouse] = _pick(rng, ["22", "06", "15"], [0.5, 0.25, 0.25], int(outsider_spouse.sum()))

        p_phone = np.where(age >= 80, 0.25, np.where(age >= 60, 0.6, 0.85)) * adult
        self.p_has_phone = rng.random(n) < p_phone

        # surnames: children, grandchildren and the head's father carry the family name
        fam = self.h_surname[self.p_hh]
        own = self._surnames(rng, n)
        head_male = self.p_male[self.h_first][self.p_hh]
        carries = (role == C) | (role == G) | ((role == H) & male) | ((role == S) & ~head_male & male) | ((role == P) & male)
        self.p_surname = np.where(carries, fam, own).astype(np.int32)
        self.p_given = rng.random((n, 3))

        self.p_live = np.full(n, "1", dtype="<U1")
        self.p_sdate = np.full(n, NO_DAY, dtype=np.int32)
        self.p_moved = np.full(n, -1, dtype=np.int16)
        self.p_end = np.full(n, NO_DAY, dtype=np.int32)  # death or moving-out day
        self.p_end_kind = np.zeros(n, dtype=np.int8)  # index into END_KINDS

    # ----------------------------------------------------------------------------- identifiers, names

    def id_numbers(self) -> pl.Series:
        y, m, d = _ymd(self.p_birth)
        sexbit = self.p_male.astype(np.int64)
        # rank within (birth date, sex), scrambled into a 3-digit sequence of the right parity
        key = self.p_birth.astype(np.int64) * 2 + sexbit
        order = np.argsort(key, kind="stable")
        sorted_key = key[order]
        starts = np.searchsorted(sorted_key, sorted_key)
        rank = np.empty(self.N, dtype=np.int64)
        rank[order] = np.arange(self.N) - starts
        if rank.max(initial=0) >= 500:
            raise ValueError("more than 500 persons share a birth date and sex: raise the county or the sequence range")
        offset = (self.p_birth.astype(np.int64) * 37 + self.seed) % 500
        seq = 2 * ((rank * 137 + offset) % 500) + sexbit
        digits = [3, 3, 9, 9, 0, 1]
        cols = [np.full(self.N, v, dtype=np.int64) for v in digits]
        cols += [y // 1000, y // 100 % 10, y // 10 % 10, y % 10, m // 10, m % 10, d // 10, d % 10, seq // 100, seq // 10 % 10, seq % 10]
        total = sum(c * w for c, w in zip(cols, _ID_WEIGHTS, strict=True))
        check = _ID_CHECK[total % 11]
        births = _dates(self.p_birth).dt.strftime("%Y%m%d")
        return (ID_AREA + births + pl.Series(seq).cast(pl.String).str.zfill(3) + pl.Series(check, dtype=pl.String)).alias("id_number")

    def person_names(self) -> pl.Series:
        lists = [names.GIVEN_MALE_OLD, names.GIVEN_MALE_NEW, names.GIVEN_FEMALE_OLD, names.GIVEN_FEMALE_NEW]
        offsets = np.cumsum([0] + [len(x) for x in lists])
        chars = pl.Series([c for x in lists for c in x] + [""])
        new = self.p_birth >= day(date(1975, 1, 1))
        which = np.where(self.p_male, 0, 2) + new
        lo, n_chars = offsets[which], offsets[which + 1] - offsets[which]
        g1 = lo + (self.p_given[:, 0] * n_chars).astype(np.int64)
        g2 = np.where(self.p_given[:, 2] < 0.3, len(chars) - 1, lo + (self.p_given[:, 1] * n_chars).astype(np.int64))
        surname = pl.Series(list(names.SURNAMES)).gather(self.p_surname)
        return (surname + chars.gather(g1) + chars.gather(g2)).alias("name")

    # ----------------------------------------------------------------------------- events

    def events_plan(self) -> None:
        """Choose who dies, who moves out (alone or with the whole household) and who moves to another
        household of the county, and when (``simulate`` turns these into versions)."""
        rng = self.rng(3)
        n, t, win = self.N, self.t, self.win
        # events of a household happen after its youngest member's first day
        hh_max_vf = np.maximum.reduceat(self.p_vf, self.h_first)
        lo = np.maximum(win, hh_max_vf[self.p_hh] + 1)
        ok = lo < t
        span = np.maximum(t - lo, 1)

        def when(idx: np.ndarray) -> np.ndarray:
            return (lo[idx] + (rng.random(len(idx)) * span[idx]).astype(np.int64)).astype(np.int32)

        taken = np.zeros(n, dtype=bool)
        # whole households leaving the county: outsiders often, local families rarely
        h_lo = np.maximum(win, hh_max_vf + 1)
        p_hh_move = np.where(self.h_res == 1, 0.0045, 0.12)
        leave_hh = np.flatnonzero((rng.random(self.H) < p_hh_move) & (h_lo < t))
        hh_move_day = (h_lo[leave_hh] + rng.random(len(leave_hh)) * (t - h_lo[leave_hh])).astype(np.int32)
        dest_hh = rng.integers(0, len(names.DESTINATIONS), len(leave_hh))
        self.hh_moves = dict(zip(leave_hh.tolist(), zip(hh_move_day.tolist(), dest_hh.tolist(), strict=True), strict=True))
        in_moving_hh = np.zeros(self.H, dtype=bool)
        in_moving_hh[leave_hh] = True
        taken |= in_moving_hh[self.p_hh]

        # deaths: Gompertz hazard scaled to ~7 per mille a year
        age0 = np.maximum(self.p_age - 3, 0)
        hazard = np.exp(0.088 * age0)
        eligible = ok & ~taken
        scale = 0.007 * 3 * n / max(float((hazard * eligible).sum()), 1e-9)
        p_death = np.minimum(hazard * scale, 0.9) * eligible
        dead = np.flatnonzero(rng.random(n) < p_death)
        taken[dead] = True
        # moves out of the county: mostly young adults
        a = self.p_age
        w_move = np.where((a >= 18) & (a < 35), 6.0, np.where((a >= 35) & (a < 50), 1.5, np.where(a < 18, 0.6, 0.3)))
        w_move = w_move * np.where(self.p_res == 1, 1.0, 1.6)
        eligible = ok & ~taken
        target_individual = 0.03 * n - int(self.h_size[leave_hh].sum())
        p_move = np.minimum(w_move * max(target_individual, 0) / max(float((w_move * eligible).sum()), 1e-9), 0.9) * eligible
        moved = np.flatnonzero(rng.random(n) < p_move)
        taken[moved] = True
        # moves between households of the county (marrying in), into households without events
        cand = np.flatnonzero(ok & ~taken & (self.p_role != H) & (self.p_mar == "10") & (a >= 22) & (a < 35) & (self.p_res <= 2))
        movers = cand[rng.random(len(cand)) < min(0.003 * n / max(len(cand), 1), 0.5)]
        taken[movers] = True
        self.p_end[dead] = when(dead)
        self.p_end_kind[dead] = DEATH
        self.p_end[moved] = when(moved)
        self.p_end_kind[moved] = MOVEOUT
        self.p_dest = np.full(n, -1, dtype=np.int16)
        self.p_dest[moved] = rng.integers(0, len(names.DESTINATIONS), len(moved))
        for h, (d, dest) in self.hh_moves.items():
            mem = self._members(h)
            self.p_end[mem] = d
            self.p_end_kind[mem] = MOVEOUT
            self.p_dest[mem] = dest

        # target households for movers: quiet, local, small enough, another village, not the merged one
        busy = np.zeros(self.H, dtype=bool)
        busy[self.p_hh[taken]] = True
        head_age = self.p_age[self.h_first]
        targets = np.flatnonzero(~busy & (self.h_res == 1) & (self.h_size <= 7) & (head_age >= 45) & (head_age < 75)
                                 & (self.h_village != self.merged_village))
        rng.shuffle(targets)
        self.moves: dict[int, tuple[int, int]] = {}  # person → (day, target household)
        used = 0
        for pidx in movers.tolist():
            while used < len(targets) and self.h_village[targets[used]] == self.h_village[self.p_hh[pidx]]:
                used += 1
            if used >= len(targets):
                break
            self.moves[pidx] = (int(when(np.array([pidx]))[0]), int(targets[used]))
            used += 1

    def _members(self, h: int) -> np.ndarray:
        return np.arange(self.h_first[h], self.h_first[h] + self.h_size[h])

    def choose_merge(self) -> None:
        """The village merged into its neighbour: a 村 (not 社区) with households, chosen by the seed."""
        rng = self.rng(4)
        counts = np.bincount(self.h_village, minlength=len(self.villages))
        rural = [v for v, vil in enumerate(self.villages) if not vil.urban]
        with_people = [v for v in rural if counts[v] > 0] or rural
        v = with_people[int(rng.integers(0, len(with_people)))]
        same = [u for u in rural if u != v and self.villages[u].code[:9] == self.villages[v].code[:9]]
        into = min(same, key=lambda u: abs(u - v))
        self.merged_village, self.into_village = v, into
        self.grid_map = {g: self.villages[into].grids[min(i, len(self.villages[into].grids) - 1)]
                         for i, g in enumerate(self.villages[v].grids)}

    # ----------------------------------------------------------------------------- versions

    def simulate(self) -> None:
        """Turn the planned events into per-entity changes, including head succession and merges."""
        M = self.merge_day
        self.p_changes: dict[int, list[tuple[int, str, dict[str, Any]]]] = defaultdict(list)
        self.h_changes: dict[int, list[tuple[int, str, dict[str, Any]]]] = defaultdict(list)
        self.h_end = np.full(self.H, NO_DAY, dtype=np.int32)
        self.h_end_kind = np.zeros(self.H, dtype=np.int8)
        incoming: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for pidx, (d, target) in self.moves.items():
            incoming[target].append((pidx, d))
        affected = set(self.p_hh[self.p_end != NO_DAY].tolist()) | {int(self.p_hh[p]) for p in self.moves}
        for h in sorted(affected):
            self._simulate_household(h, incoming.get(h, []))
        for pidx, (d, target) in self.moves.items():
            self.p_changes[pidx].append((d, "move", {
                "household_id": target + 1, "area": int(self.h_grid[target]),
                "relation": "28" if self.p_male[pidx] else "38", "marital_status": "20"}))
        for pidx in np.flatnonzero(self.p_end != NO_DAY).tolist():
            kind = END_KINDS[self.p_end_kind[pidx]]
            change: dict[str, Any] = {"living_status": "2" if kind == "death" else "3", "status_date": int(self.p_end[pidx])}
            if kind == "moveout":
                change["moved_to"] = int(self.p_dest[pidx])
            self.p_changes[pidx].append((int(self.p_end[pidx]), kind, change))
        # the merge: every record in the old village on the merge day moves to the successor
        old_grids = np.array(sorted(self.grid_map))
        new_of = np.arange(len(self.grid_codes))
        for g, g2 in self.grid_map.items():
            new_of[g] = g2
        in_old = np.isin(self.p_grid, old_grids)
        born_after = in_old & (self.p_vf >= M)
        self.p_grid[born_after] = new_of[self.p_grid[born_after]]
        for pidx in np.flatnonzero(in_old & (self.p_vf < M)).tolist():
            mv = self.moves.get(pidx)
            if mv is not None and mv[0] <= M:
                continue  # left the village before the merge
            self.p_changes[pidx].append((M, "merge", {"area": int(new_of[self.p_grid[pidx]])}))
        for h in np.flatnonzero(np.isin(self.h_grid, old_grids)).tolist():
            self.h_changes[h].append((M, "merge", {"area": int(new_of[self.h_grid[h]])}))
        self.new_grid_of = new_of

    def _simulate_household(self, h: int, incoming: list[tuple[int, int]]) -> None:
        members = self._members(h).tolist()
        leave: dict[int, int] = {}
        for p in members:
            if self.p_end[p] != NO_DAY:
                leave[p] = int(self.p_end[p])
            elif p in self.moves:
                leave[p] = self.moves[p][0]
        join = {p: d for p, d in incoming}
        days = sorted(set(leave.values()) | set(join.values()))
        present = set(members)
        head = int(self.h_first[h])
        whole = self.hh_moves.get(h)
        for d in days:
            present -= {p for p, pd in leave.items() if pd == d}
            present |= {p for p, pd in join.items() if pd == d}
            if whole is not None and d == whole[0]:
                self._end_household(h, d, "moveout")
                return
            if head in present:
                continue
            if not present:
                self._end_household(h, d, "household")
                return
            spouse = [p for p in present if self.p_rel[p] == "10"]
            ages = {p: self.p_age[p] for p in present}
            adults = [p for p in present if ages[p] >= 18]
            head = spouse[0] if spouse else max(adults or list(present), key=lambda p: (ages[p], -p))
            self.p_changes[head].append((d, "household", {"relation": "02"}))

    def _end_household(self, h: int, d: int, kind: str) -> None:
        self.h_end[h] = d
        self.h_end_kind[h] = END_KINDS.index(kind)
        self.h_changes[h].append((d, kind, {"status": "2", "status_date": d}))

    # ----------------------------------------------------------------------------- tags

    def tags(self) -> None:
        rng = self.rng(5)
        self._tag_parts: list[dict[str, Any]] = []
        t, age, n = self.t, self.p_age, self.N
        alive_start = self.p_vf
        res, local = self.p_res, self.p_res <= 2

        def starts(lo: np.ndarray, hi: np.ndarray, p_legacy: float) -> np.ndarray:
            lo = np.asarray(lo, dtype=np.int64)
            hi = np.maximum(np.asarray(hi, dtype=np.int64), lo + 1)
            spread = lo + (rng.random(len(lo)) * (hi - lo)).astype(np.int64)
            return np.where((rng.random(len(lo)) < p_legacy) & (lo == self.start), lo, spread).astype(np.int32)

        # household tags -------------------------------------------------------------------
        h_age = self.p_age[self.h_first]
        h_vf = np.full(self.H, self.start, dtype=np.int32)
        h_local = self.h_res == 1
        rural = ~self.urban[self.h_village]
        p_dis = np.zeros(n)
        p_dis[age < 18] = 0.016
        p_dis[(age >= 18) & (age < 45)] = 0.033
        p_dis[(age >= 45) & (age < 60)] = 0.066
        p_dis[(age >= 60) & (age < 75)] = 0.10
        p_dis[age >= 75] = 0.155
        self.p_disabled = rng.random(n) < p_dis
        h_disabled = np.bincount(self.p_hh, weights=self.p_disabled, minlength=self.H) > 0
        frailty = (1 + 2.0 * h_disabled + 1.5 * (h_age >= 65) + 1.0 * (self.h_size <= 2)) * h_local

        # tekun: mostly elderly living alone (decided first: a tekun person's household gets no 低保)
        alone_old = (self.h_size == 1) & (h_age >= 60) & h_local
        w = alone_old * (1 + 3 * h_disabled) + ((self.h_size == 1) & h_disabled & h_local & (h_age >= 18)) * 0.5
        tekun_hh = np.flatnonzero(rng.random(self.H) < np.minimum(w * 0.005 * n / max(w.sum(), 1e-9), 0.9))
        tekun_p = self.h_first[tekun_hh]
        self._add("tekun", tekun_p, starts(alive_start[tekun_p], t - 30, 0.6), NO_DAY,
                  _json_choice(['{"support_mode": "1"}', '{"support_mode": "2"}'], rng.random(len(tekun_p)) < 0.8))
        no_tekun = np.ones(self.H, dtype=bool)
        no_tekun[tekun_hh] = False

        # poverty_exit: 5 % of households, rural and local, frail ones more often
        w = frailty * rural
        exit_hh = np.flatnonzero(rng.random(self.H) < np.minimum(w * 0.05 * self.H / max(w.sum(), 1e-9), 0.9))
        self._add("poverty_exit", exit_hh, h_vf[exit_hh], NO_DAY, EMPTY, household=True)

        # dibao: ~3 % of households at any time; about a quarter of the grants ended earlier
        w = frailty * no_tekun * (1 + 1.5 * np.isin(np.arange(self.H), exit_hh))
        dibao_hh = np.flatnonzero(rng.random(self.H) < np.minimum(w * 0.04 * self.H / max(w.sum(), 1e-9), 0.9))
        k = len(dibao_hh)
        vf = starts(h_vf[dibao_hh], t - 30, 0.5)
        ended = rng.random(k) < 0.25
        vt = np.where(ended, vf + 60 + (rng.random(k) * np.maximum(t - vf - 61, 1)).astype(np.int64), NO_DAY)
        vt = np.where(vt >= t, NO_DAY, vt).astype(np.int32)
        covered = self.h_size[dibao_hh]
        amount = np.round(covered * rng.uniform(450, 1000, k) / 10) * 10
        kinds = np.where(self.urban[self.h_village[dibao_hh]], "1", "2")
        self.dibao = (dibao_hh, vf, vt, amount)
        self._add("dibao", dibao_hh, vf, vt, [
            json.dumps({"kind": kd, "monthly_amount": float(a), "covered_persons": int(c)})
            for kd, a, c in zip(kinds.tolist(), amount.tolist(), covered.tolist(), strict=True)], household=True)

        # monitored: ~1 % open plus ended ones; kind 1 from poverty-exit households
        w = frailty * no_tekun
        mon_hh = np.flatnonzero(rng.random(self.H) < np.minimum(w * 0.016 * self.H / max(w.sum(), 1e-9), 0.9))
        is_exit = np.isin(mon_hh, exit_hh)
        kinds = np.where(is_exit, "1", _pick(rng, ["2", "3"], [0.7, 0.3], len(mon_hh)))
        risks = np.asarray(names.RISKS)[rng.integers(0, len(names.RISKS), len(mon_hh))]
        vf = starts(h_vf[mon_hh], t - 30, 0.3)
        ended = rng.random(len(mon_hh)) < 0.35
        vt = np.where(ended, vf + 90 + (rng.random(len(mon_hh)) * np.maximum(t - vf - 91, 1)).astype(np.int64), NO_DAY)
        vt = np.where(vt >= t, NO_DAY, vt).astype(np.int32)
        self._add("monitored", mon_hh, vf, vt, [json.dumps({"kind": kd, "risk": r}, ensure_ascii=False)
                                                for kd, r in zip(kinds.tolist(), risks.tolist(), strict=True)], household=True)
        subsidised_hh = np.zeros(self.H, dtype=bool)
        subsidised_hh[dibao_hh] = True
        subsidised_hh[mon_hh] = True
        subsidised_hh[tekun_hh] = True

        # person tags -----------------------------------------------------------------------
        # disabled (drawn above with the frailty of households)
        dis = np.flatnonzero(self.p_disabled)
        cat = _pick(rng, list("1234567"), [0.12, 0.18, 0.02, 0.45, 0.08, 0.09, 0.06], len(dis))
        grade = _pick(rng, list("1234"), [0.12, 0.22, 0.28, 0.38], len(dis))
        ids = self.id_number.gather(dis).to_list()
        self._add("disabled", dis, starts(alive_start[dis], t - 30, 0.7), NO_DAY, [
            json.dumps({"category": c, "grade": g, "certificate_no": f"{i}{c}{g}"})
            for c, g, i in zip(cat.tolist(), grade.tolist(), ids, strict=True)])

        # veterans: mostly men 25–80; survivors and families of servicemen of both sexes
        p_vet = np.where((age >= 25) & (age < 80), np.where(self.p_male, 0.055, 0.003), 0.0) * local
        vet = np.flatnonzero(rng.random(n) < p_vet)
        men = self.p_male[vet]
        cat = np.where(men, _pick(rng, ["01", "02", "03", "06", "11", "12"], [0.80, 0.04, 0.04, 0.04, 0.02, 0.06], len(vet)),
                       _pick(rng, ["07", "09", "10"], [0.4, 0.2, 0.4], len(vet)))
        cat = np.where((cat == "02") & (age[vet] < 65), "01", cat)
        enlisted = add_years(self.p_birth[vet], 18) + (rng.random(len(vet)) * 3 * 365).astype(np.int32)
        discharged = enlisted + (rng.uniform(2, 5, len(vet)) * 365).astype(np.int32)
        served = np.isin(cat, ["01", "02", "03", "04", "05", "06", "11"])
        attrs = []
        for c, e, dch, s in zip(cat.tolist(), enlisted.tolist(), discharged.tolist(), served.tolist(), strict=True):
            a: dict[str, Any] = {"category": c}
            if s:
                a |= {"enlisted_on": iso(e), "discharged_on": iso(min(dch, t - 1))}
            attrs.append(json.dumps(a))
        self._add("veteran", vet, starts(alive_start[vet], t - 30, 0.8), NO_DAY, attrs)

        # party members: political status 01
        party = np.flatnonzero(self.p_pol == "01")
        lo = np.maximum(alive_start[party], add_years(self.p_birth[party], 18))
        self._add("party_member", party, starts(lo, t - 30, 0.9), NO_DAY, EMPTY)

        # migrant workers: most of those away for work; a few who came back (ended)
        away = np.flatnonzero((res == 2) & (age >= 16) & (age < 60) & ~self.p_student & (rng.random(n) < 0.65))
        lo = np.maximum(alive_start[away], add_years(self.p_birth[away], 16))
        self._add("migrant_worker", away, starts(lo, t - 30, 0.6), NO_DAY, EMPTY)
        back = np.flatnonzero((res == 1) & (age >= 20) & (age < 55) & (rng.random(n) < 0.03))
        vf = starts(alive_start[back], t - 400, 0.5)
        vt = (vf + 180 + rng.random(len(back)) * np.maximum(t - vf - 181, 1)).astype(np.int32)
        self._add("migrant_worker", back, vf, np.where(vt >= t, t - 1, vt), EMPTY)

        # left-behind children: under 16, every parent living in the household is away for work
        self._left_behind(rng, starts)

        # chronic diseases among older people
        for code, p60, p40 in (("hypertension", 0.28, 0.08), ("diabetes2", 0.095, 0.03)):
            p = np.where(age >= 60, p60, np.where(age >= 40, p40, 0.0))
            sel = np.flatnonzero(rng.random(n) < p)
            lo = np.maximum(alive_start[sel], add_years(self.p_birth[sel], 40))
            self._add(code, sel, starts(lo, t - 30, 0.6), NO_DAY, EMPTY)
        chronic = np.zeros(n, dtype=bool)
        for part in self._tag_parts:
            if part["code"] in ("hypertension", "diabetes2"):
                chronic[part["subject"]] = True

        # family doctor contracts: older people and chronic patients first; some not renewed
        p = np.where(age >= 65, 0.75, 0.33) + 0.2 * chronic
        fd = np.flatnonzero(rng.random(n) < np.minimum(p, 0.95) * 0.97)
        vf = starts(alive_start[fd], t - 30, 0.5)
        ended = rng.random(len(fd)) < 0.12
        vt = np.where(ended, vf + 365 + (rng.random(len(fd)) * np.maximum(t - vf - 366, 1)).astype(np.int64), NO_DAY)
        self._add("family_doctor", fd, vf, np.where(vt >= t, NO_DAY, vt).astype(np.int32), EMPTY)

        # medical insurance: nearly everyone; subsidised for 低保 / 特困 / 监测 households
        p = np.where(local, 0.97, 0.80)
        med = np.flatnonzero(rng.random(n) < p)
        born_late = alive_start[med] > self.start
        lo = alive_start[med] + np.where(born_late, 20, 0)
        vf = starts(lo, t - 1, 0.85)
        sub = subsidised_hh[self.p_hh[med]]
        self._add("medical_insured", med, vf, NO_DAY, _json_choice(['{"subsidised": "0"}', '{"subsidised": "1"}'], sub))

        # resident pension insurance: 16+ non-students registered here; receiving from 60
        p16 = add_years(self.p_birth, 16)
        p60 = add_years(self.p_birth, 60)
        pen = np.flatnonzero(local & ~self.p_student & (p16 < t - 30) & (rng.random(n) < 0.88))
        vf = starts(np.maximum(alive_start[pen], p16[pen]), t - 30, 0.8)
        b60 = p60[pen]
        before = b60 <= vf
        split = (b60 > vf) & (b60 < t)
        self._add("pension_insured", pen[before], vf[before], NO_DAY, '{"receiving": "1"}')
        self._add("pension_insured", pen[split], vf[split], b60[split], '{"receiving": "0"}')
        self._add("pension_insured", pen[split], b60[split], NO_DAY, '{"receiving": "1"}')
        rest = ~before & ~split
        self._add("pension_insured", pen[rest], vf[rest], NO_DAY, '{"receiving": "0"}')

    def _left_behind(self, rng: np.random.Generator, starts: Callable[..., np.ndarray]) -> None:
        role, res, age = self.p_role, self.p_res, self.p_age
        away = res == 2
        # per household: parents of children (H, S) and parents of grandchildren (C, D)
        h_head_away = np.bincount(self.p_hh, weights=((role == H) | (role == S)) & away, minlength=self.H)
        h_head_n = np.bincount(self.p_hh, weights=(role == H) | (role == S), minlength=self.H)
        gen2 = (role == C) | (role == D)
        h_c_away = np.bincount(self.p_hh, weights=gen2 & away, minlength=self.H)
        h_c_n = np.bincount(self.p_hh, weights=gen2, minlength=self.H)
        child = (age < 19) & (res <= 2)
        lb = np.zeros(self.N, dtype=bool)
        lb |= child & (role == C) & (h_head_away[self.p_hh] == h_head_n[self.p_hh]) & (h_head_n[self.p_hh] > 0)
        lb |= child & (role == G) & (h_c_n[self.p_hh] > 0) & (h_c_away[self.p_hh] == h_c_n[self.p_hh])
        sel = np.flatnonzero(lb)
        end16 = add_years(self.p_birth[sel], 16)
        keep = end16 > self.p_vf[sel] + 30
        sel, end16 = sel[keep], end16[keep]
        vf = starts(self.p_vf[sel], np.minimum(end16, self.t) - 1, 0.7)
        vt = np.where(end16 < self.t, end16, NO_DAY).astype(np.int32)
        self._add("left_behind_child", sel, vf, vt, EMPTY)

    def _add(self, code: str, subject: np.ndarray, vf: Any, vt: Any, attrs: str | list[str] | pl.Series,
             household: bool = False) -> None:
        """Tags of one type: start, planned end, attributes (JSON text: one for all, or one each).

        A tag never outlives its subject: it ends on the day the person died or moved out, or the
        household was deregistered; a tag that would start on or after that day is not made.
        """
        subject = np.asarray(subject, dtype=np.int64)
        k = len(subject)
        vf = np.broadcast_to(np.asarray(vf, dtype=np.int64), (k,)).copy()
        vt = np.broadcast_to(np.asarray(vt, dtype=np.int64), (k,)).copy()
        end = (self.h_end if household else self.p_end)[subject].astype(np.int64)
        end_kind = (self.h_end_kind if household else self.p_end_kind)[subject]
        clipped = end < vt
        vt = np.where(clipped, end, vt)
        reason = np.where(clipped, end_kind, np.where(vt != NO_DAY, TAGEND, 0)).astype(np.int8)
        keep = vt > vf
        if isinstance(attrs, str):
            attrs = pl.Series([attrs]).gather(np.zeros(k, dtype=np.int64))
        elif not isinstance(attrs, pl.Series):
            attrs = pl.Series(attrs, dtype=pl.String)
        self._tag_parts.append({
            "code": code, "household": household, "subject": subject[keep], "vf": vf[keep].astype(np.int32),
            "vt": vt[keep].astype(np.int32), "attrs": attrs.filter(pl.Series(keep)),
            "reason": reason[keep],
        })

    # ----------------------------------------------------------------------------- houses, organisations

    def addresses(self) -> pl.Series:
        v_prefix = [f"{COUNTY_NAME}{v.township}{v.name}" for v in self.villages]
        unit = ["区" if v.urban else "组" for v in self.villages]
        grid_no = np.array([int(c[12:]) for c in self.grid_codes])
        prefix = pl.Series([v_prefix[v] for v in self.grid_village]).gather(self.h_grid)
        units = pl.Series([unit[v] for v in self.grid_village]).gather(self.h_grid)
        return (prefix + pl.Series(grid_no[self.h_grid]).cast(pl.String) + units
                + pl.Series(self.h_door).cast(pl.String) + "号").alias("address")

    def houses(self) -> None:
        rng = self.rng(6)
        has = rng.random(self.H) < 0.95
        hh = np.flatnonzero(has)
        k = len(hh)
        urban = self.urban[self.h_village[hh]]
        htype = np.where(urban, _pick(rng, list("1234"), [0.25, 0.60, 0.10, 0.05], k), _pick(rng, list("132"), [0.90, 0.05, 0.05], k))
        structure = _pick(rng, list("1234569"), [0.25, 0.50, 0.15, 0.06, 0.02, 0.0, 0.02], k)
        structure = np.where(htype == "2", "1", structure)
        area = np.where(htype == "1", rng.lognormal(np.log(150), 0.35, k), rng.lognormal(np.log(95), 0.25, k))
        old = np.isin(structure, ["3", "4", "5"])
        r = rng.random(k)
        grade = np.where(r < np.where(old, 0.10, 0.012), np.where(rng.random(k) < 0.2, "D", "C"),
                         np.where(r < np.where(old, 0.65, 0.30), "B", "A"))
        self.house = {"hh": hh, "type": htype, "structure": structure, "area": np.round(area, 1), "grade": grade}

    def organisations(self) -> None:
        rng = self.rng(7)
        rows: list[dict[str, Any]] = []
        seq = int(rng.integers(1000, 5000))

        def org_code() -> str:
            nonlocal seq
            seq += 1
            x, out = seq * 7919 + 123456, []
            for _ in range(8):
                x, r = divmod(x, 31)
                out.append(ALPHABET[r])
            return "M" + "".join(reversed(out))

        for v, vil in enumerate(self.villages):
            area6 = ID_AREA
            rows.append({"village": v, "uscc": make_uscc("N2" + area6 + org_code()), "name": f"{vil.name}股份经济合作社",
                         "kind": "8", "industry": "L" if vil.urban else "A", "employees": int(rng.integers(2, 12))})
            if not vil.urban:
                for _ in range(int(rng.integers(0, 4))):
                    product = names.COOP_PRODUCTS[int(rng.integers(0, len(names.COOP_PRODUCTS)))]
                    rows.append({"village": v, "uscc": make_uscc("93" + area6 + org_code()),
                                 "name": f"{COUNTY_NAME}{vil.name}{product}专业合作社", "kind": "9", "industry": "A",
                                 "employees": int(rng.integers(3, 40))})
            for _ in range(int(rng.integers(1, 7 if vil.urban else 4))):
                w = names.FIRM_WORDS
                industry, trade = names.FIRM_TRADES[int(rng.integers(0, len(names.FIRM_TRADES)))]
                rows.append({"village": v, "uscc": make_uscc("91" + area6 + org_code()),
                             "name": f"{COUNTY_NAME}{w[int(rng.integers(0, len(w)))]}{w[int(rng.integers(0, len(w)))]}{trade}",
                             "kind": "1", "industry": industry, "employees": int(min(rng.lognormal(np.log(15), 0.9), 400)) + 1})
            for _ in range(int(rng.integers(1, 6))):
                industry, trade = names.SHOP_TRADES[int(rng.integers(0, len(names.SHOP_TRADES)))]
                surname = names.SURNAMES[int(rng.integers(0, 40))]
                rows.append({"village": v, "uscc": make_uscc("92" + area6 + org_code()),
                             "name": f"{vil.name}{surname}记{trade}", "kind": "2", "industry": industry,
                             "employees": int(rng.integers(1, 6))})
        M = self.merge_day
        for row in rows:
            row["vf"] = self.start if rng.random() < 0.8 else int(self.start + rng.random() * (self.t - 60 - self.start))
            row["changes"] = []
            if row["kind"] in ("1", "2") and rng.random() < 0.06:
                lo = max(row["vf"] + 30, self.win)
                if lo < self.t:
                    row["changes"].append((int(lo + rng.random() * (self.t - lo)), "org", {"status": "2"}))
            row["area"] = self.villages[row["village"]].code
            if row["village"] == self.merged_village:
                successor = self.villages[self.into_village].code
                if row["vf"] >= M:
                    row["area"] = successor
                else:
                    row["changes"].append((M, "merge", {"area_code": successor}))
        self.orgs = rows

    # ----------------------------------------------------------------------------- observations

    def observations(self) -> None:
        rng = self.rng(8)
        V, M = len(self.villages), self.merge_day
        years = list(range(self.today.year - 5, self.today.year))
        persons_per_village = np.bincount(self.h_village, weights=self.h_size, minlength=V)
        cropland = np.where(self.urban, rng.uniform(0, 400, V), rng.uniform(1500, 6000, V) * (0.5 + persons_per_village / max(persons_per_village.mean(), 1)) / 1.5)
        sown_ratio = rng.uniform(1.3, 1.7, V)
        contracted_ratio = rng.uniform(0.82, 0.95, V)
        income0 = np.where(self.urban, rng.lognormal(np.log(800_000), 0.6, V), rng.lognormal(np.log(250_000), 0.7, V))
        rows: list[tuple[str, str, str, str, int, int, float, str]] = []
        items = {"cropland_area": "亩", "sown_area": "亩", "grain_output": "吨", "contracted_land": "亩", "collective_income": "元"}
        old, into = self.merged_village, self.into_village
        for i, y in enumerate(years):
            start, end = day(date(y, 1, 1)), day(date(y, 12, 31))
            drift = 1 - 0.004 * i
            for v in range(V):
                if v == old and end >= M:
                    continue
                crop = cropland[v] * drift
                income = income0[v] * (1.07 ** i) * rng.uniform(0.9, 1.1)
                if v == into and end >= M:
                    crop += cropland[old] * drift
                    income += income0[old] * (1.07 ** i)
                sown = crop * sown_ratio[v] * rng.uniform(0.97, 1.03)
                grain = sown * 0.6 * rng.uniform(0.36, 0.44)
                values = {"cropland_area": round(crop, 1), "sown_area": round(sown, 1), "grain_output": round(grain, 1),
                          "contracted_land": round(crop * contracted_ratio[v], 1), "collective_income": round(income, -2)}
                code = self.villages[v].code
                rows += [(item, code, code, str(y), start, end, values[item], items[item]) for item in items]
        # 低保金发放额: monthly, the last 24 complete months, from the 低保 tags valid in the month
        hh, vf, vt, amount = self.dibao
        village = self.h_village[hh]
        end_day = np.where(self.h_end[hh] < vt, self.h_end[hh], vt)
        m0 = self.today.year * 12 + self.today.month - 1
        for k in range(24, 0, -1):
            m = m0 - k
            first = date(m // 12, m % 12 + 1, 1)
            nxt = date((m + 1) // 12, (m + 1) % 12 + 1, 1)
            ms, me = day(first), day(nxt) - 1
            valid = (vf <= me) & (end_day > ms)
            v_now = np.where((village == old) & (me >= M), into, village)
            paid = np.bincount(v_now[valid], weights=amount[valid], minlength=V) * rng.uniform(0.99, 1.01, V)
            for v in range(V):
                if v == old and me >= M:
                    continue
                code = self.villages[v].code
                rows.append(("dibao_paid", code, code, f"{first:%Y-%m}", ms, me, float(round(paid[v])), "元"))
        self.obs = rows


# --------------------------------------------------------------------------------------- versions → rows


@dataclass(frozen=True)
class CreateLog:
    """The ``create`` change-log entries of every row of a loaded table, written by the database
    itself (``INSERT … SELECT``): 4 million of them for a million persons, so they never pass through
    Python. The effective date is ``column`` of the row, or the fixed ``start`` (with ``from_birth``:
    the later of ``start`` and the row's birth date, i.e. a person's first ``valid_from``)."""

    entity: str
    table: str
    batch_id: int
    start: date | None = None
    from_birth: bool = False
    column: str | None = None

    def effective(self, row: dict[str, Any]) -> date:
        """The same effective date in Python (for callers that write the entries themselves)."""
        if self.column:
            return row[self.column]
        assert self.start is not None
        return max(row["birth_date"], self.start) if self.from_birth else self.start

    def insert(self, conn: Any) -> int:
        if self.column:
            effective, params = f'"{self.column}"', {}
        else:
            greatest = "MAX" if conn.dialect.name == "sqlite" else "GREATEST"
            effective = f"{greatest}(birth_date, :start)" if self.from_birth else ":start"
            params = {"start": self.start}
        stmt = text(
            "INSERT INTO change_log (batch_id, entity, entity_id, action, effective_date, changes) "
            f"SELECT :batch, '{self.entity}', CAST(id AS VARCHAR(20)), 'create', {effective}, '{CREATE_CHANGES}' "
            f'FROM "{self.table}" ORDER BY id'
        ).bindparams(*([bindparam("start", type_=Date)] if params else []))
        return conn.execute(stmt, {"batch": self.batch_id, **params}).rowcount


def write_change_log(conn: Any, parts: list[CreateLog | pl.DataFrame]) -> int:
    """The change log, in order: derived creates and row frames."""
    n = 0
    for part in parts:
        n += part.insert(conn) if isinstance(part, CreateLog) else bulk.bulk_insert(conn, "change_log", part)
    return n


def _chains(
    changes: dict[int, list[tuple[int, str, dict[str, Any]]]],
    vf: np.ndarray,
    batch: np.ndarray,
    rowver: np.ndarray,
    state: dict[str, np.ndarray],
    batches: dict[str, int],
) -> tuple[list[tuple[int, int, int, int, dict[str, Any]]], list[tuple[int, int, str, dict[str, Any]]]]:
    """Apply each entity's dated changes: history versions out, current state updated in place.

    Returns (history rows: (index, valid_from, valid_to, batch_id, mutable fields), log entries:
    (index, day, batch key, {field: (old, new)})).
    """
    hist: list[tuple[int, int, int, int, dict[str, Any]]] = []
    logs: list[tuple[int, int, str, dict[str, Any]]] = []
    for i in sorted(changes):
        cur = {f: state[f][i] for f in state}
        cur_vf, cur_batch = int(vf[i]), int(batch[i])
        for d, key, fields in sorted(changes[i], key=lambda c: c[0]):
            diff = {f: (cur[f], v) for f, v in fields.items() if cur[f] != v}
            if not diff:
                continue
            if d > cur_vf:
                hist.append((i, cur_vf, d, cur_batch, dict(cur)))
            cur.update(fields)
            cur_vf, cur_batch = d, batches[key]
            rowver[i] += 1
            logs.append((i, d, key, diff))
        vf[i], batch[i] = cur_vf, cur_batch
        for f in state:
            state[f][i] = cur[f]
    return hist, logs


# --------------------------------------------------------------------------------------- database


def base_data_counts(session: Session) -> dict[str, int]:
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
    villages, grid_codes = _read_areas(areas_csv)
    gen = _County(persons, seed, today, villages, grid_codes)
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


def _write_reference(session: Session, gen: _County, areas_csv: Path) -> dict[str, int]:
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


def _generate(gen: _County, batches: dict[str, int], clock: _Clock) -> dict[str, Any]:
    gen.persons()
    gen.id_number = gen.id_numbers()
    clock.lap("generate persons")
    gen.events_plan()
    gen.simulate()
    clock.lap("generate events")
    gen.tags()
    clock.lap("generate tags")
    gen.houses()
    gen.organisations()
    gen.observations()
    clock.lap("generate houses, orgs, observations")
    frames = _frames(gen, batches)
    clock.lap("build frames")
    return frames


def _frames(gen: _County, b: dict[str, int]) -> dict[str, Any]:
    N, Hn = gen.N, gen.H
    create = b["create"]
    grid_codes = pl.Series(gen.grid_codes)
    dests = list(names.DESTINATIONS)
    logs: list[tuple[int, int, int, str, str, str, str]] = []  # (day, order, id, entity, action, key, changes)

    def log_events(entity: str, order: int, ids: list[int] | np.ndarray, entries: list[tuple[int, int, str, dict[str, Any]]],
                   render: Callable[[str, Any], Any]) -> None:
        for i, d, key, diff in entries:
            changes = {}
            for f, (old, new) in diff.items():
                name = "area_code" if f == "area" else f
                changes[name] = [render(f, old), render(f, new)]
            action = "update"
            logs.append((d, order, int(ids[i]), entity, action, key, json.dumps(changes, ensure_ascii=False)))

    # households ------------------------------------------------------------------------------
    h_ids = np.arange(1, Hn + 1, dtype=np.int64)
    h_vf = np.full(Hn, gen.start, dtype=np.int32)
    h_batch = np.full(Hn, create, dtype=np.int64)
    h_rowver = np.ones(Hn, dtype=np.int64)
    h_state = {"area": gen.h_grid.copy(), "status": np.full(Hn, "1", dtype="<U1"), "status_date": np.full(Hn, NO_DAY, dtype=np.int32)}
    h_base = {k: v.copy() for k, v in h_state.items()}
    h_hist, h_logs = _chains(gen.h_changes, h_vf, h_batch, h_rowver, h_state, b)

    def render_h(f: str, v: Any) -> Any:
        if f == "area":
            return gen.grid_codes[int(v)]
        if f == "status_date":
            return iso(int(v))
        return None if v == "" else str(v)

    log_events("household", 1, h_ids, h_logs, render_h)
    numbers = pl.Series([v.code for v in gen.villages]).gather(gen.h_village) + pl.Series(gen.h_seq).cast(pl.String).str.zfill(4)
    address = gen.addresses()
    hh_static = pl.DataFrame({"number": numbers, "kind": pl.Series(["1"] * Hn), "address": address})

    def household_frame(idx: np.ndarray, state: dict[str, np.ndarray], vf: np.ndarray, batch: np.ndarray) -> pl.DataFrame:
        return _rows(hh_static, idx).with_columns(
            pl.Series("area_code", grid_codes.gather(state["area"])),
            _s(state["status"], "status"),
            _dates(state["status_date"], "status_date"),
            _dates(vf, "valid_from"),
            pl.Series("batch_id", batch),
        )

    household = household_frame(np.arange(Hn), h_state, h_vf, h_batch).with_columns(
        pl.Series("id", h_ids), pl.Series("row_version", h_rowver))
    household_history = _history_frame(h_hist, h_ids, h_base, lambda idx, st, vf, bt: household_frame(idx, st, vf, bt))

    # persons ---------------------------------------------------------------------------------
    p_ids = np.arange(1, N + 1, dtype=np.int64)
    p_vf = gen.p_vf.copy()
    p_batch = np.full(N, create, dtype=np.int64)
    p_rowver = np.ones(N, dtype=np.int64)
    p_state = {
        "area": gen.p_grid.copy(), "household_id": gen.p_hh.astype(np.int64) + 1, "relation": gen.p_rel.copy(),
        "marital_status": gen.p_mar.copy(), "living_status": gen.p_live.copy(), "status_date": gen.p_sdate.copy(),
        "moved_to": gen.p_moved.copy(),
    }
    p_base = {k: v.copy() for k, v in p_state.items()}
    p_hist, p_logs = _chains(gen.p_changes, p_vf, p_batch, p_rowver, p_state, b)

    def render_p(f: str, v: Any) -> Any:
        if f == "area":
            return gen.grid_codes[int(v)]
        if f == "status_date":
            return iso(int(v))
        if f == "moved_to":
            return None if int(v) < 0 else dests[int(v)]
        if f == "household_id":
            return int(v)
        return str(v)

    log_events("person", 2, p_ids, p_logs, render_p)
    phone_no = pl.Series((p_ids * 7919 + gen.seed * 104729) % 1_000_000).cast(pl.String).str.zfill(6)
    phones = pl.select(pl.when(pl.Series(gen.p_has_phone)).then("19900" + phone_no).otherwise(None)).to_series()
    p_static = pl.DataFrame({
        "id_number": gen.id_number,
        "name": gen.person_names(),
        "sex": _json_choice(["2", "1"], gen.p_male),
        "birth_date": _dates(gen.p_birth),
        "ethnic_group": _s(gen.p_ethnic),
        "education": _strs(_s(gen.p_edu)),
        "political_status": _s(gen.p_pol),
        "residence_type": _s(gen.p_res.astype(str)),
        "phone": phones,
    })
    dest_series = pl.Series(dests + [None])

    def person_frame(idx: np.ndarray, state: dict[str, np.ndarray], vf: np.ndarray, batch: np.ndarray) -> pl.DataFrame:
        moved = np.where(state["moved_to"] < 0, len(dests), state["moved_to"]).astype(np.int64)
        return _rows(p_static, idx).with_columns(
            pl.Series("area_code", grid_codes.gather(state["area"])),
            pl.Series("household_id", state["household_id"].astype(np.int64)),
            _s(state["relation"], "relation"),
            _s(state["marital_status"], "marital_status"),
            _s(state["living_status"], "living_status"),
            _dates(state["status_date"], "status_date"),
            pl.Series("moved_to", dest_series.gather(moved)),
            _dates(vf, "valid_from"),
            pl.Series("batch_id", batch),
        )

    person = person_frame(np.arange(N), p_state, p_vf, p_batch).with_columns(pl.Series("id", p_ids), pl.Series("row_version", p_rowver))
    person_history = _history_frame(p_hist, p_ids, p_base, person_frame)

    # houses ----------------------------------------------------------------------------------
    hs = gen.house
    k = len(hs["hh"])
    house_ids = np.arange(1, k + 1, dtype=np.int64)
    house_of_hh = np.full(Hn, -1, dtype=np.int64)
    house_of_hh[hs["hh"]] = np.arange(k)
    house_changes = {int(house_of_hh[h]): [c for c in ch if c[1] == "merge"] for h, ch in gen.h_changes.items() if house_of_hh[h] >= 0}
    house_changes = {i: c for i, c in house_changes.items() if c}
    ho_vf = np.full(k, gen.start, dtype=np.int32)
    ho_batch = np.full(k, create, dtype=np.int64)
    ho_rowver = np.ones(k, dtype=np.int64)
    ho_state = {"area": gen.h_grid[hs["hh"]].copy()}
    ho_base = {"area": ho_state["area"].copy()}
    ho_hist, ho_logs = _chains(house_changes, ho_vf, ho_batch, ho_rowver, ho_state, b)
    log_events("house", 3, house_ids, ho_logs, lambda f, v: gen.grid_codes[int(v)])
    house_static = pl.DataFrame({
        "address": address.gather(hs["hh"]),
        "house_type": _s(hs["type"]),
        "floor_area": pl.Series(hs["area"]),
        "structure": _s(hs["structure"]),
        "safety_grade": _s(hs["grade"]),
        "household_id": pl.Series(hs["hh"].astype(np.int64) + 1),
        "status": pl.Series(["1"]).gather(np.zeros(k, dtype=np.int64)),
    })

    def house_frame(idx: np.ndarray, state: dict[str, np.ndarray], vf: np.ndarray, batch: np.ndarray) -> pl.DataFrame:
        return _rows(house_static, idx).with_columns(
            pl.Series("area_code", grid_codes.gather(state["area"])), _dates(vf, "valid_from"), pl.Series("batch_id", batch))

    house = house_frame(np.arange(k), ho_state, ho_vf, ho_batch).with_columns(pl.Series("id", house_ids), pl.Series("row_version", ho_rowver))
    house_history = _history_frame(ho_hist, house_ids, ho_base, house_frame)

    # organisations ---------------------------------------------------------------------------
    orgs = gen.orgs
    ko = len(orgs)
    o_ids = np.arange(1, ko + 1, dtype=np.int64)
    o_vf = np.array([o["vf"] for o in orgs], dtype=np.int32)
    o_vf0 = o_vf.copy()
    o_batch = np.full(ko, create, dtype=np.int64)
    o_rowver = np.ones(ko, dtype=np.int64)
    o_state = {"area_code": np.array([o["area"] for o in orgs], dtype="<U15"), "status": np.full(ko, "1", dtype="<U1")}
    o_base = {k_: v.copy() for k_, v in o_state.items()}
    o_hist, o_logs = _chains({i: o["changes"] for i, o in enumerate(orgs) if o["changes"]}, o_vf, o_batch, o_rowver, o_state, b)
    log_events("organisation", 4, o_ids, o_logs, lambda f, v: str(v))
    o_static = pl.DataFrame({
        "uscc": [o["uscc"] for o in orgs], "name": [o["name"] for o in orgs], "kind": [o["kind"] for o in orgs],
        "industry": [o["industry"] for o in orgs], "employees": [o["employees"] for o in orgs],
    })

    def org_frame(idx: np.ndarray, state: dict[str, np.ndarray], vf: np.ndarray, batch: np.ndarray) -> pl.DataFrame:
        return _rows(o_static, idx).with_columns(
            pl.Series("area_code", state["area_code"]), pl.Series("status", state["status"]),
            _dates(vf, "valid_from"), pl.Series("batch_id", batch))

    organisation = org_frame(np.arange(ko), o_state, o_vf, o_batch).with_columns(pl.Series("id", o_ids), pl.Series("row_version", o_rowver))
    organisation_history = _history_frame(o_hist, o_ids, o_base, org_frame)

    # tags ------------------------------------------------------------------------------------
    parts = gen._tag_parts
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
        "person_id": _ints_or_null(t_subject, ~t_household),
        "household_id": _ints_or_null(t_subject, t_household),
        "valid_from": _dates(t_vf),
        "valid_to": _dates(t_vt),
        "attrs": t_attrs,
        "evidence": pl.Series([None] * kt, dtype=pl.String),
        "batch_id": np.full(kt, create, dtype=np.int64),
        "row_version": np.where(t_vt != NO_DAY, 2, 1),
    })
    ended = np.flatnonzero(t_vt != NO_DAY)
    for i, d, r in zip(ended.tolist(), t_vt[ended].tolist(), t_reason[ended].tolist(), strict=True):
        logs.append((d, 5, int(t_ids[i]), "tag", "end", END_KINDS[r], f'{{"valid_to": [null, "{iso(d)}"]}}'))

    # observations ----------------------------------------------------------------------------
    ob = gen.obs
    kob = len(ob)
    ob_ids = np.arange(1, kob + 1, dtype=np.int64)
    observation = pl.DataFrame({
        "id": ob_ids,
        "item_code": [r[0] for r in ob], "subject_type": ["area"] * kob, "subject_id": [r[1] for r in ob],
        "area_code": [r[2] for r in ob], "period": [r[3] for r in ob],
        "period_start": _dates(np.array([r[4] for r in ob])), "period_end": _dates(np.array([r[5] for r in ob])),
        "value": [float(r[6]) for r in ob], "unit": [r[7] for r in ob],
        "batch_id": np.full(kob, create, dtype=np.int64), "row_version": np.ones(kob, dtype=np.int64),
    })

    # change log: creates first (ids ascending per entity), then the events in date order ------------
    # The creates of the big tables are derived from their loaded rows by the database (CreateLog);
    # the few organisations and the events are written as rows.
    org_creates = pl.DataFrame({
        "batch_id": np.full(ko, create, dtype=np.int64),
        "entity": ["organisation"] * ko,
        "entity_id": pl.Series(o_ids).cast(pl.String),
        "action": ["create"] * ko,
        "effective_date": _dates(o_vf0),
        "changes": pl.Series([CREATE_CHANGES] * ko, dtype=pl.String),
    })
    logs.sort(key=lambda e: (e[0], e[1], e[2]))
    event_log = pl.DataFrame({
        "batch_id": np.array([b[e[5]] for e in logs], dtype=np.int64),
        "entity": [e[3] for e in logs],
        "entity_id": [str(e[2]) for e in logs],
        "action": [e[4] for e in logs],
        "effective_date": _dates(np.array([e[0] for e in logs], dtype=np.int32)),
        "changes": pl.Series([e[6] for e in logs], dtype=pl.String),
    })
    start = from_day(gen.start)
    change_log = [
        CreateLog("household", "household", create, start),
        CreateLog("person", "person", create, start, from_birth=True),
        CreateLog("house", "house", create, start),
        org_creates,
        CreateLog("tag", "tag", create, column="valid_from"),
        CreateLog("observation", "observation", create, column="period_end"),
        event_log,
    ]

    return {
        "household": household, "person": person, "house": house, "organisation": organisation,
        "household_history": household_history, "person_history": person_history,
        "house_history": house_history, "organisation_history": organisation_history,
        "tag": tag, "observation": observation, "change_log": change_log,
    }


def _history_frame(
    hist: list[tuple[int, int, int, int, dict[str, Any]]],
    ids: np.ndarray,
    base: dict[str, np.ndarray],
    build: Callable[[np.ndarray, dict[str, np.ndarray], np.ndarray, np.ndarray], pl.DataFrame],
) -> pl.DataFrame | dict[str, Any]:
    """History rows: the static columns of each entity plus the mutable fields of that version."""
    if not hist:
        return {}
    idx = np.array([h[0] for h in hist], dtype=np.int64)
    state = {f: np.array([h[4][f] for h in hist], dtype=base[f].dtype) for f in base}
    vf = np.array([h[1] for h in hist], dtype=np.int32)
    batch = np.array([h[3] for h in hist], dtype=np.int64)
    return build(idx, state, vf, batch).with_columns(
        pl.Series("id", ids[idx]), _dates(np.array([h[2] for h in hist], dtype=np.int32), "valid_to"))


def demo_frames(persons: int, seed: int, today: date, batches: dict[str, int] | None = None) -> dict[str, Any]:
    """The generated rows without a database (for inspection and benchmarks); batch ids are stand-ins.

    One frame per table, except ``change_log``: a list of frames and ``CreateLog`` parts."""
    villages, grid_codes = _read_areas()
    gen = _County(persons, seed, today, villages, grid_codes)
    batches = batches or {k: i for i, k in enumerate(_BATCH_NOTES, start=1)}
    gen.plan()
    return _generate(gen, batches, _Clock({}, None))

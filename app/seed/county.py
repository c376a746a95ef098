"""The demo county's frame: its villages and grids (from ``demo_county_areas.csv``), its households
(rural structures, sizes 1–8, placed in the grids) and the village merged into its neighbour.

``County`` holds the generator's state: numpy arrays per table (``h_*`` per household, ``p_*`` per
person), filled phase by phase by the functions of ``persons``, ``events``, ``tags`` and ``places``
(no database access). Each phase draws from its own random stream (``County.rng``).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from app.seed import names
from app.seed.days import day

AREAS_CSV = Path(__file__).resolve().parent / "demo_county_areas.csv"
COUNTY_CODE = "339901000000"
COUNTY_NAME = "云溪县"
ID_AREA = "339901"


@dataclass
class Village:
    """A village or community (社区) of the county and its grids."""

    code: str
    name: str  # short: 大湾村 / 湾口社区
    township: str
    urban: bool
    grids: list[int]  # indices into County.grid_codes


def read_areas(path: Path = AREAS_CSV) -> tuple[list[Village], list[str]]:
    """The villages (12-digit codes under a township) and the grid codes of the areas file."""
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))[1:]
    names_by_code = {r[0]: r[1] for r in rows}
    villages: list[Village] = []
    grid_codes: list[str] = []
    for code, name, urban_rural, *_ in rows:
        if len(code) == 12 and code[9:] != "000" and code[6:9] != "000":
            short = name.replace("社区居民委员会", "社区").replace("村民委员会", "村").replace("居民委员会", "社区")
            villages.append(Village(code, short, names_by_code[code[:9] + "000"], urban_rural.startswith("1") or code[9:] < "200", []))
    index = {v.code: v for v in villages}
    for code, *_ in rows:
        if len(code) == 15:
            index[code[:12]].grids.append(len(grid_codes))
            grid_codes.append(code)
    return villages, grid_codes


def pick(rng: np.random.Generator, codes: list[str], probs: list[float], n: int) -> np.ndarray:
    """``n`` codes drawn with the (relative) probabilities ``probs``."""
    p = np.asarray(probs, dtype=float)
    return np.asarray(codes)[rng.choice(len(codes), size=n, p=p / p.sum())]


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
ROLE = {"H": H, "S": S, "C": C, "D": D, "P": P, "G": G}


def surnames(rng: np.random.Generator, n: int) -> np.ndarray:
    """Indices into ``names.SURNAMES``, the common ones more often."""
    k = len(names.SURNAMES)
    w = 1.0 / (np.arange(k) + 4.0)
    return rng.choice(k, size=n, p=w / w.sum()).astype(np.int32)


# --------------------------------------------------------------------------------------- the county


class County:
    """The generator: numpy arrays per table, built phase by phase (no database access)."""

    def __init__(self, persons: int, seed: int, today: date, villages: list[Village], grid_codes: list[str]):
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

    def plan(self) -> None:
        """Households and the merged village: what the areas written first need to know."""
        self.households()
        self.choose_merge()

    def households(self) -> None:
        """Household sizes and structures (``TEMPLATES``), their villages and grids."""
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
                                 pick(rng, ["22", "15", "06", "03", "08", "12"], [0.5, 0.15, 0.1, 0.1, 0.1, 0.05], n_hh))
        self.h_surname = surnames(rng, n_hh)

    def members(self, h: int) -> np.ndarray:
        """The persons of household ``h`` (they are stored household by household, head first)."""
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


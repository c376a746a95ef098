"""The demo county's events over the three years before ``today``: deaths, moves out of the county
(single persons and whole households), moves between households of the county, the succession of
a new head or the household's deregistration, and the village merge applied to every record.

``plan_events`` chooses who and when; ``simulate`` turns that into dated changes per record
(``p_changes`` / ``h_changes``: day, batch key, new field values), which ``tables`` makes versions of.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np

from app.seed import names
from app.seed.county import County, H
from app.seed.days import NO_DAY

# Why a record or tag ended (the batch its change-log entry goes to); int8 codes in the arrays.
END_KINDS = ("", "death", "moveout", "household", "tagend")
DEATH, MOVEOUT, HOUSEHOLD_END, TAGEND = 1, 2, 3, 4


def plan_events(gen: County) -> None:
    """Choose who dies, who moves out (alone or with the whole household) and who moves to another
    household of the county, and when (``simulate`` turns these into versions)."""
    rng = gen.rng(3)
    n, t, win = gen.N, gen.t, gen.win
    gen.p_live = np.full(n, "1", dtype="<U1")
    gen.p_sdate = np.full(n, NO_DAY, dtype=np.int32)
    gen.p_moved = np.full(n, -1, dtype=np.int16)
    gen.p_end = np.full(n, NO_DAY, dtype=np.int32)  # death or moving-out day
    gen.p_end_kind = np.zeros(n, dtype=np.int8)  # index into END_KINDS
    # events of a household happen after its youngest member's first day
    hh_max_vf = np.maximum.reduceat(gen.p_vf, gen.h_first)
    lo = np.maximum(win, hh_max_vf[gen.p_hh] + 1)
    ok = lo < t
    span = np.maximum(t - lo, 1)

    def when(idx: np.ndarray) -> np.ndarray:
        return (lo[idx] + (rng.random(len(idx)) * span[idx]).astype(np.int64)).astype(np.int32)

    taken = np.zeros(n, dtype=bool)
    # whole households leaving the county: outsiders often, local families rarely
    h_lo = np.maximum(win, hh_max_vf + 1)
    p_hh_move = np.where(gen.h_res == 1, 0.0045, 0.12)
    leave_hh = np.flatnonzero((rng.random(gen.H) < p_hh_move) & (h_lo < t))
    hh_move_day = (h_lo[leave_hh] + rng.random(len(leave_hh)) * (t - h_lo[leave_hh])).astype(np.int32)
    dest_hh = rng.integers(0, len(names.DESTINATIONS), len(leave_hh))
    gen.hh_moves = dict(zip(leave_hh.tolist(), zip(hh_move_day.tolist(), dest_hh.tolist(), strict=True), strict=True))
    in_moving_hh = np.zeros(gen.H, dtype=bool)
    in_moving_hh[leave_hh] = True
    taken |= in_moving_hh[gen.p_hh]

    # deaths: Gompertz hazard scaled to ~7 per mille a year
    age0 = np.maximum(gen.p_age - 3, 0)
    hazard = np.exp(0.088 * age0)
    eligible = ok & ~taken
    scale = 0.007 * 3 * n / max(float((hazard * eligible).sum()), 1e-9)
    p_death = np.minimum(hazard * scale, 0.9) * eligible
    dead = np.flatnonzero(rng.random(n) < p_death)
    taken[dead] = True
    # moves out of the county: mostly young adults
    a = gen.p_age
    w_move = np.where((a >= 18) & (a < 35), 6.0, np.where((a >= 35) & (a < 50), 1.5, np.where(a < 18, 0.6, 0.3)))
    w_move = w_move * np.where(gen.p_res == 1, 1.0, 1.6)
    eligible = ok & ~taken
    target_individual = 0.03 * n - int(gen.h_size[leave_hh].sum())
    p_move = np.minimum(w_move * max(target_individual, 0) / max(float((w_move * eligible).sum()), 1e-9), 0.9) * eligible
    moved = np.flatnonzero(rng.random(n) < p_move)
    taken[moved] = True
    # moves between households of the county (marrying in), into households without events
    cand = np.flatnonzero(ok & ~taken & (gen.p_role != H) & (gen.p_mar == "10") & (a >= 22) & (a < 35) & (gen.p_res <= 2))
    movers = cand[rng.random(len(cand)) < min(0.003 * n / max(len(cand), 1), 0.5)]
    taken[movers] = True
    gen.p_end[dead] = when(dead)
    gen.p_end_kind[dead] = DEATH
    gen.p_end[moved] = when(moved)
    gen.p_end_kind[moved] = MOVEOUT
    gen.p_dest = np.full(n, -1, dtype=np.int16)
    gen.p_dest[moved] = rng.integers(0, len(names.DESTINATIONS), len(moved))
    for h, (d, dest) in gen.hh_moves.items():
        mem = gen.members(h)
        gen.p_end[mem] = d
        gen.p_end_kind[mem] = MOVEOUT
        gen.p_dest[mem] = dest

    # target households for movers: quiet, local, small enough, another village, not the merged one
    busy = np.zeros(gen.H, dtype=bool)
    busy[gen.p_hh[taken]] = True
    head_age = gen.p_age[gen.h_first]
    targets = np.flatnonzero(~busy & (gen.h_res == 1) & (gen.h_size <= 7) & (head_age >= 45) & (head_age < 75)
                             & (gen.h_village != gen.merged_village))
    rng.shuffle(targets)
    gen.moves: dict[int, tuple[int, int]] = {}  # person → (day, target household)
    used = 0
    for pidx in movers.tolist():
        while used < len(targets) and gen.h_village[targets[used]] == gen.h_village[gen.p_hh[pidx]]:
            used += 1
        if used >= len(targets):
            break
        gen.moves[pidx] = (int(when(np.array([pidx]))[0]), int(targets[used]))
        used += 1


def simulate(gen: County) -> None:
    """Turn the planned events into per-entity changes, including head succession and merges."""
    M = gen.merge_day
    gen.p_changes: dict[int, list[tuple[int, str, dict[str, Any]]]] = defaultdict(list)
    gen.h_changes: dict[int, list[tuple[int, str, dict[str, Any]]]] = defaultdict(list)
    gen.h_end = np.full(gen.H, NO_DAY, dtype=np.int32)
    gen.h_end_kind = np.zeros(gen.H, dtype=np.int8)
    incoming: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for pidx, (d, target) in gen.moves.items():
        incoming[target].append((pidx, d))
    affected = set(gen.p_hh[gen.p_end != NO_DAY].tolist()) | {int(gen.p_hh[p]) for p in gen.moves}
    for h in sorted(affected):
        _simulate_household(gen, h, incoming.get(h, []))
    for pidx, (d, target) in gen.moves.items():
        gen.p_changes[pidx].append((d, "move", {
            "household_id": target + 1, "area": int(gen.h_grid[target]),
            "relation": "28" if gen.p_male[pidx] else "38", "marital_status": "20"}))
    for pidx in np.flatnonzero(gen.p_end != NO_DAY).tolist():
        kind = END_KINDS[gen.p_end_kind[pidx]]
        change: dict[str, Any] = {"living_status": "2" if kind == "death" else "3", "status_date": int(gen.p_end[pidx])}
        if kind == "moveout":
            change["moved_to"] = int(gen.p_dest[pidx])
        gen.p_changes[pidx].append((int(gen.p_end[pidx]), kind, change))
    # the merge: every record in the old village on the merge day moves to the successor
    old_grids = np.array(sorted(gen.grid_map))
    new_of = np.arange(len(gen.grid_codes))
    for g, g2 in gen.grid_map.items():
        new_of[g] = g2
    in_old = np.isin(gen.p_grid, old_grids)
    born_after = in_old & (gen.p_vf >= M)
    gen.p_grid[born_after] = new_of[gen.p_grid[born_after]]
    for pidx in np.flatnonzero(in_old & (gen.p_vf < M)).tolist():
        mv = gen.moves.get(pidx)
        if mv is not None and mv[0] <= M:
            continue  # left the village before the merge
        gen.p_changes[pidx].append((M, "merge", {"area": int(new_of[gen.p_grid[pidx]])}))
    for h in np.flatnonzero(np.isin(gen.h_grid, old_grids)).tolist():
        gen.h_changes[h].append((M, "merge", {"area": int(new_of[gen.h_grid[h]])}))
    gen.new_grid_of = new_of


def _simulate_household(gen: County, h: int, incoming: list[tuple[int, int]]) -> None:
    """Walk one household's leaving and joining days: a new head when the head is gone (the spouse,
    else the oldest adult), the end of the household when it moves out whole or nobody is left."""
    members = gen.members(h).tolist()
    leave: dict[int, int] = {}
    for p in members:
        if gen.p_end[p] != NO_DAY:
            leave[p] = int(gen.p_end[p])
        elif p in gen.moves:
            leave[p] = gen.moves[p][0]
    join = {p: d for p, d in incoming}
    days = sorted(set(leave.values()) | set(join.values()))
    present = set(members)
    head = int(gen.h_first[h])
    whole = gen.hh_moves.get(h)
    for d in days:
        present -= {p for p, pd in leave.items() if pd == d}
        present |= {p for p, pd in join.items() if pd == d}
        if whole is not None and d == whole[0]:
            _end_household(gen, h, d, "moveout")
            return
        if head in present:
            continue
        if not present:
            _end_household(gen, h, d, "household")
            return
        spouse = [p for p in present if gen.p_rel[p] == "10"]
        ages = {p: gen.p_age[p] for p in present}
        adults = [p for p in present if ages[p] >= 18]
        head = spouse[0] if spouse else max(adults or list(present), key=lambda p: (ages[p], -p))
        gen.p_changes[head].append((d, "household", {"relation": "02"}))


def _end_household(gen: County, h: int, d: int, kind: str) -> None:
    gen.h_end[h] = d
    gen.h_end_kind[h] = END_KINDS.index(kind)
    gen.h_changes[h].append((d, kind, {"status": "2", "status_date": d}))

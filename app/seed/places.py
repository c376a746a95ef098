"""The demo county's places and village figures: house per household, organisations per village,
yearly village observations and the monthly 低保 payments (the sum of the village's 低保 amounts)."""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import polars as pl

from app.seed import names
from app.seed.county import COUNTY_NAME, ID_AREA, County, pick
from app.seed.days import day
from app.validators.uscc import ALPHABET, make_uscc


def addresses(gen: County) -> pl.Series:
    """Each household's address: county, township, village, group (组 / 区) and door number."""
    v_prefix = [f"{COUNTY_NAME}{v.township}{v.name}" for v in gen.villages]
    unit = ["区" if v.urban else "组" for v in gen.villages]
    grid_no = np.array([int(c[12:]) for c in gen.grid_codes])
    prefix = pl.Series([v_prefix[v] for v in gen.grid_village]).gather(gen.h_grid)
    units = pl.Series([unit[v] for v in gen.grid_village]).gather(gen.h_grid)
    return (prefix + pl.Series(grid_no[gen.h_grid]).cast(pl.String) + units
            + pl.Series(gen.h_door).cast(pl.String) + "号").alias("address")


def draw_houses(gen: County) -> None:
    """One house for most households: type, structure, floor area, safety grade."""
    rng = gen.rng(6)
    has = rng.random(gen.H) < 0.95
    hh = np.flatnonzero(has)
    k = len(hh)
    urban = gen.urban[gen.h_village[hh]]
    htype = np.where(urban, pick(rng, list("1234"), [0.25, 0.60, 0.10, 0.05], k), pick(rng, list("132"), [0.90, 0.05, 0.05], k))
    structure = pick(rng, list("1234569"), [0.25, 0.50, 0.15, 0.06, 0.02, 0.0, 0.02], k)
    structure = np.where(htype == "2", "1", structure)
    area = np.where(htype == "1", rng.lognormal(np.log(150), 0.35, k), rng.lognormal(np.log(95), 0.25, k))
    old = np.isin(structure, ["3", "4", "5"])
    r = rng.random(k)
    grade = np.where(r < np.where(old, 0.10, 0.012), np.where(rng.random(k) < 0.2, "D", "C"),
                     np.where(r < np.where(old, 0.65, 0.30), "B", "A"))
    gen.house = {"hh": hh, "type": htype, "structure": structure, "area": np.round(area, 1), "grade": grade}


def draw_organisations(gen: County) -> None:
    """Per village: the N2 village collective, co-operatives (村 only), firms and shops, with valid
    统一社会信用代码; a few closed, and those of the merged village moved to its successor."""
    rng = gen.rng(7)
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

    for v, vil in enumerate(gen.villages):
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
    M = gen.merge_day
    for row in rows:
        row["vf"] = gen.start if rng.random() < 0.8 else int(gen.start + rng.random() * (gen.t - 60 - gen.start))
        row["changes"] = []
        if row["kind"] in ("1", "2") and rng.random() < 0.06:
            lo = max(row["vf"] + 30, gen.win)
            if lo < gen.t:
                row["changes"].append((int(lo + rng.random() * (gen.t - lo)), "org", {"status": "2"}))
        row["area"] = gen.villages[row["village"]].code
        if row["village"] == gen.merged_village:
            successor = gen.villages[gen.into_village].code
            if row["vf"] >= M:
                row["area"] = successor
            else:
                row["changes"].append((M, "merge", {"area_code": successor}))
    gen.orgs = rows


def draw_observations(gen: County) -> None:
    """Yearly village figures for five years and the monthly 低保 payments of the last 24 months."""
    rng = gen.rng(8)
    V, M = len(gen.villages), gen.merge_day
    years = list(range(gen.today.year - 5, gen.today.year))
    persons_per_village = np.bincount(gen.h_village, weights=gen.h_size, minlength=V)
    cropland = np.where(gen.urban, rng.uniform(0, 400, V), rng.uniform(1500, 6000, V) * (0.5 + persons_per_village / max(persons_per_village.mean(), 1)) / 1.5)
    sown_ratio = rng.uniform(1.3, 1.7, V)
    contracted_ratio = rng.uniform(0.82, 0.95, V)
    income0 = np.where(gen.urban, rng.lognormal(np.log(800_000), 0.6, V), rng.lognormal(np.log(250_000), 0.7, V))
    rows: list[tuple[str, str, str, str, int, int, float, str]] = []
    items = {"cropland_area": "亩", "sown_area": "亩", "grain_output": "吨", "contracted_land": "亩", "collective_income": "元"}
    old, into = gen.merged_village, gen.into_village
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
            code = gen.villages[v].code
            rows += [(item, code, code, str(y), start, end, values[item], items[item]) for item in items]
    # 低保金发放额: monthly, the last 24 complete months, from the 低保 tags valid in the month
    hh, vf, vt, amount = gen.dibao
    village = gen.h_village[hh]
    end_day = np.where(gen.h_end[hh] < vt, gen.h_end[hh], vt)
    m0 = gen.today.year * 12 + gen.today.month - 1
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
            code = gen.villages[v].code
            rows.append(("dibao_paid", code, code, f"{first:%Y-%m}", ms, me, float(round(paid[v])), "元"))
    gen.obs = rows

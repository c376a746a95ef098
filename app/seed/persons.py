"""The persons of the demo county: each household's members by its structure (an old rural
population pyramid), their attributes, synthetic ID numbers and names."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

import numpy as np
import polars as pl

from app.seed import names
from app.seed.county import ID_AREA, ROLE, TEMPLATES, C, County, D, G, H, P, S, pick, surnames
from app.seed.days import day, ymd
from app.seed.frames import dates

_ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
_ID_CHECK = np.array(list("10X98765432"))


def _floor(rng: np.random.Generator, x: np.ndarray, low: float, spread: float = 1.5) -> np.ndarray:
    """``x`` with values under ``low`` spread over [low, low + spread) (a hard clip would pile them on one day)."""
    return np.where(x < low, low + rng.random(len(x)) * spread, x)


def draw_persons(gen: County) -> None:
    """The members of each household by its structure: role, position, age, sex; then their attributes."""
    rng = gen.rng(2)
    parts: dict[str, list[np.ndarray]] = defaultdict(list)
    for t, (_size, roles, _w, (lo, mode, hi), p_male) in enumerate(TEMPLATES):
        hh = np.flatnonzero(gen.h_tmpl == t)
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
            parts["role"].append(np.full(n, ROLE[role], dtype=np.int8))
            parts["age"].append(age)
            parts["male"].append(male)
    hh = np.concatenate(parts["hh"])
    pos = np.concatenate(parts["pos"])
    order = np.lexsort((pos, hh))
    gen.p_hh = hh[order].astype(np.int32)
    gen.p_pos = pos[order]
    gen.p_role = np.concatenate(parts["role"])[order]
    age = np.concatenate(parts["age"])[order]
    gen.p_male = np.concatenate(parts["male"])[order]
    assert len(gen.p_hh) == gen.N
    gen.h_first = np.searchsorted(gen.p_hh, np.arange(gen.H)).astype(np.int32)
    gen.p_birth = (gen.t - np.maximum(np.round(age * 365.2425), 1)).astype(np.int32)
    gen.p_age = (gen.t - gen.p_birth) / 365.2425
    gen.p_vf = np.maximum(gen.p_birth, gen.start).astype(np.int32)
    gen.p_grid = gen.h_grid[gen.p_hh]
    _attributes(gen, rng)


def _attributes(gen: County, rng: np.random.Generator) -> None:
    """Relation to the head, marital status, education, residence, politics, ethnic group, phone, surname."""
    n, age, role, male = gen.N, gen.p_age, gen.p_role, gen.p_male
    roles_of_hh = np.array([TEMPLATES[t][1] for t in range(len(TEMPLATES))])[gen.h_tmpl[gen.p_hh]]
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
    gen.p_rel = rel

    # marital status
    mar = np.full(n, "10", dtype="<U2")
    married = (role == S) | (role == D) | ((role == H) & has_spouse) | ((role == P) & two_parents)
    mar[married] = "20"
    c_with_d = (role == C) & has_d & (gen.p_pos == 2)  # the first child of a template with D is married
    mar[c_with_d] = "20"
    single_p = (role == P) & ~two_parents
    mar[single_p] = pick(rng, ["30", "40", "20"], [0.85, 0.05, 0.10], int(single_p.sum()))
    for lo, hi, codes, probs in (
        (60, 200, ["30", "40", "10", "20"], [0.72, 0.08, 0.15, 0.05]),
        (35, 60, ["10", "40", "30", "20"], [0.45, 0.30, 0.20, 0.05]),
        (20, 35, ["10", "40", "20"], [0.85, 0.10, 0.05]),
    ):
        sel = (role == H) & ~has_spouse & (age >= lo) & (age < hi)
        mar[sel] = pick(rng, codes, probs, int(sel.sum()))
    for lo, hi, codes, probs in (
        (20, 30, ["10", "20", "40"], [0.75, 0.20, 0.05]),
        (30, 45, ["10", "20", "40"], [0.40, 0.45, 0.15]),
        (45, 200, ["10", "20", "40", "30"], [0.30, 0.40, 0.20, 0.10]),
    ):
        sel = ((role == C) & ~c_with_d | (role == G)) & (age >= lo) & (age < hi)
        mar[sel] = pick(rng, codes, probs, int(sel.sum()))
    too_young = age < np.where(male, 22, 20)
    mar[too_young] = "10"
    gen.p_mar = mar

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
        edu[sel] = pick(rng, codes, probs, int(sel.sum()))
    gen.p_edu = edu
    r = rng.random(n)
    gen.p_student = ((age >= 16) & (age < 18) & (r < 0.9)) | ((age >= 18) & (age < 22) & np.isin(edu, ["20", "30"]) & (r < 0.8))

    # residence type: outsider households whole; locals away for work by age and role
    res = gen.h_res[gen.p_hh].copy()
    local = res == 1
    p_away = np.zeros(n)
    working = (age >= 18) & (age < 50)
    p_away[working] = 0.30
    p_away[working & ((role == C) | (role == D)) & adult_t] = 0.62
    p_away[(age >= 16) & (age < 18)] = 0.05
    p_away[(age >= 50) & (age < 60)] = 0.08
    p_away[gen.p_student & (age >= 18)] = 0.9
    res[local & (rng.random(n) < p_away)] = 2
    gen.p_res = res

    # political status
    pol = np.full(n, "13", dtype="<U2")
    adult = age >= 18
    p01 = np.where(male, np.where(age >= 40, 0.125, 0.06), np.where(age >= 40, 0.045, 0.04)) * adult
    r = rng.random(n)
    pol[r < p01] = "01"
    pol[(pol == "13") & adult & (age < 40) & (rng.random(n) < 0.003)] = "02"
    pol[(pol == "13") & (age >= 14) & (age < 28) & (rng.random(n) < 0.35)] = "03"
    gen.p_pol = pol

    gen.p_ethnic = gen.h_ethnic[gen.p_hh].copy()
    outsider_spouse = ((role == S) | (role == D)) & (rng.random(n) < 0.02)
    gen.p_ethnic[outsider_spouse] = pick(rng, ["22", "06", "15"], [0.5, 0.25, 0.25], int(outsider_spouse.sum()))

    p_phone = np.where(age >= 80, 0.25, np.where(age >= 60, 0.6, 0.85)) * adult
    gen.p_has_phone = rng.random(n) < p_phone

    # surnames: children, grandchildren and the head's father carry the family name
    fam = gen.h_surname[gen.p_hh]
    own = surnames(rng, n)
    head_male = gen.p_male[gen.h_first][gen.p_hh]
    carries = (role == C) | (role == G) | ((role == H) & male) | ((role == S) & ~head_male & male) | ((role == P) & male)
    gen.p_surname = np.where(carries, fam, own).astype(np.int32)
    gen.p_given = rng.random((n, 3))


def id_numbers(gen: County) -> pl.Series:
    """Valid 18-digit ID numbers: area 339901, birth date, a sequence unique per birth date and sex."""
    y, m, d = ymd(gen.p_birth)
    sexbit = gen.p_male.astype(np.int64)
    # rank within (birth date, sex), scrambled into a 3-digit sequence of the right parity
    key = gen.p_birth.astype(np.int64) * 2 + sexbit
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    starts = np.searchsorted(sorted_key, sorted_key)
    rank = np.empty(gen.N, dtype=np.int64)
    rank[order] = np.arange(gen.N) - starts
    if rank.max(initial=0) >= 500:
        raise ValueError("more than 500 persons share a birth date and sex: raise the county or the sequence range")
    offset = (gen.p_birth.astype(np.int64) * 37 + gen.seed) % 500
    seq = 2 * ((rank * 137 + offset) % 500) + sexbit
    digits = [3, 3, 9, 9, 0, 1]
    cols = [np.full(gen.N, v, dtype=np.int64) for v in digits]
    cols += [y // 1000, y // 100 % 10, y // 10 % 10, y % 10, m // 10, m % 10, d // 10, d % 10, seq // 100, seq // 10 % 10, seq % 10]
    total = sum(c * w for c, w in zip(cols, _ID_WEIGHTS, strict=True))
    check = _ID_CHECK[total % 11]
    births = dates(gen.p_birth).dt.strftime("%Y%m%d")
    return (ID_AREA + births + pl.Series(seq).cast(pl.String).str.zfill(3) + pl.Series(check, dtype=pl.String)).alias("id_number")


def person_names(gen: County) -> pl.Series:
    """Surname and one or two given characters, by sex and generation."""
    lists = [names.GIVEN_MALE_OLD, names.GIVEN_MALE_NEW, names.GIVEN_FEMALE_OLD, names.GIVEN_FEMALE_NEW]
    offsets = np.cumsum([0] + [len(x) for x in lists])
    chars = pl.Series([c for x in lists for c in x] + [""])
    new = gen.p_birth >= day(date(1975, 1, 1))
    which = np.where(gen.p_male, 0, 2) + new
    lo, n_chars = offsets[which], offsets[which + 1] - offsets[which]
    g1 = lo + (gen.p_given[:, 0] * n_chars).astype(np.int64)
    g2 = np.where(gen.p_given[:, 2] < 0.3, len(chars) - 1, lo + (gen.p_given[:, 1] * n_chars).astype(np.int64))
    surname = pl.Series(list(names.SURNAMES)).gather(gen.p_surname)
    return (surname + chars.gather(g1) + chars.gather(g2)).alias("name")

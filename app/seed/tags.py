"""The demo county's tags at realistic rates: start dates spread over the past years (or the system
start, for records carried over), some ended (attributes changed, contracts not renewed, risks
removed, the 16th / 60th birthday) and every tag of a person or household that ended with it."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np
import polars as pl

from app.seed import names
from app.seed.county import C, County, D, G, H, S, pick
from app.seed.days import NO_DAY, add_years, iso
from app.seed.events import TAGEND
from app.seed.frames import json_choice

EMPTY = "{}"
Starts = Callable[[np.ndarray, np.ndarray, float], np.ndarray]


def assign_tags(gen: County) -> None:
    """Every tag of the county, in ``gen.tag_parts`` (one part per tag type and draw)."""
    rng = gen.rng(5)
    gen.tag_parts = []

    def starts(lo: np.ndarray, hi: np.ndarray, p_legacy: float) -> np.ndarray:
        """Start days in [lo, hi); with ``p_legacy`` on the system start day when ``lo`` is that day."""
        lo = np.asarray(lo, dtype=np.int64)
        hi = np.maximum(np.asarray(hi, dtype=np.int64), lo + 1)
        spread = lo + (rng.random(len(lo)) * (hi - lo)).astype(np.int64)
        return np.where((rng.random(len(lo)) < p_legacy) & (lo == gen.start), lo, spread).astype(np.int32)

    subsidised_hh = _household_tags(gen, rng, starts)
    _person_tags(gen, rng, starts, subsidised_hh)
    _care_tags(gen)


# Monthly 高龄津贴 by band (元): 80–89, 90–99, 100 and older.
AGED_ALLOWANCE = {"1": 100.0, "2": 200.0, "3": 500.0}


def _household_tags(gen: County, rng: np.random.Generator, starts: Starts) -> np.ndarray:
    """特困 (on the person), 脱贫, 低保, 监测 and the disabled persons (they make households frail);
    returns which households get subsidised insurance."""
    t, age, n = gen.t, gen.p_age, gen.N
    alive_start = gen.p_vf
    h_age = gen.p_age[gen.h_first]
    h_vf = np.full(gen.H, gen.start, dtype=np.int32)
    h_local = gen.h_res == 1
    rural = ~gen.urban[gen.h_village]
    p_dis = np.zeros(n)
    p_dis[age < 18] = 0.016
    p_dis[(age >= 18) & (age < 45)] = 0.033
    p_dis[(age >= 45) & (age < 60)] = 0.066
    p_dis[(age >= 60) & (age < 75)] = 0.10
    p_dis[age >= 75] = 0.155
    gen.p_disabled = rng.random(n) < p_dis
    h_disabled = np.bincount(gen.p_hh, weights=gen.p_disabled, minlength=gen.H) > 0
    frailty = (1 + 2.0 * h_disabled + 1.5 * (h_age >= 65) + 1.0 * (gen.h_size <= 2)) * h_local

    # tekun: mostly elderly living alone (decided first: a tekun person's household gets no 低保)
    alone_old = (gen.h_size == 1) & (h_age >= 60) & h_local
    w = alone_old * (1 + 3 * h_disabled) + ((gen.h_size == 1) & h_disabled & h_local & (h_age >= 18)) * 0.5
    tekun_hh = np.flatnonzero(rng.random(gen.H) < np.minimum(w * 0.005 * n / max(w.sum(), 1e-9), 0.9))
    tekun_p = gen.h_first[tekun_hh]
    _add(gen, "tekun", tekun_p, starts(alive_start[tekun_p], t - 30, 0.6), NO_DAY,
         json_choice(['{"support_mode": "1"}', '{"support_mode": "2"}'], rng.random(len(tekun_p)) < 0.8))
    no_tekun = np.ones(gen.H, dtype=bool)
    no_tekun[tekun_hh] = False

    # poverty_exit: 5 % of households, rural and local, frail ones more often
    w = frailty * rural
    exit_hh = np.flatnonzero(rng.random(gen.H) < np.minimum(w * 0.05 * gen.H / max(w.sum(), 1e-9), 0.9))
    _add(gen, "poverty_exit", exit_hh, h_vf[exit_hh], NO_DAY, EMPTY, household=True)

    # dibao: ~3 % of households at any time; about a quarter of the grants ended earlier
    w = frailty * no_tekun * (1 + 1.5 * np.isin(np.arange(gen.H), exit_hh))
    dibao_hh = np.flatnonzero(rng.random(gen.H) < np.minimum(w * 0.04 * gen.H / max(w.sum(), 1e-9), 0.9))
    k = len(dibao_hh)
    vf = starts(h_vf[dibao_hh], t - 30, 0.5)
    ended = rng.random(k) < 0.25
    vt = np.where(ended, vf + 60 + (rng.random(k) * np.maximum(t - vf - 61, 1)).astype(np.int64), NO_DAY)
    vt = np.where(vt >= t, NO_DAY, vt).astype(np.int32)
    covered = gen.h_size[dibao_hh]
    amount = np.round(covered * rng.uniform(450, 1000, k) / 10) * 10
    kinds = np.where(gen.urban[gen.h_village[dibao_hh]], "1", "2")
    gen.dibao = (dibao_hh, vf, vt, amount)
    _add(gen, "dibao", dibao_hh, vf, vt, [
        json.dumps({"kind": kd, "monthly_amount": float(a), "covered_persons": int(c)})
        for kd, a, c in zip(kinds.tolist(), amount.tolist(), covered.tolist(), strict=True)], household=True)

    # monitored: ~1 % open plus ended ones; kind 1 from poverty-exit households
    w = frailty * no_tekun
    mon_hh = np.flatnonzero(rng.random(gen.H) < np.minimum(w * 0.016 * gen.H / max(w.sum(), 1e-9), 0.9))
    is_exit = np.isin(mon_hh, exit_hh)
    kinds = np.where(is_exit, "1", pick(rng, ["2", "3"], [0.7, 0.3], len(mon_hh)))
    risks = np.asarray(names.RISKS)[rng.integers(0, len(names.RISKS), len(mon_hh))]
    vf = starts(h_vf[mon_hh], t - 30, 0.3)
    ended = rng.random(len(mon_hh)) < 0.35
    vt = np.where(ended, vf + 90 + (rng.random(len(mon_hh)) * np.maximum(t - vf - 91, 1)).astype(np.int64), NO_DAY)
    vt = np.where(vt >= t, NO_DAY, vt).astype(np.int32)
    _add(gen, "monitored", mon_hh, vf, vt, [json.dumps({"kind": kd, "risk": r}, ensure_ascii=False)
                                             for kd, r in zip(kinds.tolist(), risks.tolist(), strict=True)], household=True)
    subsidised_hh = np.zeros(gen.H, dtype=bool)
    subsidised_hh[dibao_hh] = True
    subsidised_hh[mon_hh] = True
    subsidised_hh[tekun_hh] = True
    return subsidised_hh


def _person_tags(gen: County, rng: np.random.Generator, starts: Starts, subsidised_hh: np.ndarray) -> None:
    t, age, n = gen.t, gen.p_age, gen.N
    alive_start = gen.p_vf
    res, local = gen.p_res, gen.p_res <= 2
    # disabled (drawn above with the frailty of households)
    dis = np.flatnonzero(gen.p_disabled)
    cat = pick(rng, list("1234567"), [0.12, 0.18, 0.02, 0.45, 0.08, 0.09, 0.06], len(dis))
    grade = pick(rng, list("1234"), [0.12, 0.22, 0.28, 0.38], len(dis))
    ids = gen.id_number.gather(dis).to_list()
    _add(gen, "disabled", dis, starts(alive_start[dis], t - 30, 0.7), NO_DAY, [
        json.dumps({"category": c, "grade": g, "certificate_no": f"{i}{c}{g}"})
        for c, g, i in zip(cat.tolist(), grade.tolist(), ids, strict=True)])

    # veterans: mostly men 25–80; survivors and families of servicemen of both sexes
    p_vet = np.where((age >= 25) & (age < 80), np.where(gen.p_male, 0.055, 0.003), 0.0) * local
    vet = np.flatnonzero(rng.random(n) < p_vet)
    men = gen.p_male[vet]
    cat = np.where(men, pick(rng, ["01", "02", "03", "06", "11", "12"], [0.80, 0.04, 0.04, 0.04, 0.02, 0.06], len(vet)),
                   pick(rng, ["07", "09", "10"], [0.4, 0.2, 0.4], len(vet)))
    cat = np.where((cat == "02") & (age[vet] < 65), "01", cat)
    enlisted = add_years(gen.p_birth[vet], 18) + (rng.random(len(vet)) * 3 * 365).astype(np.int32)
    discharged = enlisted + (rng.uniform(2, 5, len(vet)) * 365).astype(np.int32)
    served = np.isin(cat, ["01", "02", "03", "04", "05", "06", "11"])
    attrs = []
    for c, e, dch, s in zip(cat.tolist(), enlisted.tolist(), discharged.tolist(), served.tolist(), strict=True):
        a: dict[str, Any] = {"category": c}
        if s:
            a |= {"enlisted_on": iso(e), "discharged_on": iso(min(dch, t - 1))}
        attrs.append(json.dumps(a))
    _add(gen, "veteran", vet, starts(alive_start[vet], t - 30, 0.8), NO_DAY, attrs)

    # party members: political status 01
    party = np.flatnonzero(gen.p_pol == "01")
    lo = np.maximum(alive_start[party], add_years(gen.p_birth[party], 18))
    _add(gen, "party_member", party, starts(lo, t - 30, 0.9), NO_DAY, EMPTY)

    # migrant workers: most of those away for work; a few who came back (ended)
    away = np.flatnonzero((res == 2) & (age >= 16) & (age < 60) & ~gen.p_student & (rng.random(n) < 0.65))
    lo = np.maximum(alive_start[away], add_years(gen.p_birth[away], 16))
    _add(gen, "migrant_worker", away, starts(lo, t - 30, 0.6), NO_DAY, EMPTY)
    back = np.flatnonzero((res == 1) & (age >= 20) & (age < 55) & (rng.random(n) < 0.03))
    vf = starts(alive_start[back], t - 400, 0.5)
    vt = (vf + 180 + rng.random(len(back)) * np.maximum(t - vf - 181, 1)).astype(np.int32)
    _add(gen, "migrant_worker", back, vf, np.where(vt >= t, t - 1, vt), EMPTY)

    # left-behind children: under 16, every parent living in the household is away for work
    _left_behind(gen, rng, starts)

    # chronic diseases among older people
    for code, p60, p40 in (("hypertension", 0.28, 0.08), ("diabetes2", 0.095, 0.03)):
        p = np.where(age >= 60, p60, np.where(age >= 40, p40, 0.0))
        sel = np.flatnonzero(rng.random(n) < p)
        lo = np.maximum(alive_start[sel], add_years(gen.p_birth[sel], 40))
        _add(gen, code, sel, starts(lo, t - 30, 0.6), NO_DAY, EMPTY)
    chronic = np.zeros(n, dtype=bool)
    for part in gen.tag_parts:
        if part["code"] in ("hypertension", "diabetes2"):
            chronic[part["subject"]] = True

    # family doctor contracts: older people and chronic patients first; some not renewed
    p = np.where(age >= 65, 0.75, 0.33) + 0.2 * chronic
    fd = np.flatnonzero(rng.random(n) < np.minimum(p, 0.95) * 0.97)
    vf = starts(alive_start[fd], t - 30, 0.5)
    ended = rng.random(len(fd)) < 0.12
    vt = np.where(ended, vf + 365 + (rng.random(len(fd)) * np.maximum(t - vf - 366, 1)).astype(np.int64), NO_DAY)
    _add(gen, "family_doctor", fd, vf, np.where(vt >= t, NO_DAY, vt).astype(np.int32), EMPTY)

    # medical insurance: nearly everyone; subsidised for 低保 / 特困 / 监测 households
    p = np.where(local, 0.97, 0.80)
    med = np.flatnonzero(rng.random(n) < p)
    born_late = alive_start[med] > gen.start
    lo = alive_start[med] + np.where(born_late, 20, 0)
    vf = starts(lo, t - 1, 0.85)
    sub = subsidised_hh[gen.p_hh[med]]
    _add(gen, "medical_insured", med, vf, NO_DAY, json_choice(['{"subsidised": "0"}', '{"subsidised": "1"}'], sub))

    # resident pension insurance: 16+ non-students registered here; receiving from 60
    p16 = add_years(gen.p_birth, 16)
    p60 = add_years(gen.p_birth, 60)
    pen = np.flatnonzero(local & ~gen.p_student & (p16 < t - 30) & (rng.random(n) < 0.88))
    vf = starts(np.maximum(alive_start[pen], p16[pen]), t - 30, 0.8)
    b60 = p60[pen]
    before = b60 <= vf
    split = (b60 > vf) & (b60 < t)
    _add(gen, "pension_insured", pen[before], vf[before], NO_DAY, '{"receiving": "1"}')
    _add(gen, "pension_insured", pen[split], vf[split], b60[split], '{"receiving": "0"}')
    _add(gen, "pension_insured", pen[split], b60[split], NO_DAY, '{"receiving": "1"}')
    rest = ~before & ~split
    _add(gen, "pension_insured", pen[rest], vf[rest], NO_DAY, '{"receiving": "0"}')


def _draw(rng: np.random.Generator, weight: np.ndarray, rate: float) -> np.ndarray:
    """About ``rate`` of the eligible (``weight > 0``) drawn in proportion to ``weight``, at least one.

    The rare kinds (孤儿 about 5 in 10,000 children) would round to nobody in a small county, and a
    tag type without holders leaves its report columns always 0; one holder keeps them exercised.
    """
    eligible = np.flatnonzero(weight > 0)
    if len(eligible) == 0:
        return eligible
    k = min(len(eligible), max(1, int(round(rate * len(eligible)))))
    w = weight[eligible].astype(np.float64)
    return np.sort(rng.choice(eligible, size=k, replace=False, p=w / w.sum()))


def _care_tags(gen: County) -> None:
    """低保边缘, 孤儿, 事实无人抚养儿童, 留守老人, 严重精神障碍 and 高龄津贴.

    Drawn from their own random stream (phase 15), after every other tag, so the older tags of a
    given seed stay as they were.
    """
    rng = gen.rng(15)
    t, age, n = gen.t, gen.p_age, gen.N

    def starts(lo: np.ndarray, hi: np.ndarray, p_legacy: float) -> np.ndarray:
        lo = np.asarray(lo, dtype=np.int64)
        hi = np.maximum(np.asarray(hi, dtype=np.int64), lo + 1)
        spread = lo + (rng.random(len(lo)) * (hi - lo)).astype(np.int64)
        return np.where((rng.random(len(lo)) < p_legacy) & (lo == gen.start), lo, spread).astype(np.int32)

    held = {"dibao": np.zeros(gen.H, dtype=bool), "tekun": np.zeros(n, dtype=bool)}
    for part in gen.tag_parts:
        if part["code"] in held:
            held[part["code"]][part["subject"]] = True
    # the rare kinds are drawn among those still here today, so that a small county has holders now
    local_p = (gen.p_res <= 2) & (gen.p_end == NO_DAY)
    h_local = (gen.h_res == 1) & (gen.h_end == NO_DAY)
    h_age = age[gen.h_first]
    h_disabled = np.bincount(gen.p_hh, weights=gen.p_disabled, minlength=gen.H) > 0
    h_tekun = np.bincount(gen.p_hh, weights=held["tekun"], minlength=gen.H) > 0

    # 低保边缘: ~1.5 % of households, the frail ones near the 低保 line (never a 低保 or 特困 household)
    w = (1 + 2.0 * h_disabled + 1.5 * (h_age >= 65) + 1.0 * (gen.h_size <= 2)) * h_local * ~held["dibao"] * ~h_tekun
    edge = _draw(rng, w, 0.015)
    vf = starts(np.full(len(edge), gen.start), t - 30, 0.3)
    ended = rng.random(len(edge)) < 0.2
    vt = np.where(ended, vf + 90 + (rng.random(len(edge)) * np.maximum(t - vf - 91, 1)).astype(np.int64), NO_DAY)
    _add(gen, "dibao_edge", edge, vf, np.where(vt >= t, NO_DAY, vt).astype(np.int32), EMPTY, household=True)

    # children under 18 registered here: 孤儿 (≈5 in 10,000) and 事实无人抚养儿童 (≈1 in 1,000), more
    # often grandchildren living with grandparents; the tag ends on the 18th birthday
    child = (age < 18) & local_p
    w = child * np.where(gen.p_role == G, 3.0, 1.0)
    orphan = _draw(rng, w, 0.0005)
    w[orphan] = 0
    unsupported = _draw(rng, w, 0.001)
    for code, sel in (("orphan", orphan), ("unsupported_child", unsupported)):
        end18 = add_years(gen.p_birth[sel], 18)
        vf = starts(gen.p_vf[sel], np.minimum(end18, t) - 1, 0.5)
        _add(gen, code, sel, vf, np.where(end18 < t, end18, NO_DAY).astype(np.int32), EMPTY)

    # 留守老人: 60+ living here whose household has nobody of working age at home and someone away
    working_home = np.bincount(gen.p_hh, weights=(age >= 16) & (age < 60) & (gen.p_res == 1), minlength=gen.H)
    away = np.bincount(gen.p_hh, weights=gen.p_res == 2, minlength=gen.H)
    eligible = (age >= 60) & (gen.p_res == 1) & (working_home[gen.p_hh] == 0) & (away[gen.p_hh] > 0)
    elderly = _draw(rng, eligible.astype(np.float64), 0.7)
    lo = np.maximum(gen.p_vf[elderly], add_years(gen.p_birth[elderly], 60))
    _add(gen, "left_behind_elderly", elderly, starts(lo, t - 30, 0.6), NO_DAY, EMPTY)

    # 严重精神障碍: registered prevalence ≈ 4.5 ‰ of adults, most of them of working age
    w = (age >= 18) * local_p * np.where(age < 65, 1.2, 0.8)
    mental = _draw(rng, w, 0.0045)
    lo = np.maximum(gen.p_vf[mental], add_years(gen.p_birth[mental], 18))
    _add(gen, "severe_mental", mental, starts(lo, t - 30, 0.7), NO_DAY, EMPTY)

    # 高龄津贴: ~92 % of the registered 80+ apply; granted from the 80th birthday (or the system start),
    # a month or two later for some; the band and amount change on the 90th and 100th birthday
    b80 = add_years(gen.p_birth, 80)
    eligible = (gen.p_res <= 2) & (b80 < t - 30)  # those who died since were granted it too
    aged = _draw(rng, eligible.astype(np.float64), 0.92)
    late = np.where((rng.random(len(aged)) < 0.4) & (b80[aged] > gen.p_vf[aged]),
                    (rng.random(len(aged)) * 60).astype(np.int64), 0)
    vf = np.minimum(np.maximum(b80[aged], gen.p_vf[aged]).astype(np.int64) + late, t - 1)
    b90, b100 = add_years(gen.p_birth[aged], 90), add_years(gen.p_birth[aged], 100)
    for band, lo, hi in (("1", vf, b90), ("2", np.maximum(vf, b90), b100), ("3", np.maximum(vf, b100), None)):
        keep = (lo < t) if hi is None else (lo < t) & (lo < hi)
        end = NO_DAY if hi is None else np.where(hi[keep] < t, hi[keep], NO_DAY)
        attrs = json.dumps({"band": band, "monthly_amount": AGED_ALLOWANCE[band]})
        _add(gen, "aged_allowance", aged[keep], lo[keep], end, attrs)


def _left_behind(gen: County, rng: np.random.Generator, starts: Starts) -> None:
    """Children under 16 whose parents living in the household are all away for work."""
    role, res, age = gen.p_role, gen.p_res, gen.p_age
    away = res == 2
    # per household: parents of children (H, S) and parents of grandchildren (C, D)
    h_head_away = np.bincount(gen.p_hh, weights=((role == H) | (role == S)) & away, minlength=gen.H)
    h_head_n = np.bincount(gen.p_hh, weights=(role == H) | (role == S), minlength=gen.H)
    gen2 = (role == C) | (role == D)
    h_c_away = np.bincount(gen.p_hh, weights=gen2 & away, minlength=gen.H)
    h_c_n = np.bincount(gen.p_hh, weights=gen2, minlength=gen.H)
    child = (age < 19) & (res <= 2)
    lb = np.zeros(gen.N, dtype=bool)
    lb |= child & (role == C) & (h_head_away[gen.p_hh] == h_head_n[gen.p_hh]) & (h_head_n[gen.p_hh] > 0)
    lb |= child & (role == G) & (h_c_n[gen.p_hh] > 0) & (h_c_away[gen.p_hh] == h_c_n[gen.p_hh])
    sel = np.flatnonzero(lb)
    end16 = add_years(gen.p_birth[sel], 16)
    keep = end16 > gen.p_vf[sel] + 30
    sel, end16 = sel[keep], end16[keep]
    vf = starts(gen.p_vf[sel], np.minimum(end16, gen.t) - 1, 0.7)
    vt = np.where(end16 < gen.t, end16, NO_DAY).astype(np.int32)
    _add(gen, "left_behind_child", sel, vf, vt, EMPTY)


def _add(gen: County, code: str, subject: np.ndarray, vf: Any, vt: Any, attrs: str | list[str] | pl.Series,
         household: bool = False) -> None:
    """Tags of one type: start, planned end, attributes (JSON text: one for all, or one each).

    A tag never outlives its subject: it ends on the day the person died or moved out, or the
    household was deregistered; a tag that would start on or after that day is not made.
    """
    subject = np.asarray(subject, dtype=np.int64)
    k = len(subject)
    vf = np.broadcast_to(np.asarray(vf, dtype=np.int64), (k,)).copy()
    vt = np.broadcast_to(np.asarray(vt, dtype=np.int64), (k,)).copy()
    end = (gen.h_end if household else gen.p_end)[subject].astype(np.int64)
    end_kind = (gen.h_end_kind if household else gen.p_end_kind)[subject]
    clipped = end < vt
    vt = np.where(clipped, end, vt)
    reason = np.where(clipped, end_kind, np.where(vt != NO_DAY, TAGEND, 0)).astype(np.int8)
    keep = vt > vf
    if isinstance(attrs, str):
        attrs = pl.Series([attrs]).gather(np.zeros(k, dtype=np.int64))
    elif not isinstance(attrs, pl.Series):
        attrs = pl.Series(attrs, dtype=pl.String)
    gen.tag_parts.append({
        "code": code, "household": household, "subject": subject[keep], "vf": vf[keep].astype(np.int32),
        "vt": vt[keep].astype(np.int32), "attrs": attrs.filter(pl.Series(keep)),
        "reason": reason[keep],
    })

"""A province roll-up computed county by county (reporting/province.py) on a hand-made 3-county province.

Two cities: 示范市 (3399) with 云溪县 (339901) and 云东县 (339902), 北山市 (3398) with 北山县 (339801).
The expected figures are counted by hand from the records below (see the comments), not by the engine;
a man who moved from 云溪县 to 北山县 and a man who died check that each county counts the state on the
reference date, although a county's store holds every version of the persons ever in it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlmodel import Session

from app.db import Database, get_db
from app.issues import ValidationFailed
from app.models import Area
from app.registry.loader import load_registry
from app.reporting import province
from app.reporting.projections import RunContext
from app.services import reports
from app.services.households import create_household
from app.services.persons import create_person, end_person, move_person
from app.services.tags import grant_tag
from app.services.users import create_user
from app.validators.idcard import make_id_number

PROVINCE = "330000000000"
CITY_A, CITY_B = "339900000000", "339800000000"
COUNTY_1, COUNTY_2, COUNTY_3 = "339901000000", "339902000000", "339801000000"
REF = date(2026, 6, 30)
START = date(2024, 1, 1)

SPEC = """
id: test_province_summary
version: 1
title: "{area}户籍人口与低保汇总"
department: stats
frequency: ad_hoc
kind: area_summary
statutory: {有效期至: 2030-12-31}
rows: {level: village, subtotals: true, total: top}
columns:
  - {label: 户数, indicator: HH_REGISTERED}
  - {label: 户籍人口, indicator: P_REGISTERED}
  - {label: 男, indicator: P_REGISTERED_MALE}
  - {label: 低保金额, indicator: AMT_DIBAO_MONTH}
  - {label: 男性占比, derived: {share: [P_REGISTERED_MALE, P_REGISTERED]}, decimals: 1}
"""

# name → (户数, 户籍人口, 男, 低保金额, 男性占比), counted by hand from _build
EXPECTED = {
    "合计": (4, 6, 3, 800, 50.0),
    "示范市小计": (3, 4, 2, 300, 50.0),
    "云溪县": (2, 3, 2, 300, 66.7),  # 户1: 男 + 女 (the second man moved away); 户2: 男 (the 外来常住 woman is not 户籍)
    "云东县": (1, 1, 0, 0, 0.0),  # 户3: 女 (her husband died)
    "北山市小计": (1, 2, 1, 500, 50.0),
    "北山县": (1, 2, 1, 500, 50.0),  # 户4: 女 + the man who moved in
}


def _areas(session: Session) -> None:
    rows = [(PROVINCE, "浙江省", 1, None), (CITY_A, "示范市", 2, PROVINCE), (CITY_B, "北山市", 2, PROVINCE)]
    for county, name, city in ((COUNTY_1, "云溪县", CITY_A), (COUNTY_2, "云东县", CITY_A), (COUNTY_3, "北山县", CITY_B)):
        town = county[:6] + "100000"
        rows += [(county, name, 3, city), (town, f"{name}城关镇", 4, county),
                 (town[:9] + "201", f"{name}甲村", 5, town), (town[:9] + "202", f"{name}乙村", 5, town)]
    for code, name, level, parent in rows:
        session.add(Area(code=code, name=name, level=level, parent_code=parent, valid_from=date(2000, 1, 1)))
    session.flush()


def _build(db: Database) -> None:
    with db.transaction() as s:
        _areas(s)
        admin = create_user(s, "padmin", "password-123", "省管理员", "admin", PROVINCE)
        mca = create_user(s, "pmca", "password-123", "民政", "department", PROVINCE, "mca")
    seq = iter(range(101, 999, 2))  # odd sequence numbers: men; +1: women

    def person(s: Session, hid: int, area: str, male: bool, **values: Any) -> int:
        n = next(seq) + (0 if male else 1)
        birth = date(1970, 1, 1)
        return create_person(s, admin, {"id_number": make_id_number(area[:6], birth, n), "name": f"人{n}",
                                        "sex": "1" if male else "2", "birth_date": birth, "household_id": hid,
                                        "area_code": area, "relation": "20", **values},
                             effective=START, confirm_warnings=True).id

    with db.transaction() as s:
        v1a, v1b, v2a, v3a = "339901100201", "339901100202", "339902100201", "339801100201"
        h1 = create_household(s, admin, {"number": "H1", "area_code": v1a}, effective=START).id
        h2 = create_household(s, admin, {"number": "H2", "area_code": v1b}, effective=START).id
        h3 = create_household(s, admin, {"number": "H3", "area_code": v2a}, effective=START).id
        h4 = create_household(s, admin, {"number": "H4", "area_code": v3a}, effective=START).id
        person(s, h1, v1a, True)
        person(s, h1, v1a, False)
        mover = person(s, h1, v1a, True)
        person(s, h2, v1b, True)
        person(s, h2, v1b, False, residence_type="3")
        dead = person(s, h3, v2a, True)
        person(s, h3, v2a, False)
        person(s, h4, v3a, False)
        grant_tag(s, mca, "dibao", h2, START, attrs={"kind": "2", "monthly_amount": 300}, confirm_warnings=True)
        grant_tag(s, mca, "dibao", h4, START, attrs={"kind": "1", "monthly_amount": 500}, confirm_warnings=True)
    with db.transaction() as s:
        end_person(s, admin, dead, "death", date(2025, 1, 1), confirm_warnings=True)
    with db.transaction() as s:
        move_person(s, admin, mover, h4, date(2025, 3, 1), confirm_warnings=True)


def _table(report) -> dict[str, tuple]:  # noqa: ANN001
    sheet = report.sheets[0]
    keys = [c.key for c in sheet.columns][-5:]
    return {r.values["name"]: tuple(r.values[k] for k in keys) for r in sheet.rows}


def _spec():  # noqa: ANN202
    registry = load_registry()
    spec, issues = reports.validate_projection(SPEC, registry)
    assert spec is not None and not [i for i in issues if i.severity == "error"], issues
    return registry, spec


def test_province_rollup_matches_hand_count(db: Database) -> None:
    _build(db)
    registry, spec = _spec()
    with db.session() as s:
        report = reports.build_from_spec(db, s, registry, None, spec,
                                         reports.RunRequest(spec.id, area_code=PROVINCE, on=REF))
    table = _table(report)
    assert list(table) == ["合计", "北山市小计", "北山县", "示范市小计", "云溪县", "云东县"]  # by area code
    assert table == EXPECTED
    kinds = [r.kind for r in report.sheets[0].rows]
    assert kinds == ["total", "subtotal", "data", "subtotal", "data", "data"]


def test_city_rollup_and_county_reports_agree(db: Database) -> None:
    _build(db)
    registry, spec = _spec()
    with db.session() as s:
        city = _table(reports.build_from_spec(db, s, registry, None, spec,
                                              reports.RunRequest(spec.id, area_code=CITY_A, on=REF)))
        # a city: its counties and its total, no subtotal rows
        assert city == {"合计": EXPECTED["示范市小计"], "云溪县": EXPECTED["云溪县"], "云东县": EXPECTED["云东县"]}
        for code, name in ((COUNTY_1, "云溪县"), (COUNTY_2, "云东县"), (COUNTY_3, "北山县")):
            # the ordinary county report (one store of the whole database) has the same total
            county = _table(reports.build_from_spec(db, s, registry, None, spec,
                                                    reports.RunRequest(spec.id, area_code=code, on=REF)))
            assert county["合计"] == EXPECTED[name]


def test_county_stores_are_bounded_by_the_lru(db: Database) -> None:
    _build(db)
    registry, spec = _spec()
    stores = province.CountyStores(db.engine, size=1)
    with db.session() as s:
        ctx = RunContext(PROVINCE, "浙江省", REF, None, reports.code_lists(s), reports.utcnow(), "测试", "")
        report = province.rollup(db.engine, spec, ctx, registry.indicators_for(spec), stores=stores)
    assert _table(report) == EXPECTED
    assert stores.reads == 3 and len(stores) == 1
    # a county's store holds only the entities that were ever in that county
    county_3 = stores.get("339801", province.data_version(db.engine))
    areas = set(county_3.table("persons").get_column("area_code").str.slice(0, 6).to_list())
    assert areas == {"339801", "339901"}  # the man who moved in: his earlier version is in 云溪县
    assert county_3.table("households").get_column("number").to_list() == ["H4"]
    # evicting a store drops its frames at once (not when the cycle collector gets to it)
    county_3.snapshot(REF).table("persons")
    stores.get("339901", province.data_version(db.engine))
    assert len(stores) == 1 and not county_3._tables and not county_3._snapshots  # noqa: SLF001


def test_bad_lru_setting_is_refused_in_chinese(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    from app import create_app

    _build(db)
    registry, spec = _spec()
    app = create_app({"DATABASE_URL": str(db.engine.url.render_as_string(hide_password=False)), "SECRET_KEY": "x" * 40,
                      "TESTING": True, "YBT_PROVINCE_LRU": 0})
    try:
        with app.app_context(), db.session() as s, pytest.raises(ValidationFailed) as err:
            reports.build_from_spec(db, s, registry, None, spec, reports.RunRequest(spec.id, area_code=PROVINCE, on=REF))
    finally:
        get_db(app).engine.dispose()
    assert "YBT_PROVINCE_LRU" in str(err.value.issues[0].message) and "至少为 1" in err.value.issues[0].message


def test_cli_report_run_for_a_province_rolls_up(db: Database, tmp_path) -> None:  # noqa: ANN001
    """``ybt report run mca_needy_by_village --area <province>`` (shipped report, JSON out), counted by hand:
    低保 households 户2 (云溪县, rural, 2 persons) and 户4 (北山县, urban, 2 persons on the date)."""
    import json

    from app import create_app

    _build(db)
    app = create_app({"DATABASE_URL": db.engine.url.render_as_string(hide_password=False), "SECRET_KEY": "x" * 40,
                      "TESTING": True, "YBT_PROVINCE_LRU": 1})
    out = tmp_path / "province.json"
    try:
        result = app.test_cli_runner().invoke(args=["report", "run", "mca_needy_by_village", "--area", PROVINCE,
                                                    "--as-of", REF.isoformat(), "--format", "json", "--out", str(out)])
    finally:
        get_db(app).engine.dispose()
    assert result.exit_code == 0, result.output
    sheet = json.loads(out.read_text("utf-8"))["sheets"][0]
    keys = {tuple(c["path"]): c["key"] for c in sheet["columns"]}
    hh, persons = keys[("低保", "户数")], keys[("低保", "人数")]
    urban, rural = keys[("低保", "其中", "城市低保户")], keys[("低保", "其中", "农村低保户")]
    got = {r["name"]: (r[hh], r[persons], r[urban], r[rural]) for r in sheet["rows"]}
    assert got == {"合计": (2, 4, 1, 1), "北山市小计": (1, 2, 1, 0), "北山县": (1, 2, 1, 0),
                   "示范市小计": (1, 2, 0, 1), "云溪县": (1, 2, 0, 1), "云东县": (0, 0, 0, 0)}

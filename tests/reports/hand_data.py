"""A small hand-made county whose report numbers are worked out by hand in the tests.

Reference date for most tests: 2025-06-30. Everyone below is entered with effect from 2024-01-01
unless a line says otherwise. Ages are on 2025-06-30 (school ages on 2025-08-31 where noted).

青石镇 (339901100000)
  甲村 (339901100201)
    H1 户号 JC001  低保 农村(kind 2) 800 元/月 from 2024-02-01
       p1  男 1950-03-01 户主 02  75岁  户籍常住(1)  高血压; 持证残疾 肢体(4) 二级(2)
       p2  女 1952-07-15 配偶 10  72岁  户籍常住(1)  医保参保
       p3  男 2015-09-01 孙子 41   9岁  户籍常住(1)  留守儿童 (8月31日时仍9岁)
    H2 户号 JC002
       p4  男 1980-05-05 户主 02  45岁  人户分离(2)  外出务工; 退役军人 退役士兵(01)
       p5  女 1982-02-02 配偶 10  43岁  户籍常住(1)  医保参保
       p6  女 2019-10-10 女儿 30   5岁  户籍常住(1)
    H3 户号 JC003  低保 城市(kind 1) 500 元/月 from 2024-01-01, ended 2025-06-20
       p7  女 1930-01-01 户主 02  95岁  户籍常住(1)  特困 分散供养(2)
  乙村 (339901100202)
    H4 户号 YC001  监测户 边缘易致贫户(kind 2)
       p8  男 1940-12-31 户主 02  84岁  户籍常住(1)  2型糖尿病; 高血压
       p9  男 1960-06-30 儿子 20  65岁  户籍常住(1)   (birthday on the reference date: 65)
       p10 女 1924-08-01 母亲 52 100岁  户籍常住(1)
    H5 户号 YC002
       p11 男 1990-01-01 户主 02  35岁  常住外来(3)
       p12 女 2005-08-31 其他 99  19岁  流动人口(4)
石门乡 (339901200000)
  丙村 (339901200201)
    H6 户号 BC001  低保 农村(kind 2) 600 元/月 from 2024-03-01
       p13 男 1970-01-01 户主 02  55岁  户籍常住(1)  特困 集中供养(1)
       p14 女 1945-01-01 配偶 10  died 2025-03-01 (had 高血压, ended with the death)
    H7 户号 BC002  created 2025-06-10; 低保 农村(kind 2) 300 元/月 from 2025-06-15
       p15 男 1985-04-04 户主 02  40岁  户籍常住(1)  entered 2025-06-10

Observations: cropland_area 2025: 甲村 1000.5, 乙村 800, 丙村 1200; 2024: 甲村 990, 乙村 780, 丙村 1190;
grain_output 2024: 甲村 300, 乙村 250, 丙村 410.
Organisations: 甲村 N2 village collective (kind 8, 3 employees); 丙村 co-operative (kind 9, 12 employees).
Houses: H1 house grade C 120 m²; H4 house grade D 80.5 m²; H6 house grade A 150 m².

Added for the report catalogue (append only; everything above is unchanged):

  乙村 (339901100202)
    H8 户号 YC003
       p16 女 1986-11-20 户主 02  38岁  户籍常住(1)  医保参保 (资助 否); 养老保险 (领取 否)
       p17 男 2009-08-31 儿子 20  15岁  户籍常住(1)  持证残疾 智力(5) 三级(3) C003; 医保参保 (资助 否)
                                  (turns 16 ON 2025-08-31: not school age on 8月31日, although 15 on 06-30)
       p18 女 2019-08-31 女儿 30   5岁  户籍常住(1)  医保参保 (资助 否)
                                  (turns 6 ON 2025-08-31: school age (小学) on 8月31日, 学前 on 06-30)
       p19 男 1942-05-20 父亲 51  83岁  户籍常住(1)  退役军人 退役士兵(01);
                                  moved out (迁出, to 示范市外县) 2025-05-20: tags end that day
More tags (all from 2024-01-01 unless noted):
  p1  养老保险 领取(1); 医保参保 资助(1); 家庭医生签约
  p2  养老保险 领取(1); 家庭医生签约
  p3  医保参保 资助(1)
  p5  养老保险 领取 否(0)
  p8  退役军人 烈士遗属(07); 养老保险 领取(1); 家庭医生签约
  p10 持证残疾 视力(1) 一级(1) C002
  p13 退役军人 残疾军人(05); 医保参保 资助(1)
  H2  监测户 脱贫不稳定户(kind 1) risk 因病 from 2025-02-01; 脱贫户
Observations: collective_income 2024: 甲村 156000 元, 丙村 82500 元.
Houses: H8 house grade B 95 m²; H7 old house grade D 60 m² with status 2 (注销, demolished).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session

from app.models import Area, User
from app.services import history
from app.services.households import create_household
from app.services.observations import record_observation
from app.services.persons import create_person, end_person
from app.services.tags import end_tag, grant_tag
from app.services.users import create_user
from app.validators.idcard import make_id_number
from app.validators.uscc import make_uscc

PASSWORD = "password-123"  # every account of the hand-made county
COUNTY, TOWN_1, TOWN_2 = "339901000000", "339901100000", "339901200000"
V1, V2, V3 = "339901100201", "339901100202", "339901200201"
START = date(2024, 1, 1)
REF = date(2025, 6, 30)


@dataclass
class HandCounty:
    admin: User
    mca: User
    nhc: User
    stats: User
    cadre_1: User
    persons: dict[str, int]
    households: dict[str, int]


PEOPLE = [
    # key, household, village, sex, birth, relation, residence, name
    ("p1", "H1", V1, "1", date(1950, 3, 1), "02", "1", "甲一"),
    ("p2", "H1", V1, "2", date(1952, 7, 15), "10", "1", "甲二"),
    ("p3", "H1", V1, "1", date(2015, 9, 1), "41", "1", "甲三"),
    ("p4", "H2", V1, "1", date(1980, 5, 5), "02", "2", "甲四"),
    ("p5", "H2", V1, "2", date(1982, 2, 2), "10", "1", "甲五"),
    ("p6", "H2", V1, "2", date(2019, 10, 10), "30", "1", "甲六"),
    ("p7", "H3", V1, "2", date(1930, 1, 1), "02", "1", "甲七"),
    ("p8", "H4", V2, "1", date(1940, 12, 31), "02", "1", "乙一"),
    ("p9", "H4", V2, "1", date(1960, 6, 30), "20", "1", "乙二"),
    ("p10", "H4", V2, "2", date(1924, 8, 1), "52", "1", "乙三"),
    ("p11", "H5", V2, "1", date(1990, 1, 1), "02", "3", "乙四"),
    ("p12", "H5", V2, "2", date(2005, 8, 31), "99", "4", "乙五"),
    ("p13", "H6", V3, "1", date(1970, 1, 1), "02", "1", "丙一"),
    ("p14", "H6", V3, "2", date(1945, 1, 1), "10", "1", "丙二"),
    ("p15", "H7", V3, "1", date(1985, 4, 4), "02", "1", "丙三"),
    ("p16", "H8", V2, "2", date(1986, 11, 20), "02", "1", "乙六"),
    ("p17", "H8", V2, "1", date(2009, 8, 31), "20", "1", "乙七"),
    ("p18", "H8", V2, "2", date(2019, 8, 31), "30", "1", "乙八"),
    ("p19", "H8", V2, "1", date(1942, 5, 20), "51", "1", "乙九"),
]
HOUSEHOLDS = [("H1", "JC001", V1), ("H2", "JC002", V1), ("H3", "JC003", V1), ("H4", "YC001", V2), ("H5", "YC002", V2),
              ("H6", "BC001", V3), ("H7", "BC002", V3), ("H8", "YC003", V2)]


def build(session: Session) -> HandCounty:
    for code, name, level, parent in [
        ("330000000000", "浙江省", 1, None), ("339900000000", "示范市", 2, "330000000000"),
        (COUNTY, "云溪县", 3, "339900000000"), (TOWN_1, "青石镇", 4, COUNTY), (TOWN_2, "石门乡", 4, COUNTY),
        (V1, "甲村", 5, TOWN_1), (V2, "乙村", 5, TOWN_1), (V3, "丙村", 5, TOWN_2),
    ]:
        session.add(Area(code=code, name=name, level=level, parent_code=parent, valid_from=date(2000, 1, 1)))
    session.flush()
    pw = PASSWORD
    admin = create_user(session, "admin", pw, "管理员", "admin", COUNTY)
    users = HandCounty(
        admin=admin,
        mca=create_user(session, "mca", pw, "县民政局", "department", COUNTY, "mca"),
        nhc=create_user(session, "nhc", pw, "县卫健局", "department", COUNTY, "nhc"),
        stats=create_user(session, "stats", pw, "县统计局", "department", COUNTY, "stats"),
        cadre_1=create_user(session, "cadre_1", pw, "甲村干部", "village_cadre", V1),
        persons={}, households={},
    )
    for key, number, village in HOUSEHOLDS:
        effective = date(2025, 6, 10) if key == "H7" else START
        users.households[key] = create_household(session, admin, {"number": number, "area_code": village,
                                                                  "address": f"{number}号"}, effective=effective).id
    for seq, (key, hh, village, sex, birth, relation, residence, name) in enumerate(PEOPLE, start=1):
        effective = date(2025, 6, 10) if key == "p15" else START
        number = make_id_number("339901", birth, 2 * seq - (1 if sex == "1" else 0))
        users.persons[key] = create_person(session, admin, {
            "id_number": number, "name": name, "household_id": users.households[hh], "area_code": village,
            "relation": relation, "residence_type": residence, "phone": f"1990000{seq:04d}"}, effective=effective).id
    p, h = users.persons, users.households
    grant = grant_tag
    grant(session, admin, "dibao", h["H1"], date(2024, 2, 1), attrs={"kind": "2", "monthly_amount": 800})
    dibao_h3 = grant(session, admin, "dibao", h["H3"], START, attrs={"kind": "1", "monthly_amount": 500})
    grant(session, admin, "dibao", h["H6"], date(2024, 3, 1), attrs={"kind": "2", "monthly_amount": 600})
    grant(session, admin, "dibao", h["H7"], date(2025, 6, 15), attrs={"kind": "2", "monthly_amount": 300})
    grant(session, admin, "monitored", h["H4"], START, attrs={"kind": "2"})
    grant(session, admin, "hypertension", p["p1"], START)
    grant(session, admin, "disabled", p["p1"], START, attrs={"category": "4", "grade": "2", "certificate_no": "C001"})
    grant(session, admin, "medical_insured", p["p2"], START)
    grant(session, admin, "left_behind_child", p["p3"], START)
    grant(session, admin, "migrant_worker", p["p4"], START)
    grant(session, admin, "veteran", p["p4"], START, attrs={"category": "01"})
    grant(session, admin, "medical_insured", p["p5"], START)
    grant(session, admin, "tekun", p["p7"], START, attrs={"support_mode": "2"})
    grant(session, admin, "diabetes2", p["p8"], START)
    grant(session, admin, "hypertension", p["p8"], START)
    grant(session, admin, "tekun", p["p13"], START, attrs={"support_mode": "1"})
    grant(session, admin, "hypertension", p["p14"], START)
    end_tag(session, admin, dibao_h3.id, date(2025, 6, 20))
    end_person(session, admin, p["p14"], "death", date(2025, 3, 1))
    for village, area_2025, area_2024, grain_2024 in [(V1, 1000.5, 990, 300), (V2, 800, 780, 250), (V3, 1200, 1190, 410)]:
        record_observation(session, admin, "cropland_area", village, "2025", area_2025)
        record_observation(session, admin, "cropland_area", village, "2024", area_2024)
        record_observation(session, admin, "grain_output", village, "2024", grain_2024)
    batch = history.open_batch(session, admin, "web")
    history.create_version(session, batch, "organisation", {
        "uscc": make_uscc("N2339901" + "MA0000001"), "name": "甲村股份经济合作社", "kind": "8", "area_code": V1,
        "employees": 3, "status": "1", "industry": "A"}, START)
    history.create_version(session, batch, "organisation", {
        "uscc": None, "name": "丙村种植专业合作社", "kind": "9", "area_code": V3, "employees": 12, "status": "1",
        "industry": "A"}, START)
    for hh, village, grade, area in [("H1", V1, "C", 120.0), ("H4", V2, "D", 80.5), ("H6", V3, "A", 150.0)]:
        history.create_version(session, batch, "house", {
            "address": f"{hh}住房", "area_code": village, "house_type": "1", "floor_area": area, "structure": "2",
            "safety_grade": grade, "household_id": h[hh], "status": "1"}, START)
    _catalogue_additions(session, admin, users)
    session.commit()
    return users


def _catalogue_additions(session: Session, admin: User, users: HandCounty) -> None:
    """Tags, observations and houses added for the report catalogue (see the docstring)."""
    p, h = users.persons, users.households
    grant = grant_tag
    grant(session, admin, "pension_insured", p["p1"], START, attrs={"receiving": "1"})
    grant(session, admin, "medical_insured", p["p1"], START, attrs={"subsidised": "1"})
    grant(session, admin, "family_doctor", p["p1"], START)
    grant(session, admin, "pension_insured", p["p2"], START, attrs={"receiving": "1"})
    grant(session, admin, "family_doctor", p["p2"], START)
    grant(session, admin, "medical_insured", p["p3"], START, attrs={"subsidised": "1"})
    grant(session, admin, "pension_insured", p["p5"], START, attrs={"receiving": "0"})
    grant(session, admin, "veteran", p["p8"], START, attrs={"category": "07"})
    grant(session, admin, "pension_insured", p["p8"], START, attrs={"receiving": "1"})
    grant(session, admin, "family_doctor", p["p8"], START)
    grant(session, admin, "disabled", p["p10"], START, attrs={"category": "1", "grade": "1", "certificate_no": "C002"})
    grant(session, admin, "veteran", p["p13"], START, attrs={"category": "05"})
    grant(session, admin, "medical_insured", p["p13"], START, attrs={"subsidised": "1"})
    grant(session, admin, "pension_insured", p["p16"], START, attrs={"receiving": "0"})
    grant(session, admin, "medical_insured", p["p16"], START, attrs={"subsidised": "0"})
    grant(session, admin, "disabled", p["p17"], START, attrs={"category": "5", "grade": "3", "certificate_no": "C003"})
    grant(session, admin, "medical_insured", p["p17"], START, attrs={"subsidised": "0"})
    grant(session, admin, "medical_insured", p["p18"], START, attrs={"subsidised": "0"})
    grant(session, admin, "veteran", p["p19"], START, attrs={"category": "01"})
    grant(session, admin, "monitored", h["H2"], date(2025, 2, 1), attrs={"kind": "1", "risk": "因病"})
    grant(session, admin, "poverty_exit", h["H2"], START)
    end_person(session, admin, p["p19"], "moved_out", date(2025, 5, 20), moved_to="示范市外县")
    record_observation(session, admin, "collective_income", V1, "2024", 156000)
    record_observation(session, admin, "collective_income", V3, "2024", 82500)
    batch = history.open_batch(session, admin, "web")
    for hh, village, grade, area, status in [("H8", V2, "B", 95.0, "1"), ("H7", V3, "D", 60.0, "2")]:
        history.create_version(session, batch, "house", {
            "address": f"{hh}住房", "area_code": village, "house_type": "1", "floor_area": area, "structure": "2",
            "safety_grade": grade, "household_id": h[hh], "status": status}, START)

"""parse_file on realistic messy ledgers: exact expected outcome per row."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from legacy_ledgers import (
    CHEN_NUM,
    CSV_A,
    CSV_B,
    LI_FANG,
    SUN_HAO,
    TODAY,
    USCC_BAD,
    USCC_COOP,
    USCC_TEA,
    WANG_JUN,
    WANG_OLD15,
    ZHANG_LI_X,
    ZHANG_QIANG,
    ZHANG_WEI,
    ZHAO_MIN,
    code_lists,
    dibao_workbook,
    disability_workbook,
    gbk_csv,
    organisations_workbook,
    persons_workbook,
    to_bytes,
)

from app.validators.idcard import upgrade_15
from app.validators.uscc import make_uscc
from importers.mapping import parse_mapping
from importers.model import ParsedFile, Record
from importers.pipeline import parse_file

CL = code_lists()


def parse(data: bytes, name: str = "台账.xlsx", **kw) -> ParsedFile:
    return parse_file(data, file_name=name, code_lists=CL, today=TODAY, **kw)


def by_row(parsed: ParsedFile, entity: str) -> dict[int, Record]:
    out = {}
    for r in parsed.records:
        if r.entity == entity:
            assert r.source.row not in out, f"two {entity} records from row {r.source.row}"
            out[r.source.row] = r
    return out


def codes(rec: Record, severity: str = "error") -> list[str]:
    return sorted(i.code for i in rec.issues if i.severity == severity)


@pytest.fixture(scope="module")
def persons() -> ParsedFile:
    return parse(to_bytes(persons_workbook()))


def test_persons_ledger_header_band_and_skipped_rows(persons: ParsedFile) -> None:
    assert persons.issues == []
    assert persons.sheets == ["花名册"]
    assert persons.mapping["花名册"] == {
        "户号": "household.number", "户主姓名": "household.head_name", "家庭住址": "household.address",
        "家庭成员/姓 名": "person.name", "家庭成员/公民身份号码": "person.id_number", "家庭成员/性别": "person.sex",
        "家庭成员/出生日期": "person.birth_date", "家庭成员/民族": "person.ethnic_group",
        "家庭成员/与户主关系": "person.relation", "联系电话": "person.phone",
    }
    # 9 member rows; title+blank are above the band, 2 header rows + the 1..11 numbering row, 1 spacer, 1 total, 1 note
    assert persons.rows_read == 9
    assert persons.skipped == {"blank": 1, "total": 1, "note": 1, "header": 3}
    assert sorted(by_row(persons, "person")) == [6, 7, 8, 9, 11, 12, 13, 14, 15]


def test_persons_ledger_values_per_row(persons: ParsedFile) -> None:
    p = by_row(persons, "person")
    assert p[6].key == ZHANG_WEI and p[6].ok and p[6].issues == []
    assert p[6].values == {"id_number": ZHANG_WEI, "name": "张伟", "sex": "1", "birth_date": date(1968, 3, 5),
                           "ethnic_group": "01", "relation": "02", "phone": "13800001111", "household_number": "H001"}
    # merged household cells filled down; "1970.7.9", 汉族, 妻
    assert p[7].values == {"id_number": LI_FANG, "name": "李芳", "sex": "2", "birth_date": date(1970, 7, 9),
                           "ethnic_group": "01", "relation": "12", "household_number": "H001"}
    # sex given as 1, "1995年1月20日", ethnic group by code, 长子
    assert p[8].values["sex"] == "1" and p[8].values["birth_date"] == date(1995, 1, 20)
    assert p[8].values["relation"] == "22" and p[8].key == ZHANG_QIANG
    # lower-case x, F, 19981102, 女儿, phone with spaces inside
    assert p[9].key == ZHANG_LI_X and ZHANG_LI_X.endswith("X")
    assert (p[9].values["sex"], p[9].values["birth_date"], p[9].values["relation"], p[9].values["phone"]) == (
        "2", date(1998, 11, 2), "30", "13800002222")
    # 本人 -> 户主 (02), 回 -> 回族 (03), landline kept with its dash
    assert (p[11].values["relation"], p[11].values["ethnic_group"], p[11].values["phone"]) == ("02", "03", "0571-88886666")
    # a 15-digit number upgraded (warning), 出生年月 "1950.06" agrees to the month
    assert p[12].key == upgrade_15(WANG_OLD15) and p[12].ok
    assert codes(p[12], "warning") == ["id-upgraded"]
    assert p[12].values["birth_date"] == date(1950, 6, 15)


def test_persons_ledger_rejections(persons: ParsedFile) -> None:
    p = by_row(persons, "person")
    # an 18-digit number stored as a number: digits lost -> rejected, never guessed
    assert p[13].key == "" and codes(p[13]) == ["id-numeric-damaged"]
    issue = p[13].issues[0]
    assert issue.location == {"sheet": "花名册", "row": 13, "column": "F", "field": "公民身份号码"}
    assert "末尾几位已丢失" in issue.message and "无法还原" in issue.message
    assert CHEN_NUM not in issue.message  # the true number is not guessed
    # birth date disagrees with the ID (a key fact: refused); a 10-digit phone (optional: dropped, warned)
    assert codes(p[14]) == ["id-birth-mismatch"] and codes(p[14], "warning") == ["phone-invalid"]
    assert "phone" not in p[14].values
    assert any("1988年8月9日" in i.message and "1988年8月8日" in i.message for i in p[14].issues)
    # full-width digits and spaces inside the ID, an Excel serial as the birth date, 外孙 -> 43;
    # an unmerged member row: household cells taken from the row above (H003)
    assert p[15].ok and p[15].key == SUN_HAO
    assert p[15].values["birth_date"] == date(2001, 2, 28) and p[15].values["relation"] == "43"
    assert p[15].values["household_number"] == "H003"
    assert p[15].source.raw["户号"] == "H003" and p[15].source.raw["家庭住址"] == "东湖村3组5号"


def test_persons_ledger_households(persons: ParsedFile) -> None:
    h = by_row(persons, "household")
    assert sorted(h) == [6, 11, 14]
    assert h[6].key == "H001" and h[6].values == {"number": "H001", "head_name": "张伟", "address": "东湖村1组12号"} and h[6].ok
    assert h[11].values == {"number": "H002", "head_name": "王军", "address": "东湖村2组3号"} and h[11].ok
    # row 14's person, the head of H003, is rejected: the household waits too (and only for that reason)
    assert h[14].key == "H003" and codes(h[14]) == ["head-rejected"]
    assert {r.entity for r in persons.records} == {"person", "household"}


def test_gbk_csv_with_duplicate_row() -> None:
    parsed = parse(gbk_csv(), name="周家.csv")
    assert parsed.issues == [] and parsed.sheets == ["周家"]
    assert parsed.rows_read == 3 and parsed.skipped["total"] == 1
    p = by_row(parsed, "person")
    assert p[2].values == {"id_number": CSV_A, "name": "周建国", "sex": "1", "birth_date": date(1972, 4, 1), "relation": "02",
                           "education": "70", "political_status": "01", "household_number": "H010"}
    assert p[3].values["relation"] == "30" and p[3].values["education"] == "30" and p[3].values["political_status"] == "03"
    assert p[3].key == CSV_B and p[3].ok
    # the identical second occurrence of 周建国: a duplicate, noted, not an error
    assert p[4].ok and codes(p[4], "warning") == ["duplicate-in-file"] and "第2行" in p[4].issues[0].message
    assert list(by_row(parsed, "household")) == [2]


def test_same_id_with_different_values_rejects_both_rows() -> None:
    data = ("姓名,身份证号,性别\n"
            f"张伟,{ZHANG_WEI},男\n"
            f"李芳,{LI_FANG},女\n"
            f"张卫,{ZHANG_WEI},男\n").encode()
    p = by_row(parse(data, name="dup.csv"), "person")
    assert codes(p[2]) == ["duplicate-id-conflict"] and codes(p[4]) == ["duplicate-id-conflict"]
    assert "第4行" in p[2].issues[0].message and "第2行" in p[4].issues[0].message and "姓名" in p[4].issues[0].message
    assert p[3].ok


def test_dibao_ledger_household_tags() -> None:
    parsed = parse(to_bytes(dibao_workbook()))
    assert parsed.issues == []
    tags = by_row(parsed, "tag")
    assert sorted(tags) == [3, 5, 6]
    assert tags[3].key == "dibao:H001" and tags[3].ok
    assert tags[3].values == {"code": "dibao", "subject": "household", "household_number": "H001", "valid_from": None,
                              "valid_to": None, "attrs": {"kind": "2", "covered_persons": 2, "monthly_amount": 1260}}
    assert tags[5].values["attrs"] == {"kind": "1", "covered_persons": 3, "monthly_amount": 900}
    # an unknown 低保类别: the tag is kept, the attribute 待补充 (warnings, not a refusal)
    assert codes(tags[6]) == [] and codes(tags[6], "warning") == ["code-unknown", "tag-attr-pending"]
    assert "特困" in tags[6].issues[0].message and tags[6].values["pending"] == ["kind"]
    assert tags[6].issues[0].hint == "可填：城市低保、农村低保"
    # the member row (李芳) carries no second tag; persons are named by ID only (no name column)
    p = by_row(parsed, "person")
    assert p[4].key == LI_FANG and p[4].ok and "name" not in p[4].values
    assert p[3].values["name"] == "张伟"  # the head's name from 户主姓名
    assert p[6].ok  # the person of that row is not refused for the tag's attribute


def test_disability_ledger_person_tags_keys_line_up_with_persons_file(persons: ParsedFile) -> None:
    parsed = parse(to_bytes(disability_workbook()), name="残疾人.xlsx")
    tags = by_row(parsed, "tag")
    assert tags[2].key == f"disabled:{LI_FANG}" and tags[2].ok
    assert tags[2].values["attrs"] == {"category": "4", "grade": "2", "certificate_no": LI_FANG + "42"}
    assert tags[2].values["valid_from"] == date(2019, 5, 6) and tags[2].values["person_id_number"] == LI_FANG
    assert tags[3].values["attrs"] == {"category": "1", "grade": "1", "certificate_no": WANG_JUN + "11"}
    assert codes(tags[4], "warning")[0] == "code-unknown" and tags[4].issues[0].location["column"] == "D"
    assert tags[4].ok
    # the same persons in two files carry the same key (cross-file dedup is the apply layer's)
    other = {r.key for r in persons.records if r.entity == "person" and r.key}
    assert {r.key for r in parsed.records if r.entity == "person"} & other == {LI_FANG, WANG_JUN}


def test_organisations_ledger() -> None:
    o = by_row(parse(to_bytes(organisations_workbook())), "organisation")
    assert o[2].key == USCC_TEA and o[2].values == {"uscc": USCC_TEA, "name": "东湖茶叶有限公司", "kind": "1", "employees": 12}
    assert o[3].key == USCC_COOP and o[3].values["kind"] == "8" and o[3].values["employees"] == 3
    assert o[4].key == "" and codes(o[4]) == ["uscc-checksum"]
    assert o[4].issues[0].message == f"统一社会信用代码校验位错误：最后一位应为“{make_uscc(USCC_BAD[:17])[17]}”，实际为“{USCC_BAD[17]}”"


def test_mapping_file_overrides_synonyms_and_supplies_defaults() -> None:
    data = ("编号,名字,证件,备注1,待遇\n"
            f"1,张伟,{ZHANG_WEI},x,农村\n"
            f"2,王军,{WANG_JUN},y,城市\n").encode()
    mapping = parse_mapping("""
columns:
  证件: person.id_number
  待遇: dibao.kind
  备注1: ignore
tag: 低保
defaults:
  area.code: "339901100201"
  tag.valid_from: 2024-01-01
""")
    parsed = parse(data, name="x.csv", mapping=mapping)
    assert parsed.issues == []
    assert parsed.mapping["x"] == {"名字": "person.name", "证件": "person.id_number", "待遇": "dibao.kind"}
    tags = by_row(parsed, "tag")
    assert tags[2].key == f"dibao:{ZHANG_WEI}" and tags[2].values["head_id_number"] == ZHANG_WEI
    assert tags[2].values["attrs"] == {"kind": "2"} and tags[2].values["valid_from"] == date(2024, 1, 1)
    assert by_row(parsed, "person")[3].values["area_code"] == "339901100201"


def test_header_rows_from_the_mapping_file() -> None:
    data = ("说明文字,,\nA,B,C\n" f"张伟,{ZHANG_WEI},男\n").encode()
    mapping = parse_mapping("header_rows: 2\ncolumns: {A: person.name, B: person.id_number, C: person.sex}\n")
    parsed = parse(data, name="y.csv", mapping=mapping)
    assert by_row(parsed, "person")[3].values == {"id_number": ZHANG_WEI, "name": "张伟", "sex": "1",
                                                  "birth_date": date(1968, 3, 5)}


def test_unknown_columns_are_reported_not_lost() -> None:
    data = ("姓名,身份证号,宅基地面积\n" f"张伟,{ZHANG_WEI},120\n").encode()
    parsed = parse(data, name="z.csv")
    assert [i.code for i in parsed.issues] == ["unknown-columns"] and parsed.issues[0].severity == "warning"
    assert "宅基地面积" in parsed.issues[0].message
    assert by_row(parsed, "person")[2].source.raw == {"姓名": "张伟", "身份证号": ZHANG_WEI, "宅基地面积": "120"}


def test_progress_is_reported() -> None:
    seen: list[tuple[int, int]] = []
    parse(gbk_csv(), name="p.csv", on_progress=lambda done, total: seen.append((done, total)))
    assert seen and seen[-1][0] == seen[-1][1]



def test_several_sheets_hidden_code_list_notes_and_a_repeated_header() -> None:
    from legacy_ledgers import GROUP2_HEAD, multi_sheet_workbook

    parsed = parse(to_bytes(multi_sheet_workbook()))
    assert parsed.sheets == ["一组", "二组"]
    assert [(i.code, i.severity) for i in parsed.issues] == [("hidden-sheets", "warning"), ("no-header-sheet", "warning")]
    assert "代码表" in parsed.issues[0].message and "说明" in parsed.issues[1].message
    assert parsed.rows_read == 4 and parsed.skipped["header"] == 3  # 一组 1, 二组 1 + the repeated one
    persons = [(r.source.sheet, r.source.row, r.key, codes(r)) for r in parsed.records if r.entity == "person"]
    # 李芳 in two sheets with different households: both rows rejected, each naming the other
    assert persons == [("一组", 2, ZHANG_WEI, []), ("一组", 3, LI_FANG, ["duplicate-id-conflict"]),
                       ("二组", 3, GROUP2_HEAD, []), ("二组", 5, LI_FANG, ["duplicate-id-conflict"])]
    conflict = next(i for r in parsed.records if r.source.sheet == "二组" and r.source.row == 5 for i in r.issues)
    assert conflict.message == (f"身份证号码{LI_FANG}在工作表“一组”第3行也出现，两行的户号不同，无法判断以哪行为准")
    assert conflict.location == {"sheet": "二组", "row": 5, "column": "B", "field": "公民身份号码"}


def test_household_ledger_of_a_household_tag() -> None:
    from legacy_ledgers import monitored_households_workbook

    parsed = parse(to_bytes(monitored_households_workbook()))
    assert parsed.issues == [] and parsed.rows_read == 3
    h = by_row(parsed, "household")
    assert h[3].key == "H002" and h[3].ok
    assert h[3].values == {"number": "H002", "head_name": "王军", "head_id_number": WANG_JUN, "address": "东湖村2组3号"}
    assert codes(h[4]) == ["household-number-empty"]  # a household ledger needs its 户号
    assert codes(h[5]) == ["id-numeric-damaged"]
    t = by_row(parsed, "tag")
    assert t[3].key == "monitored:H002" and t[3].ok
    assert t[3].values == {"code": "monitored", "subject": "household", "household_number": "H002",
                           "attrs": {"kind": "2", "risk": "因病"}, "valid_from": date(2023, 4, 1), "valid_to": None}
    # no 户号: the tag is keyed by the head's ID; the row is still rejected with its household
    assert t[4].key == f"monitored:{ZHAO_MIN}" and t[4].values["attrs"] == {"kind": "3", "risk": "因灾"}
    assert codes(t[4]) == ["row-has-errors"] and t[4].values["valid_from"] == date(2024, 1, 15)
    assert t[5].key == "monitored:H009" and codes(t[5]) == ["row-has-errors"]


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (to write a legacy .xls) is not installed")
def test_legacy_xls_reads_like_the_xlsx(tmp_path: Path, persons: ParsedFile) -> None:
    """The same ledger saved as Excel 97 (.xls, written by LibreOffice): the same records, merged cells included."""
    src = tmp_path / "花名册.xlsx"
    persons_workbook().save(src)
    env = {**os.environ, "HOME": str(tmp_path)}
    subprocess.run(["soffice", "--headless", "--convert-to", "xls", "--outdir", str(tmp_path), str(src)],
                   check=True, capture_output=True, timeout=120, env=env)
    xls = tmp_path / "花名册.xls"
    assert xls.read_bytes()[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    parsed = parse_file(xls, file_name="花名册.xls", code_lists=CL, today=TODAY)
    assert parsed.issues == [] and parsed.rows_read == persons.rows_read and parsed.skipped == persons.skipped

    def shape(p: ParsedFile) -> list[tuple]:
        return [(r.entity, r.source.row, r.key, r.values, [i.code for i in r.issues]) for r in p.records]

    assert shape(parsed) == shape(persons)


def test_a_title_that_only_mentions_a_tag_word_adds_no_tags() -> None:
    data = ("人口信息表（含残疾情况）\n姓名,身份证号\n" f"张伟,{ZHANG_WEI}\n").encode()
    parsed = parse(data, name="人口.csv")
    assert [r.entity for r in parsed.records] == ["person"] and parsed.records[0].ok
    # an exact tag-type name in the title makes every row a record of that tag
    parsed = parse(("党员花名册\n姓名,身份证号\n" f"张伟,{ZHANG_WEI}\n").encode(), name="名册.csv")
    assert [(r.entity, r.key) for r in parsed.records] == [("person", ZHANG_WEI), ("tag", f"party_member:{ZHANG_WEI}")]


def test_cross_field_checks_per_row() -> None:
    data = ("姓名,身份证号,性别,出生年月,人员状态,死亡日期\n"
            f"张伟,{ZHANG_WEI},女,1968.03,,\n"          # 2: sex disagrees with the ID
            f"李芳,{LI_FANG},女,1970.08,,\n"            # 3: 出生年月 disagrees with the ID's month
            f"王军,{WANG_JUN},男,1955.12,死亡,\n"        # 4: dead without a date
            f"赵敏,{ZHAO_MIN},女,,去世,1980-01-01\n"     # 5: died before birth
            f"孙浩,{SUN_HAO},男,,,2027-01-01\n"          # 6: a date in the future
            f"张强,{ZHANG_QIANG},男,1995.1,迁出,2020-05-01\n").encode()  # 7: fine
    p = by_row(parse(data, name="核对.csv"), "person")
    assert codes(p[2]) == ["id-sex-mismatch"] and p[2].issues[0].message == "性别“女”与身份证号码（第17位）表示的性别“男”不一致"
    assert codes(p[3]) == ["id-birth-mismatch"] and p[3].issues[0].message == "出生年月1970年8月与身份证号码中的出生日期1970年7月9日不一致"
    assert codes(p[4]) == ["status-date-required"]
    assert codes(p[5]) == ["status-before-birth"]
    assert codes(p[6]) == ["date-in-future"]
    assert p[6].issues[0].location["field"] == "死亡或迁出日期"
    assert p[7].ok and p[7].values["living_status"] == "3" and p[7].values["status_date"] == date(2020, 5, 1)
    assert p[7].values["birth_date"] == date(1995, 1, 20)  # the ID's full date, not the ledger's month


def test_unit_row_and_letter_row_under_the_header_are_skipped() -> None:
    data = ("户号,户主姓名,户主身份证号,保障人数,月保障金\n,,,（人）,（元）\nA,B,C,D,E\n"
            f"H001,张伟,{ZHANG_WEI},2,800\n").encode()
    parsed = parse(data, name="低保.csv")
    assert parsed.rows_read == 1 and parsed.skipped["header"] == 3
    t = by_row(parsed, "tag")
    assert t[4].key == "dibao:H001" and t[4].values["attrs"] == {"covered_persons": 2, "monthly_amount": 800}
    # 低保类别 is required and there is no such column: the tag is kept, the attribute 待补充
    assert t[4].ok and codes(t[4], "warning") == ["tag-attr-pending"] and t[4].values["pending"] == ["kind"]
    assert t[4].issues[0].message == "低保的低保类别未填写，标签照常导入，该项记为“待补充”"


def test_one_sheet_per_village_names_the_village_of_its_rows() -> None:
    wb = openpyxl.Workbook()
    east = wb.active
    east.title = "东湖村"
    east.append(["姓名", "身份证号"])
    east.append(["张伟", ZHANG_WEI])
    west = wb.create_sheet("西湖村")
    west.append(["姓名", "身份证号", "所在村"])
    west.append(["王军", WANG_JUN, "南湖村"])  # a village column wins over the sheet name
    other = wb.create_sheet("一组")
    other.append(["姓名", "身份证号"])
    other.append(["李芳", LI_FANG])
    p = {r.key: r.values.get("area_name") for r in parse(to_bytes(wb)).records}
    assert p == {ZHANG_WEI: "东湖村", WANG_JUN: "南湖村", LI_FANG: None}

"""The cell normaliser: every common legacy form, and a property-based test that it never raises."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from legacy_ledgers import TODAY, ZHANG_WEI, code_lists, id15, id_with_x

from app.issues import Issue
from app.validators.idcard import upgrade_15
from importers.normalise import MonthDate, Normaliser
from importers.synonyms import fields

CL = code_lists()
NORM = Normaliser(CL, TODAY)
F = fields()


def n(field: str, value):
    return NORM.cell(F[field], value)


def ok(field: str, value):
    v, issue = n(field, value)
    assert issue is None, issue
    return v


def bad(field: str, value) -> Issue:
    v, issue = n(field, value)
    assert v is None and issue is not None and issue.severity == "error"
    return issue


@pytest.mark.parametrize("value", ["2020-01-05", "2020/1/5", "2020.1.5", "2020年1月5日", "20200105", " 2020 - 01 - 05 ",
                                   "２０２０年１月５日", 20200105, 43835, 43835.0, "43835", datetime(2020, 1, 5, 0, 0),
                                   date(2020, 1, 5), "2020-01-05 00:00:00"])
def test_dates(value) -> None:
    assert ok("person.birth_date", value) == date(2020, 1, 5)


@pytest.mark.parametrize("value", ["1980.05", "1980年5月", "1980-5", 198005, 1980.05, "198005"])
def test_year_month(value) -> None:
    d = ok("person.birth_date", value)
    assert d == date(1980, 5, 1) and isinstance(d, MonthDate)


@pytest.mark.parametrize(("value", "code"), [
    ("2020-02-30", "date-invalid"), ("明年", "date-invalid"), (2020, "date-invalid"), ("1899-12-31", "date-too-early"),
    ("2026-11-23", "date-in-future"), (True, "date-invalid"), (time(8, 0), "date-invalid"), (timedelta(days=1), "date-invalid"),
])
def test_bad_dates(value, code: str) -> None:
    issue = bad("person.birth_date", value)
    assert issue.code == code and issue.message.startswith("出生日期：")


@pytest.mark.parametrize(("value", "code"), [("男", "1"), ("女", "2"), (1, "1"), ("2", "2"), (2.0, "2"), ("M", "1"),
                                             ("f", "2"), ("男性", "1"), (" 女 ", "2"), ("０", "0")])
def test_sex(value, code: str) -> None:
    assert ok("person.sex", value) == code


@pytest.mark.parametrize(("value", "code"), [
    ("户主", "02"), ("本人", "02"), ("妻", "12"), ("妻子", "12"), ("丈夫", "11"), ("儿子", "20"), ("长子", "22"),
    ("女儿", "30"), ("孙子", "41"), ("孙女", "42"), ("儿媳", "38"), ("父亲", "51"), ("02", "02"), (2, "02"),
])
def test_relations(value, code: str) -> None:
    assert ok("person.relation", value) == code


@pytest.mark.parametrize(("field", "value", "code"), [
    ("person.ethnic_group", "汉", "01"), ("person.ethnic_group", "汉族", "01"), ("person.ethnic_group", "维吾尔", "05"),
    ("person.ethnic_group", 1, "01"), ("person.education", "初中", "70"), ("person.education", "大学本科毕业", "21"),
    ("person.marital_status", "已婚", "20"), ("person.marital_status", "离异", "40"),
    ("person.political_status", "党员", "01"), ("person.political_status", "群众", "13"),
    ("person.living_status", "死亡", "2"), ("disabled.grade", "二级", "2"), ("disabled.grade", "2级", "2"),
    ("disabled.category", "肢体", "4"), ("dibao.kind", "农村", "2"), ("tekun.support_mode", "分散供养", "2"),
])
def test_code_lists(field: str, value, code: str) -> None:
    assert ok(field, value) == code


def test_unknown_code_names_the_choices() -> None:
    issue = bad("person.sex", "不详细")
    assert issue.code == "code-unknown" and issue.message == "性别“不详细”不在代码表中"
    assert issue.hint == "可填：未知的性别、男、女、未说明的性别"
    assert bad("person.ethnic_group", "汉人族").hint == "是否想写：汉族"


def test_id_numbers() -> None:
    x = id_with_x(date(1998, 11, 2))
    assert ok("person.id_number", x.lower()) == x
    assert ok("person.id_number", " ".join([x[:6], x[6:14], x[14:]])) == x
    assert ok("person.id_number", "".join(chr(ord(c) + 0xFEE0) for c in ZHANG_WEI)) == ZHANG_WEI
    assert ok("person.id_number", f'="{ZHANG_WEI}"') == ZHANG_WEI  # CSV exported to keep the text
    assert ok("person.id_number", "'" + ZHANG_WEI) == ZHANG_WEI
    old = id15(date(1950, 6, 15), 125)
    assert ok("person.id_number", old) == upgrade_15(old)
    assert ok("person.id_number", int(old)) == upgrade_15(old)  # 15 digits fit in a number
    assert bad("person.id_number", float(ZHANG_WEI)).code == "id-numeric-damaged"
    assert bad("person.id_number", int(ZHANG_WEI)).code == "id-numeric-damaged"
    assert bad("person.id_number", "3.30102198001011E+17").code == "id-numeric-damaged"
    damaged_text = ZHANG_WEI[:15] + "000"
    assert bad("person.id_number", damaged_text).code == "id-numeric-damaged"
    assert bad("person.id_number", ZHANG_WEI[:17] + ("1" if ZHANG_WEI[17] != "1" else "2")).code == "id-checksum"


@pytest.mark.parametrize(("value", "phone"), [("13800001111", "13800001111"), (13800001111, "13800001111"),
                                              (13800001111.0, "13800001111"), ("138-0000-1111", "13800001111"),
                                              ("+86 138 0000 1111", "13800001111"), ("0571-88886666", "0571-88886666"),
                                              ("88886666", "88886666")])
def test_phones(value, phone: str) -> None:
    assert ok("person.phone", value) == phone


def test_several_phones_keep_the_first_with_a_warning() -> None:
    v, issue = n("person.phone", "13800001111/13900002222")
    assert v == "13800001111" and issue is not None and issue.severity == "warning"


@pytest.mark.parametrize(("value", "number"), [("1,260.00", 1260), ("3人", 3), (900, 900), ("12.5元", 12.5), (2.0, 2)])
def test_numbers(value, number) -> None:
    assert ok("dibao.monthly_amount", value) == number


def test_keys_stored_as_numbers() -> None:
    assert ok("household.number", 330102001001.0) == "330102001001"
    assert ok("household.number", "H 001") == "H 001"
    assert bad("household.number", 3.30102198001011e17).code == "key-numeric-damaged"
    assert ok("area.code", 339901100201001) == "339901100201001"


def test_names_and_text() -> None:
    assert ok("person.name", "张  三") == "张三"
    assert ok("person.name", "\u3000李\u200b四\t") == "李四"
    assert ok("person.name", "Anna  Maria") == "Anna Maria"
    assert ok("household.address", "东湖村１组１２号") == "东湖村1组12号"
    assert ok("person.name", "=cmd|' /C calc'!A0") == "=cmd|' /C calc'!A0"  # kept as text, nothing executed
    assert bad("person.name", "张" * 51).code == "too-long"


# -- property-based: random cells through every normaliser kind --------------------------------------

cells = st.one_of(
    st.none(),
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=20),
    st.text(alphabet="0123456789０１２３４５６７８９xX年月日-/. ", max_size=20),
    st.sampled_from(["男", "女", "汉", "户主", "妻", "1980.05", "2020年1月5日", "\x00\x1f\x7f", "=1+1", "\u200b", "　"]),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.dates(),
    st.datetimes(),
    st.times(),
    st.timedeltas(),
    st.text(min_size=5000, max_size=20000).map(lambda s: s * 3),  # huge strings
)
FIELD_NAMES = sorted(F)


@settings(max_examples=400, deadline=None)
@given(field=st.sampled_from(FIELD_NAMES), value=cells)
def test_normaliser_never_raises_and_is_idempotent(field: str, value) -> None:
    norm = Normaliser(CL, TODAY)
    result, issue = norm.cell(F[field], value)
    assert issue is None or isinstance(issue, Issue)
    assert issue is None or (issue.message and issue.code)
    if issue is not None and issue.severity == "error":
        assert result is None
    if result is not None:
        again, issue2 = Normaliser(CL, TODAY).cell(F[field], result)
        assert (again, issue2 is None or issue2.severity != "error") == (result, True)

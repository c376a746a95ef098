"""Tests for the GB 11643 citizen ID validator."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from app.validators.idcard import (
    IdNumberResult,
    check_id_number,
    make_id_number,
    normalize_id_number,
    upgrade_15,
)

TODAY = date(2024, 6, 1)
CJK = re.compile(r"[\u4e00-\u9fff]")


def expected_check(first17: str) -> str:
    """Independent re-implementation of the GB 11643 check character."""
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    total = 0
    for i in range(17):
        total += int(first17[i]) * weights[i]
    return "10X98765432"[total % 11]


def codes(result: IdNumberResult) -> list[str]:
    return [i.code for i in result.issues]


def assert_chinese(result: IdNumberResult) -> None:
    for issue in result.issues:
        assert CJK.search(issue.message), issue


# The example from the standard itself (GB 11643-1999, appendix): check character X.
STANDARD_EXAMPLE = "11010519491231002X"


def test_valid_with_x_check() -> None:
    result = check_id_number(STANDARD_EXAMPLE, today=TODAY)
    assert result.ok
    assert result.value == STANDARD_EXAMPLE
    assert result.birth_date == date(1949, 12, 31)
    assert result.sex == "2"  # 17th digit 2 is even
    assert not result.upgraded
    assert result.issues == []


def test_lower_case_x() -> None:
    result = check_id_number("11010519491231002x", today=TODAY)
    assert result.ok
    assert result.value == STANDARD_EXAMPLE


def test_full_width_and_inner_spaces() -> None:
    raw = " １１０１０５\u3000１９４９ １２３１ ００２ｘ "
    assert normalize_id_number(raw) == STANDARD_EXAMPLE
    result = check_id_number(raw, today=TODAY)
    assert result.ok
    assert result.value == STANDARD_EXAMPLE


def test_male_number() -> None:
    first17 = "33011319900101001"  # 17th digit 1: male
    number = first17 + expected_check(first17)
    result = check_id_number(number, today=TODAY)
    assert result.ok
    assert result.sex == "1"


def test_upgrade_15_known_value() -> None:
    # 110105 49 1231 002 -> 110105 19 49 1231 002 + check; check worked out by hand:
    # 1*7+1*9+0*10+1*5+0*8+5*4+1*2+9*1+4*6+9*3+1*7+2*9+3*10+1*5+0*8+0*4+2*2 = 167, 167 % 11 = 2 -> "X"
    assert upgrade_15("110105491231002") == "11010519491231002X"
    first17 = "11010519491231002"
    assert expected_check(first17) == "X"


def test_upgrade_15_other_value() -> None:
    id15 = "330113850704123"
    first17 = id15[:6] + "19" + id15[6:]
    assert first17 == "33011319850704123"
    assert upgrade_15(id15) == first17 + expected_check(first17)


def test_check_upgrades_15_digit_numbers() -> None:
    result = check_id_number("110105491231002", today=TODAY)
    assert result.ok
    assert result.upgraded
    assert result.value == "11010519491231002X"
    assert result.birth_date == date(1949, 12, 31)


def test_15_digit_with_bad_date() -> None:
    result = check_id_number("110105491331002", today=TODAY)
    assert codes(result) == ["id-birth-date"]
    assert result.value is None


def test_unknown_six_digit_area_is_valid() -> None:
    # python-stdnum's cn.ric raises KeyError for 330113; we must just accept it.
    first17 = "33011319900101123"
    number = first17 + expected_check(first17)
    result = check_id_number(number, today=TODAY)
    assert result.ok, result.issues


def test_bad_province() -> None:
    first17 = "99011319900101123"
    result = check_id_number(first17 + expected_check(first17), today=TODAY)
    assert codes(result) == ["id-area"]
    assert_chinese(result)


def test_leap_day() -> None:
    first17 = "11010520000229002"  # 2000 is a leap year
    result = check_id_number(first17 + expected_check(first17), today=TODAY)
    assert result.ok
    assert result.birth_date == date(2000, 2, 29)

    first17 = "11010519000229002"  # 1900 is not a leap year
    result = check_id_number(first17 + expected_check(first17), today=TODAY)
    assert codes(result) == ["id-birth-date"]

    first17 = "11010520230229002"
    result = check_id_number(first17 + expected_check(first17), today=TODAY)
    assert codes(result) == ["id-birth-date"]
    assert_chinese(result)


def test_future_and_too_old_birth_dates() -> None:
    tomorrow = TODAY + timedelta(days=1)
    first17 = f"110105{tomorrow:%Y%m%d}002"
    result = check_id_number(first17 + expected_check(first17), today=TODAY)
    assert codes(result) == ["id-birth-date"]

    first17 = f"110105{TODAY:%Y%m%d}002"  # born today is fine
    assert check_id_number(first17 + expected_check(first17), today=TODAY).ok

    first17 = "11010518991231002"
    result = check_id_number(first17 + expected_check(first17), today=TODAY)
    assert codes(result) == ["id-birth-date"]
    assert_chinese(result)


def test_wrong_check_names_expected_char() -> None:
    result = check_id_number("110105194912310021", today=TODAY)
    assert codes(result) == ["id-checksum"]
    assert "“X”" in result.issues[0].message
    assert result.value is None
    assert not result.ok


def test_birth_and_sex_mismatch() -> None:
    result = check_id_number(STANDARD_EXAMPLE, birth_date=date(1949, 12, 30), sex="1", today=TODAY)
    assert codes(result) == ["id-birth-mismatch", "id-sex-mismatch"]
    assert not result.ok
    assert_chinese(result)
    # The number itself is fine, so what it encodes is still reported.
    assert result.value == STANDARD_EXAMPLE
    assert result.birth_date == date(1949, 12, 31)

    agreeing = check_id_number(STANDARD_EXAMPLE, birth_date=date(1949, 12, 31), sex="2", today=TODAY)
    assert agreeing.ok
    # A datetime (as read from an Excel cell) compares by its date.
    assert check_id_number(
        STANDARD_EXAMPLE, birth_date=datetime(1949, 12, 31), today=datetime(2024, 6, 1, 8)
    ).ok
    # Unknown / unstated sex codes are not compared.
    assert check_id_number(STANDARD_EXAMPLE, sex="9", today=TODAY).ok


def test_scientific_notation_and_point_zero() -> None:
    for raw in ("1.10101199001011e+17", "1.10101E+17", "110105194912310000.0", "110105491231002.0"):
        result = check_id_number(raw, today=TODAY)
        assert codes(result) == ["id-numeric-damaged"], raw
        assert "文本" in result.issues[0].message
        assert result.value is None


def test_trailing_000_is_not_numeric_damage() -> None:
    first15 = "110105194912310"
    number = first15 + "000"
    result = check_id_number(number, today=TODAY)
    assert "id-numeric-damaged" not in codes(result)


def test_empty_length_chars() -> None:
    assert codes(check_id_number("", today=TODAY)) == ["id-empty"]
    assert codes(check_id_number("  \u3000 ", today=TODAY)) == ["id-empty"]
    assert codes(check_id_number("1101051949123100", today=TODAY)) == ["id-length"]
    assert codes(check_id_number("11010519491231002Y", today=TODAY)) == ["id-chars"]
    assert codes(check_id_number("1101051949123100X2", today=TODAY)) == ["id-chars"]
    assert codes(check_id_number("11010549123100X", today=TODAY)) == ["id-chars"]


def test_every_issue_has_chinese_message() -> None:
    samples = [
        "",
        "123",
        "11010519491231002Y",
        "1.1e+17",
        "990105194912310021",
        "110105194913310021",
        "110105194912310021",
    ]
    for raw in samples:
        result = check_id_number(raw, birth_date=date(2000, 1, 1), sex="1", today=TODAY)
        assert result.issues, raw
        assert_chinese(result)
    assert_chinese(check_id_number(STANDARD_EXAMPLE, birth_date=date(2000, 1, 1), sex="1", today=TODAY))


def test_make_id_number() -> None:
    number = make_id_number("330113", date(1990, 1, 1), 7)
    assert number[:17] == "33011319900101007"
    assert number[17] == expected_check(number[:17])


PROVINCES = ["11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
             "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64",
             "65", "71", "81", "82", "91"]  # fmt: skip


@given(
    province=st.sampled_from(PROVINCES),
    rest=st.from_regex(r"\A[0-9]{4}\Z"),
    birth=st.dates(min_value=date(1900, 1, 1), max_value=TODAY),
    seq=st.integers(min_value=0, max_value=999),
)
def test_generated_numbers_validate(province: str, rest: str, birth: date, seq: int) -> None:
    number = make_id_number(province + rest, birth, seq)
    result = check_id_number(number, today=TODAY)
    assert result.ok, result.issues
    assert result.value == number
    assert result.birth_date == birth
    assert result.sex == ("1" if seq % 2 else "2")
    assert number[17] == expected_check(number[:17])


@given(st.text())
def test_random_text_never_raises(raw: str) -> None:
    result = check_id_number(raw, birth_date=date(2000, 1, 1), sex="1")
    assert isinstance(result.ok, bool)


@given(st.text(alphabet="0123456789Xx .eE+-０１２ｘ\u3000", max_size=22))
def test_id_like_text_never_raises(raw: str) -> None:
    result = check_id_number(raw, sex="2", today=TODAY)
    assert result.ok == (result.value is not None)

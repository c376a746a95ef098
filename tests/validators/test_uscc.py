"""Tests for the GB 32100 unified social credit code validator."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from app.validators.uscc import UsccResult, check_uscc, make_uscc

CJK = re.compile(r"[\u4e00-\u9fff]")
CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def expected_check(first17: str) -> str:
    """Independent re-implementation of the GB 32100 check character."""
    weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    total = 0
    for i in range(17):
        total += CHARS.index(first17[i]) * weights[i]
    check = 31 - total % 31
    if check == 31:
        check = 0
    return CHARS[check]


def codes(result: UsccResult) -> list[str]:
    return [i.code for i in result.issues]


def assert_chinese(result: UsccResult) -> None:
    for issue in result.issues:
        assert CJK.search(issue.message), issue


def test_known_enterprise_code() -> None:
    # Published on business licences; check worked out independently.
    for code in ("91350100M000100Y43", "91110000600037341L"):
        assert expected_check(code[:17]) == code[17]
        result = check_uscc(code)
        assert result.ok, result.issues
        assert result.value == code


def test_village_collective_n2_is_valid() -> None:
    first17 = "N2330113" + "MA2H3K4L5"
    code = first17 + expected_check(first17)
    result = check_uscc(code)
    assert result.ok, result.issues
    assert result.value == code
    assert make_uscc(first17) == code


def test_other_letter_leading_registrars() -> None:
    for prefix in ("Y1", "A1", "51", "11"):
        first17 = prefix + "110105" + "MJ0000017"
        assert check_uscc(first17 + expected_check(first17)).ok


def test_normalisation() -> None:
    first17 = "N2330113" + "MA2H3K4L5"
    code = first17 + expected_check(first17)
    messy = " " + code.lower()[:9] + "\u3000" + code.lower()[9:] + " "
    messy = messy.replace("3", "３")  # full-width digit
    result = check_uscc(messy)
    assert result.ok, result.issues
    assert result.value == code


def test_forbidden_letters_rejected() -> None:
    base = "91350100M000100Y4"
    for bad in "IOSVZ":
        raw = base[:10] + bad + base[11:] + "3"
        result = check_uscc(raw)
        assert codes(result) == ["uscc-chars"], bad
        message = result.issues[0].message
        assert f"“{bad}”" in message and "第11位" in message
        assert_chinese(result)


def test_wrong_check_names_expected_char() -> None:
    result = check_uscc("91350100M000100Y44")
    assert codes(result) == ["uscc-checksum"]
    assert "“3”" in result.issues[0].message
    assert result.value is None
    assert not result.ok


def test_area_must_be_digits() -> None:
    first17 = "91" + "3301A3" + "MA2H3K4L5"
    result = check_uscc(first17 + expected_check(first17))
    assert codes(result) == ["uscc-area"]
    assert_chinese(result)


def test_unknown_registrar() -> None:
    first17 = "B1" + "330113" + "MA2H3K4L5"
    result = check_uscc(first17 + expected_check(first17))
    assert codes(result) == ["uscc-registrar"]
    assert result.issues[0].severity == "error"
    assert_chinese(result)


def test_empty_and_length() -> None:
    assert codes(check_uscc("")) == ["uscc-empty"]
    assert codes(check_uscc(" \u3000")) == ["uscc-empty"]
    assert codes(check_uscc("91350100M000100Y4")) == ["uscc-length"]
    assert codes(check_uscc("91350100M000100Y433")) == ["uscc-length"]


def test_every_issue_has_chinese_message() -> None:
    for raw in (
        "",
        "123",
        "91350100M000100Y4!",
        "913501O0M000100Y43",
        "91350100M000100Y44",
        "B1350100M000100Y4",
    ):
        result = check_uscc(raw)
        assert result.issues, raw
        assert_chinese(result)


@given(st.text(alphabet=CHARS, min_size=17, max_size=17))
def test_make_uscc_round_trip(first17: str) -> None:
    code = make_uscc(first17)
    assert code[17] == expected_check(first17)
    result = check_uscc(code)
    assert "uscc-checksum" not in codes(result)
    assert result.ok == (first17[0] in "123456789AGNY" and first17[2:8].isdigit())


@given(st.text())
def test_random_text_never_raises(raw: str) -> None:
    result = check_uscc(raw)
    assert result.ok == (result.value is not None)

"""Neutralising formula-like text, stripping control characters, masking personal data."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from app.reporting.cells import to_cell
from app.reporting.safe import clean_text, mask_address, mask_id_number, mask_phone, neutralise


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=SUM(A1)", "'=SUM(A1)"),
        ("+86123", "'+86123"),
        ("-1+2", "'-1+2"),
        ("@cmd", "'@cmd"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("\x01=1", "'=1"),  # stripped first, then neutralised
        ("测试人员0001", "测试人员0001"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_neutralise_strings(value, expected):
    assert neutralise(value) == expected


@pytest.mark.parametrize("value", [-5, -1.5, 0, None, dt.date(2025, 6, 30), Decimal("-2.5")])
def test_neutralise_leaves_non_strings_alone(value):
    assert neutralise(value) == value


def test_clean_text_strips_only_illegal_characters():
    assert clean_text("a\x00b\x07c\x1fd") == "abcd"
    assert clean_text("行1\n行2\t列") == "行1\n行2\t列"


def test_mask_id_number():
    assert mask_id_number("510104199001011234") == "5101**********1234"
    assert mask_id_number("51010419900101123X") == "5101**********123X"
    assert mask_id_number(" 510104199001011234 ") == "5101**********1234"
    assert mask_id_number("1234567") == "*******"
    assert mask_id_number(None) is None


def test_mask_phone():
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("028-85551234") == "028****1234"
    assert mask_phone("12345") == "*****"
    assert mask_phone(None) is None


def test_mask_address():
    assert mask_address("四川省成都市武侯区测试街道1号") == "四川省成都市****"
    assert mask_address("测试村") == "测试村****"
    assert mask_address("") == ""
    assert mask_address(None) is None


def test_cell_values_by_kind():
    assert to_cell("id", "51010419900101123X") == ("s", "51010419900101123X")
    assert to_cell("id", 510104199001011234) == ("s", "510104199001011234")
    assert to_cell("text", True) == ("s", "是")
    assert to_cell("integer", 3) == ("n", 3)
    assert to_cell("decimal", Decimal("2.50")) == ("n", 2.5)
    assert to_cell("decimal", float("nan")) is None
    assert to_cell("integer", "—") == ("s", "—")
    assert to_cell("date", dt.date(2025, 6, 30)) == ("d", dt.date(2025, 6, 30))
    assert to_cell("text", None) is None

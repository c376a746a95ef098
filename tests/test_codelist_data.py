"""Sanity checks for the code-list seed data loaded by a migration."""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "migrations" / "data"


def read(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


LISTS = read("code_lists.csv")
ITEMS = read("code_items.csv")


def items_of(list_name: str) -> dict[str, str]:
    return {row["code"]: row["label"] for row in ITEMS if row["list_name"] == list_name}


def test_headers() -> None:
    assert list(LISTS[0]) == ["list_name", "title", "standard"]
    assert list(ITEMS[0]) == ["list_name", "code", "label", "parent_code", "sort_order"]


def test_lists_unique_and_complete() -> None:
    names = [row["list_name"] for row in LISTS]
    assert len(names) == len(set(names))
    for row in LISTS:
        assert row["title"].strip() and row["standard"].strip(), row
    assert set(names) == {row["list_name"] for row in ITEMS}, "every list has items"


def test_every_item_belongs_to_a_list() -> None:
    names = {row["list_name"] for row in LISTS}
    for row in ITEMS:
        assert row["list_name"] in names, row


def test_no_duplicate_codes_and_labels_present() -> None:
    seen: set[tuple[str, str]] = set()
    for row in ITEMS:
        key = (row["list_name"], row["code"])
        assert key not in seen, key
        seen.add(key)
        assert row["code"] and row["code"] == row["code"].strip(), row
        assert row["label"] and row["label"] == row["label"].strip(), row


def test_parents_exist_in_same_list() -> None:
    codes = {(row["list_name"], row["code"]) for row in ITEMS}
    for row in ITEMS:
        if row["parent_code"]:
            assert (row["list_name"], row["parent_code"]) in codes, row
            assert row["parent_code"] != row["code"], row


def test_sort_order_is_sequential_per_list() -> None:
    orders: dict[str, list[int]] = defaultdict(list)
    for row in ITEMS:
        orders[row["list_name"]].append(int(row["sort_order"]))
    for name, values in orders.items():
        assert values == list(range(1, len(values) + 1)), name


def test_ethnic_groups() -> None:
    ethnic = items_of("ethnic_group")
    assert len(ethnic) == 56 + 2
    assert ethnic["01"] == "汉族"
    assert ethnic["56"] == "基诺族"
    assert ethnic["97"] == "其他未识别民族"
    assert ethnic["98"] == "外国血统中国籍人士"
    assert all(label.endswith("族") for code, label in ethnic.items() if code <= "56")


def test_relation() -> None:
    relation = items_of("relation")
    assert relation["02"] == "户主"
    assert relation["99"] == "非亲属"
    parents = {row["code"]: row["parent_code"] for row in ITEMS if row["list_name"] == "relation"}
    assert parents["11"] == "10"
    assert parents["41"] == "40"
    assert parents["90"] == "80"
    assert parents["02"] == parents["10"] == parents["99"] == ""


def test_standard_lists() -> None:
    assert items_of("sex") == {"0": "未知的性别", "1": "男", "2": "女", "9": "未说明的性别"}
    assert items_of("political_status")["13"] == "群众"
    assert len(items_of("industry")) == 20
    assert len(items_of("veteran_category")) == 12

"""``ybt export`` streamed in chunks writes the same content as the former all-in-memory way.

A small hand county with histories, a dead person, a formula-looking name, tags with Chinese and
empty attrs, an ended tag and observations; chunks of 2 rows so every table spans several chunks.
Every table, current and as of a date, CSV bytes equal and Parquet frames equal; the as-of rows
are also checked against values worked out by hand.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest
from hand_county import VILLAGE_A, VILLAGE_B, County, id_number
from polars.testing import assert_frame_equal
from sqlalchemy import select

from app.db import Database
from app.models import Tag
from app.services import export
from app.services.households import create_household
from app.services.observations import record_observation
from app.services.persons import create_person, end_person, update_person
from app.services.tags import end_tag, grant_tag

DATES = (None, date(2023, 6, 1), date(2024, 3, 1), date(2025, 2, 1))


@pytest.fixture
def filled(db: Database, county: County) -> Database:
    with db.transaction() as s:
        h1 = create_household(s, county.admin, {"number": "H1", "area_code": VILLAGE_A}, effective=date(2023, 1, 1))
        h2 = create_household(s, county.admin, {"number": "H2", "area_code": VILLAGE_B}, effective=date(2023, 1, 1))
        a = create_person(s, county.admin, {"id_number": id_number(date(1950, 1, 1), 1), "name": "=HYPERLINK(1)",
                                            "household_id": h1.id, "area_code": VILLAGE_A, "relation": "02"},
                          effective=date(2023, 1, 1), confirm_warnings=True)
        b = create_person(s, county.admin, {"id_number": id_number(date(1960, 5, 5), 2), "name": "乙",
                                            "household_id": h1.id, "area_code": VILLAGE_A, "relation": "10"},
                          effective=date(2023, 1, 1), confirm_warnings=True)
        create_person(s, county.admin, {"id_number": id_number(date(1990, 7, 7), 3), "name": "丙",
                                        "household_id": h2.id, "area_code": VILLAGE_B, "relation": "02", "phone": "13900000000"},
                      effective=date(2024, 1, 1), confirm_warnings=True)
        update_person(s, county.admin, b.id, {"phone": "13800000000"}, effective=date(2024, 2, 1), confirm_warnings=True)
        end_person(s, county.admin, a.id, "death", date(2024, 12, 1), confirm_warnings=True)
        grant_tag(s, county.mca, "dibao", h1.id, date(2023, 3, 1), attrs={"kind": "1", "monthly_amount": 650}, confirm_warnings=True)
        t = grant_tag(s, county.mca, "dibao", h2.id, date(2023, 4, 1), attrs={"kind": "2", "monthly_amount": 300}, confirm_warnings=True)
        end_tag(s, county.mca, t.id, date(2024, 4, 1))
        # attrs with Chinese text and a null: stored escaped, exported as readable UTF-8 by both ways
        s.add(Tag(tag_code="dibao", household_id=h1.id, valid_from=date(2023, 5, 1), attrs={"note": "困难户", "n": None},
                  batch_id=t.batch_id))
        record_observation(s, county.admin, "cropland_area", VILLAGE_A, "2023", 12.5)
        record_observation(s, county.admin, "cropland_area", VILLAGE_B, "2024", 7.0)
    return db


@pytest.mark.parametrize("on", DATES, ids=lambda d: str(d))
def test_streamed_equals_in_memory(filled: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, on: date | None) -> None:
    monkeypatch.setattr(export, "CHUNK_ROWS", 2)
    for table in export.TABLES:
        for fmt in ("csv", "parquet"):
            new, old = tmp_path / f"{table}-new.{fmt}", tmp_path / f"{table}-old.{fmt}"
            n = export.export_table(filled.engine, table, fmt, new, on)
            m = export.export_table_in_memory(filled.engine, table, fmt, old, on)
            assert n == m, (table, fmt)
            if fmt == "csv":
                assert new.read_bytes() == old.read_bytes(), table
            else:
                # an all-empty column is typed Null by the inferring way, by its own type here
                got, want = pl.read_parquet(new), pl.read_parquet(old)
                want = want.with_columns(pl.col(c).cast(got.schema[c]) for c, t in want.schema.items() if t == pl.Null)
                assert_frame_equal(got, want)


def test_streamed_rows_by_hand(filled: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(export, "CHUNK_ROWS", 2)
    out = tmp_path / "p.csv"
    # 2024-03-01: 甲 alive (dies 2024-12-01), 乙 with the phone of 2024-02-01, 丙 recorded 2024-01-01
    assert export.export_table(filled.engine, "persons", "csv", out, date(2024, 3, 1)) == 3
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and raw.count(b"\n") == 4
    frame = pl.read_csv(out, infer_schema_length=0)
    assert frame["name"].to_list() == ["'=HYPERLINK(1)", "乙", "丙"]
    assert frame["living_status"].to_list() == ["1", "1", "1"]
    assert frame["phone"].to_list() == [None, "13800000000", "13900000000"]
    assert frame["valid_from"].to_list() == ["2023-01-01", "2024-02-01", "2024-01-01"]
    # 2023-06-01 (amounts are stored as numbers with decimals by grant_tag): the second household's tag had not ended yet; by 2025-02-01 only the first remains
    export.export_table(filled.engine, "tags", "csv", out, date(2023, 6, 1))
    tags = pl.read_csv(out, infer_schema_length=0)
    assert tags["attrs"].to_list() == ['{"kind": "1", "monthly_amount": 650.0}', '{"kind": "2", "monthly_amount": 300.0}',
                                       '{"note": "困难户", "n": null}']
    assert tags["valid_to"].to_list() == [None, "2024-04-01", None]
    assert export.export_table(filled.engine, "tags", "csv", out, date(2025, 2, 1)) == 2
    # observations up to a period end, and an empty result still has its header
    assert export.export_table(filled.engine, "observations", "csv", out, date(2023, 12, 31)) == 1
    assert pl.read_csv(out, infer_schema_length=0)["value"].to_list() == ["12.5"]
    assert export.export_table(filled.engine, "persons", "csv", out, date(2000, 1, 1)) == 0
    assert out.read_bytes().decode("utf-8-sig").strip().split(",")[:2] == ["id", "id_number"]


def test_pending_attrs_are_json_text(filled: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A list-valued JSON column (tag.pending_attrs, 待补充) is written as JSON text; the former way
    could not write it to CSV at all (polars refuses nested data in CSV)."""
    monkeypatch.setattr(export, "CHUNK_ROWS", 2)
    with filled.transaction() as s:
        tag = s.execute(select(Tag).order_by(Tag.id)).scalars().first()
        tag.pending_attrs = ["monthly_amount", "备注"]
    out = tmp_path / "t.csv"
    export.export_table(filled.engine, "tags", "csv", out)
    got = pl.read_csv(out, infer_schema_length=0)["pending_attrs"].to_list()
    assert got == ['["monthly_amount", "备注"]', None, None]

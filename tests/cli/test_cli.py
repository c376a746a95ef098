"""The ybt command line: areas import, users, export (CSV and Parquet, current and as of a date)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select

from app.db import get_db
from app.models import Area, User
from app.services.households import create_household
from app.services.persons import create_person, end_person
from app.validators.idcard import make_id_number

AREAS_CSV = """统计用区划代码,名称,城乡分类代码
330000000000,浙江省,
339900000000,示范市,
339901000000,云溪县,
339901100000,青石镇,
339901100201,甲村村民委员会,220
339901100202,乙村村民委员会,220
"""


def load_areas(runner: FlaskCliRunner, tmp_path: Path, text: str = AREAS_CSV, encoding: str = "utf-8") -> object:
    path = tmp_path / "areas.csv"
    path.write_bytes(text.encode(encoding))
    return runner.invoke(args=["areas", "import", str(path)])


def test_areas_import_derives_levels_and_parents(app: Flask, runner: FlaskCliRunner, tmp_path: Path) -> None:
    result = load_areas(runner, tmp_path, encoding="gbk")
    assert result.exit_code == 0, result.output
    assert "新增 6" in result.output
    with get_db(app).session() as session:
        village = session.get(Area, "339901100202")
        assert (village.level, village.parent_code, village.urban_rural) == (5, "339901100000", "220")
        assert session.get(Area, "339901000000").parent_code == "339900000000"
    again = load_areas(runner, tmp_path, AREAS_CSV.replace("乙村村民委员会", "乙村"))
    assert "新增 0，更新 1，未变 5" in again.output


def test_areas_import_rejects_bad_rows_and_writes_nothing(app: Flask, runner: FlaskCliRunner, tmp_path: Path) -> None:
    result = load_areas(runner, tmp_path, AREAS_CSV + "12345,坏代码,\n")
    assert result.exit_code == 1
    assert "第8行" in result.output and "12位数字" in result.output
    with get_db(app).session() as session:
        assert session.get(Area, "330000000000") is None


def test_users_create_and_refuse(app: Flask, runner: FlaskCliRunner, tmp_path: Path) -> None:
    load_areas(runner, tmp_path)
    ok = runner.invoke(args=["users", "create", "cadre", "--name", "甲村干部", "--role", "village_cadre",
                             "--area", "339901100201", "--password", "secret-pass"])
    assert ok.exit_code == 0, ok.output
    bad = runner.invoke(args=["users", "create", "x", "--name", "x", "--role", "department",
                              "--area", "339901000000", "--password", "short"])
    assert bad.exit_code == 1 and "密码至少10位" in bad.output and "部门" in bad.output


def test_export_current_and_as_of(app: Flask, runner: FlaskCliRunner, tmp_path: Path) -> None:
    load_areas(runner, tmp_path)
    runner.invoke(args=["users", "create", "cadre", "--name", "甲村干部", "--role", "village_cadre",
                        "--area", "339901100201", "--password", "secret-pass"])
    with get_db(app).transaction() as session:
        cadre = session.execute(select(User)).scalar_one()
        h = create_household(session, cadre, {"number": "X1", "area_code": "339901100201"}, effective=date(2024, 1, 1))
        a = create_person(session, cadre, {"id_number": make_id_number("339901", date(1950, 1, 1), 1), "name": "=HYPERLINK(1)",
                                           "area_code": "339901100201", "household_id": h.id}, effective=date(2024, 1, 1))
        create_person(session, cadre, {"id_number": make_id_number("339901", date(1951, 1, 1), 2) , "name": "乙",
                                       "area_code": "339901100201"}, effective=date(2024, 6, 1))
        end_person(session, cadre, a.id, "death", date(2025, 1, 1))

    out = tmp_path / "persons.csv"
    result = runner.invoke(args=["export", "persons", "--format", "csv", "--out", str(out), "--purpose", "测试导出"])
    assert result.exit_code == 0, result.output
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    frame = pl.read_csv(out, infer_schema_length=0)
    assert frame.height == 2
    assert set(frame["living_status"]) == {"1", "2"}
    assert "'=HYPERLINK(1)" in frame["name"].to_list()
    assert all(len(v) == 18 for v in frame["id_number"])

    past = tmp_path / "persons_2024.parquet"
    result = runner.invoke(args=["export", "persons", "--format", "parquet", "--out", str(past), "--as-of", "2024-03-01",
                                 "--purpose", "测试导出"])
    assert result.exit_code == 0, result.output
    frame = pl.read_parquet(past)
    assert frame.height == 1 and frame["living_status"].to_list() == ["1"]
    assert frame.schema["id_number"] == pl.String

    for table in ("households", "houses", "organisations", "tags", "observations", "areas"):
        result = runner.invoke(args=["export", table, "--out", str(tmp_path / f"{table}.csv"), "--purpose", "测试导出"])
        assert result.exit_code == 0, result.output
    assert pl.read_csv(tmp_path / "areas.csv", infer_schema_length=0).height == 6


def test_export_to_an_unwritable_place_says_so(runner: FlaskCliRunner, tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("x")
    result = runner.invoke(args=["export", "areas", "--out", str(tmp_path / "a-file" / "areas.csv")])
    assert result.exit_code == 1 and "无法写入" in result.output and "Traceback" not in result.output


def test_db_check_passes_on_a_migrated_database(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["db", "check"])
    assert result.exit_code == 0, result.output

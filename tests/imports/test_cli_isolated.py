"""``ybt import`` and ``ybt flowback`` read workbooks (xlsx, xls, ods: anything the native reader opens) in
the same isolated child as the web: a file that makes the reader die ends in a Chinese message and exit
code 1, never in an abort of ybt or a traceback. CSV text is still read in process."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from ledger import build_county, pid
from sqlalchemy import func, select

from app.cli.imports import _native
from app.db import get_db
from app.models import Person

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "importers"))
from crafted import package, sheet_xml  # noqa: E402

ROWS: list[list[object]] = [["户号", "姓名", "身份证号", "性别", "与户主关系"],
                            ["H-700", "钱一", pid(date(1961, 6, 1), 51), "男", "户主"]]
# a grid under the cell cap (A1..I1,000,000: 9 million cells, ~300 MB in the native reader): read in this
# process it would simply succeed; in the child limited to 300 MB the child dies
BIG = package(sheet_xml(ROWS, far=[("I1000000", "x")]))


@pytest.fixture
def county(app: Flask):
    with get_db(app).session() as session:
        built = build_county(session)
        session.commit()
    return built


def _persons(app: Flask) -> int:
    with get_db(app).session() as session:
        return session.execute(select(func.count()).select_from(Person)).scalar_one()


def test_a_reader_crash_is_a_message_and_exit_1(app: Flask, runner: FlaskCliRunner, county, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YBT_IMPORT_MEMORY_MB", "300")
    path = tmp_path / "大表.xlsx"
    path.write_bytes(BIG)
    before = _persons(app)
    result = runner.invoke(args=["import", str(path), "--user", "cadre_a"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert "读取这个文件需要的内存超过了上限（300MB）" in result.output
    assert "文件被拒绝，未写入任何数据" in result.output and "Traceback" not in result.output
    assert _persons(app) == before

    listed = runner.invoke(args=["flowback", str(path), "--kind", "deaths", "--user", "town_1"])
    assert listed.exit_code == 1 and isinstance(listed.exception, SystemExit)
    assert "读取这个文件需要的内存超过了上限（300MB）" in listed.output and "Traceback" not in listed.output


def test_which_files_go_to_the_child() -> None:
    assert _native(BIG) and _native(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)  # xlsx/ods (zip), xls (OLE2)
    assert not _native("户号,姓名\nH-1,甲\n".encode())

"""``ybt import`` and ``ybt flowback`` on the command line."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from hand_county import VILLAGE_A
from ledger import build_county, parsed
from openpyxl import load_workbook
from sqlalchemy import select
from test_apply import SUN, ZHAO, base, ledger

from app.db import get_db
from app.issues import Issue
from app.models import ImportBatch, Person
from app.services import imports


@pytest.fixture
def county_app(app: Flask):
    with get_db(app).session() as session:
        county = build_county(session)
        base(session, county)
    return county


@pytest.fixture
def reader(monkeypatch: pytest.MonkeyPatch) -> None:
    def fake(session, content, file_name, *, on_progress=None, **kw):
        if on_progress:
            on_progress(12, 12)
        if content.startswith(b"broken"):
            return parsed([], name=file_name, issues=[Issue("unreadable-workbook", "无法读取该 Excel 文件", {"file": file_name})])
        return parsed(ledger(), name=file_name)

    monkeypatch.setattr(imports, "parse", fake)


def test_import_dry_run_then_apply(app: Flask, runner: FlaskCliRunner, county_app, reader, tmp_path: Path) -> None:
    ledger_file = tmp_path / "台账.xlsx"
    ledger_file.write_bytes(b"ledger")
    out = runner.invoke(args=["import", str(ledger_file), "--user", "cadre_a", "--dry-run"])
    assert out.exit_code == 0, out.output
    assert "预览（未写入）" in out.output and "将写入 3，未变 0，冲突待处理 1，拒绝 4" in out.output
    assert "id-in-other-area" in out.output
    with get_db(app).session() as session:
        assert session.execute(select(Person).where(Person.id_number == SUN)).first() is None

    errors = tmp_path / "rejects.xlsx"
    out = runner.invoke(args=["import", str(ledger_file), "--user", "cadre_a", "--errors-out", str(errors)])
    assert out.exit_code == 0, out.output
    assert "冲突队列" in out.output
    rows = list(load_workbook(errors).worksheets[0].iter_rows(values_only=True))[1:]
    assert [r[-1] for r in rows] == [f"工作表 花名册 第{n}行" for n in (7, 9, 10, 11)]
    with get_db(app).session() as session:
        assert session.execute(select(Person.area_code).where(Person.id_number == SUN)).scalar_one() == VILLAGE_A
        assert session.execute(select(Person.name).where(Person.id_number == ZHAO)).scalar_one() == "赵一"

    listed = runner.invoke(args=["import", "list", "--user", "cadre_a"])
    assert listed.exit_code == 0 and listed.output.count("台账.xlsx") == 2 and "已导入" in listed.output
    import_id = listed.output.split()[0].lstrip("#")
    shown = runner.invoke(args=["import", "show", import_id, "--user", "cadre_a"])
    assert shown.exit_code == 0 and "修改记录 6 条" in shown.output and "phone: None → 13800000001" in shown.output


def test_rejected_file_exits_non_zero(app: Flask, runner: FlaskCliRunner, county_app, reader, tmp_path: Path) -> None:
    bad = tmp_path / "坏文件.xlsx"
    bad.write_bytes(b"broken")
    out = runner.invoke(args=["import", str(bad), "--user", "cadre_a"])
    assert out.exit_code == 1
    assert "无法读取该 Excel 文件" in out.output and "文件被拒绝" in out.output
    with get_db(app).session() as session:
        assert session.execute(select(ImportBatch.status)).scalar_one() == "rejected"


def test_import_refuses_other_village(runner: FlaskCliRunner, county_app, reader, tmp_path: Path) -> None:
    f = tmp_path / "台账.xlsx"
    f.write_bytes(b"ledger")
    out = runner.invoke(args=["import", str(f), "--user", "cadre_b", "--area", VILLAGE_A])
    assert out.exit_code == 1 and "无权" in out.output


def test_flowback_command(runner: FlaskCliRunner, county_app, tmp_path: Path) -> None:
    deaths = tmp_path / "死亡名单.csv"
    deaths.write_text(f"姓名,身份证号,死亡日期\n赵一,{ZHAO},2025-03-02\n", encoding="gbk")
    out = runner.invoke(args=["flowback", str(deaths), "--kind", "deaths", "--user", "town_1"])
    assert out.exit_code == 0, out.output
    assert "匹配 1" in out.output and "新提醒 1 条" in out.output
    alerts = runner.invoke(args=["flowback", "alerts", "--user", "cadre_a"])
    assert "已死亡但仍登记在世" in alerts.output and "赵一" in alerts.output
    assert runner.invoke(args=["flowback", "alerts", "--user", "cadre_b"]).output == ""


def test_import_apply_applies_a_preview_and_refuses_twice(app: Flask, runner: FlaskCliRunner, county_app, reader,
                                                          tmp_path: Path) -> None:
    ledger_file = tmp_path / "台账.xlsx"
    ledger_file.write_bytes(b"ledger")
    assert runner.invoke(args=["import", str(ledger_file), "--user", "cadre_a", "--dry-run"]).exit_code == 0
    with get_db(app).session() as session:
        import_id = session.execute(select(ImportBatch.id)).scalar_one()
    out = runner.invoke(args=["import", "apply", str(import_id), "--user", "cadre_a"])
    assert out.exit_code == 0, out.output
    assert f"导入 #{import_id} 台账.xlsx：已导入" in out.output and "写入 3，未变 0，冲突待处理 1，拒绝 4" in out.output
    with get_db(app).session() as session:
        assert session.execute(select(Person.area_code).where(Person.id_number == SUN)).scalar_one() == VILLAGE_A
    again = runner.invoke(args=["import", "apply", str(import_id), "--user", "cadre_a"])
    assert again.exit_code != 0 and "该导入的状态是“已导入”，只有预览过或写入中断的导入可以执行" in again.output
    assert runner.invoke(args=["import", "apply", "0", "--user", "cadre_a"]).exit_code == 2  # not a valid id

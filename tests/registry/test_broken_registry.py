"""A broken registry file never bricks the tools: ``ybt`` commands run, ``ybt registry check`` lists
the problems (file, property path, hint) and exits 1 without a traceback, and the web app starts
without the broken definitions and shows the problems to the admin."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app.registry.loader import REGISTRY_DIR

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def broken_dir(tmp_path: Path) -> Path:
    """forms_registry/ with an admin's typo: the first cdpf indicator says ``aggregate: count_ended``."""
    target = tmp_path / "forms_registry"
    shutil.copytree(REGISTRY_DIR, target)
    path = target / "indicators" / "cdpf.yaml"
    text = path.read_text(encoding="utf-8")
    assert "{aggregate: count," in text
    path.write_text(text.replace("{aggregate: count,", "{aggregate: count_ended,", 1), encoding="utf-8")
    return target


def _ybt(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "ybt"), *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def test_ybt_commands_work_and_check_lists_the_problem(broken_dir: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "YBT_DATABASE_URL")}
    env.update({"YBT_REGISTRY_DIR": str(broken_dir), "YBT_INSTANCE_PATH": str(tmp_path)})

    check = _ybt(env, "registry", "check")
    assert check.returncode == 1, check.stdout + check.stderr
    assert "Traceback" not in check.stderr
    assert "indicators/cdpf.yaml" in check.stderr
    assert "[0].compute.aggregate" in check.stderr
    assert "count_ended" in check.stderr and "校验未通过" in check.stderr

    upgrade = _ybt(env, "db", "upgrade")  # any other command: runs as usual
    assert upgrade.returncode == 0, upgrade.stderr
    assert "Traceback" not in upgrade.stderr
    logins = _ybt(env, "users", "demo-logins")
    assert logins.returncode == 0 and "没有演示账号" in logins.stdout, logins.stderr


def test_web_app_starts_without_the_broken_definitions_and_tells_the_admin(db_url: str, broken_dir: Path) -> None:
    from flask import Flask

    from app import create_app
    from app.db import get_db
    from app.models import Area
    from app.services.users import create_user

    app: Flask = create_app({"TESTING": True, "DATABASE_URL": db_url, "SECRET_KEY": "test", "WTF_CSRF_ENABLED": False,
                             "YBT_REGISTRY_DIR": str(broken_dir)})
    try:
        with get_db(app).transaction() as session:
            session.add(Area(code="339901000000", name="测试县", level=3, parent_code=None))
            session.flush()
            create_user(session, "root", "secret-pass-1", "管理员", "admin", "339901000000", "data")
        client = app.test_client()
        client.post("/login", data={"username": "root", "password": "secret-pass-1"})
        page = client.get("/")
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert "indicators/cdpf.yaml" in html and "count_ended" in html

        catalogue = client.get("/reports/").get_data(as_text=True)
        assert "低保" in catalogue  # the unbroken reports are all there
        registry = app.extensions["ybt.registry"][1]
        assert "P_DISABLED" not in registry.indicators  # the broken indicator computes nothing
        assert "cdpf_disabled_summary" not in registry.reports  # nor does the report that needs it
        assert "mca_dibao_roster" in registry.reports
    finally:
        get_db(app).engine.dispose()

"""Configuration: the development SECRET_KEY applies when none is set; production refuses placeholders."""

from __future__ import annotations

from pathlib import Path

import pytest

from app import create_app
from app.config import ConfigError

KEYS = ("SECRET_KEY", "YBT_SECRET_KEY", "YBT_ENV", "YBT_YBT_ENV")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in KEYS:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("YBT_INSTANCE_PATH", str(tmp_path))  # no instance/config.py of the developer's


def test_development_without_a_key_gets_the_development_default(tmp_path: Path) -> None:
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite3"})
    assert app.config["SECRET_KEY"] == "dev"
    assert app.secret_key == "dev"
    assert app.instance_path == str(tmp_path)


@pytest.mark.parametrize("key", [None, "dev", "change-me", "  "])
def test_production_refuses_a_missing_or_placeholder_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, key: str | None) -> None:
    monkeypatch.setenv("YBT_ENV", "production")
    if key is not None:
        monkeypatch.setenv("SECRET_KEY", key)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite3"})


def test_production_accepts_a_real_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("YBT_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "9f3c1e77a0b54d2c8e6f0a1b2c3d4e5f60718293a4b5c6d7e8f9")
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite3"})
    assert app.secret_key == "9f3c1e77a0b54d2c8e6f0a1b2c3d4e5f60718293a4b5c6d7e8f9"

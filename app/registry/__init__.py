"""The indicator dictionary (口径) and the report catalogue, declared in forms_registry/ and checked
at start-up: a broken file stops the app with the file, the property path and a hint."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from app.config import ConfigError
from app.registry.loader import REGISTRY_DIR, load_registry


def init_app(app: Flask) -> None:
    directory = Path(app.config.get("YBT_REGISTRY_DIR") or REGISTRY_DIR)
    registry = load_registry(directory)
    if registry.errors:
        lines = "\n".join(f"  [{i.code}] {i}" for i in registry.errors[:30])
        raise ConfigError(f"报表目录校验失败（{directory}）：\n{lines}\n运行 ybt registry check 查看全部问题")
    app.extensions["ybt.registry_dir"] = directory
    app.extensions["ybt.registry"] = (None, registry)

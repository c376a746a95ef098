"""The indicator dictionary (口径) and the report catalogue, declared in forms_registry/ and checked
at start-up.

A broken file never stops the tools: the app (web and every ``ybt`` command) starts without the broken
definitions — a broken indicator, and every report that needs it, is left out — logs the problems, and
shows them to admins on their landing page; ``ybt registry check`` prints them all and exits 1. A
version published in the browser is checked before it is stored and, if a later file change breaks it,
it is left out the same way, so it can never break start-up either.
"""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask

from app.registry.loader import REGISTRY_DIR, load_registry

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    directory = Path(app.config.get("YBT_REGISTRY_DIR") or REGISTRY_DIR)
    registry = load_registry(directory)
    if registry.errors:
        lines = "\n".join(f"  [{i.code}] {i}" for i in registry.errors[:30])
        log.warning("报表目录有 %d 个错误（%s），相关定义已停用：\n%s\n运行 ybt registry check 查看全部问题",
                    len(registry.errors), directory, lines)
    app.extensions["ybt.registry_dir"] = directory
    app.extensions["ybt.registry"] = (None, registry)

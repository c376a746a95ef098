"""Every projection shipped in forms_registry/reports/ is run by at least one catalogue test."""

from __future__ import annotations

import re
from pathlib import Path

from app.registry.loader import load_registry

HERE = Path(__file__).parent


def test_every_shipped_projection_has_a_correctness_test() -> None:
    source = "\n".join(p.read_text(encoding="utf-8") for p in sorted(HERE.glob("test_catalogue_*.py")))
    tested = set(re.findall(r'run\(app, session, "(\w+)"', source))
    shipped = {spec.id for spec in load_registry().latest()}
    assert sorted(shipped - tested) == []

"""importers/ is the pure reader: it turns a file into records and touches no database. The database half
(matching, apply, writes, outcomes, flow-back reconciliation) lives in app/services/ledger_import/.

Every import statement in importers/*.py (at module level or inside a function) is read from the source;
none may name the models, the database, the services or a database driver."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

IMPORTERS = Path(__file__).resolve().parents[2] / "importers"
FORBIDDEN = ("app.models", "app.db", "app.services", "app.bulk", "sqlmodel", "sqlalchemy", "psycopg", "sqlite3",
             "connectorx")


def _imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names += [node.module] + [f"{node.module}.{a.name}" for a in node.names]
    return names


def _forbidden(names: list[str]) -> list[str]:
    return [n for n in names if any(n == f or n.startswith(f + ".") for f in FORBIDDEN)]


@pytest.mark.parametrize("path", sorted(IMPORTERS.glob("*.py")), ids=lambda p: p.name)
def test_no_database_imports(path: Path) -> None:
    assert _forbidden(_imports(path)) == []


def test_the_check_sees_a_database_import(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from app.models import Person\n    import sqlalchemy.orm\n", encoding="utf-8")
    assert _forbidden(_imports(sample)) == ["app.models", "app.models.Person", "sqlalchemy.orm"]


def test_the_database_half_moved_under_the_services() -> None:
    moved = Path(__file__).resolve().parents[2] / "app" / "services" / "ledger_import"
    for name in ("apply", "writes", "matching", "outcomes", "flowback"):
        assert (moved / f"{name}.py").is_file() and not (IMPORTERS / f"{name}.py").exists()

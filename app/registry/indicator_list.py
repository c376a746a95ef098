"""Every indicator of the dictionary as plain data (code, name, definition, unit, department, computation).

The reverse mapping, the admission sheet and the burden page read indicators only through
``all_indicators`` so that indicators kept elsewhere (stored in the database by the designer) join
here in one place.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from app.registry.loader import Registry
from app.registry.schema import ColumnNode, Indicator


@dataclass(frozen=True)
class IndicatorInfo:
    code: str
    name: str
    definition: str
    unit: str
    department: str
    computation: dict[str, Any]
    aliases: tuple[str, ...] = ()  # "group/label" headers the catalogue's reports already show it under


def _computation(ind: Indicator) -> dict[str, Any]:
    c = ind.compute
    return {k: v for k, v in asdict(c).items() if v not in (None, (), {})}


def _walk(nodes: tuple[ColumnNode, ...], groups: tuple[str, ...], out: dict[str, list[str]]) -> None:
    for node in nodes:
        if node.children:
            _walk(node.children, (*groups, node.label), out)
        elif node.indicator:
            out.setdefault(node.indicator, []).append("/".join((*groups, node.label)))


def all_indicators(registry: Registry) -> list[IndicatorInfo]:
    """The current dictionary (shipped files and versions published in the browser, retired codes left
    out) in code order, each with the headers the catalogue's reports use for it."""
    aliases: dict[str, list[str]] = {}
    for spec in registry.latest():
        _walk(spec.columns, (), aliases)
    return [IndicatorInfo(i.code, i.name, i.definition, i.unit, i.department, _computation(i),
                          tuple(dict.fromkeys(aliases.get(code, ()))))
            for code, i in sorted(registry.indicators.items()) if code not in registry.retired]

"""Typed declarations read from registry files: indicators (口径) and report projections."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any


@dataclass(frozen=True)
class FieldFilter:
    """``field op value`` on one row of the subject (e.g. age gte 60, residence_type in [1, 2])."""

    field: str
    op: str
    value: Any


@dataclass(frozen=True)
class TagFilter:
    """The row's subject (or its household) holds — or, negated, does not hold — a tag valid on the
    reference date, optionally with attribute values (e.g. 特困 with support_mode 1)."""

    code: str
    attrs: tuple[tuple[str, tuple[str, ...]], ...] = ()
    household: bool = False
    negate: bool = False
    any_of: tuple[str, ...] = ()  # held: any of these codes (``code`` is the first); negated: none of them

    @property
    def codes(self) -> tuple[str, ...]:
        return self.any_of or (self.code,)


@dataclass(frozen=True)
class Where:
    fields: tuple[FieldFilter, ...] = ()
    tags: tuple[TagFilter, ...] = ()


@dataclass(frozen=True)
class Compute:
    aggregate: str  # count | sum | distinct_households
    subject: str  # persons | households | houses | organisations | observations
    where: Where = Where()
    value_field: str | None = None  # sum of a numeric field
    tag_attr: tuple[str, str] | None = None  # sum of a tag attribute (tag code, attribute name)
    item: str | None = None  # observation item
    period: str = "reference_year"  # observations: which period
    convert: tuple[str, str] | None = None  # unit conversion (from, to)
    age_date: tuple[int, int] | None = None  # (month, day) of the reference year at which ages count
    age_rule: str = "same_year"  # same_year | last (on or before the reference date) | next (on or after)
    flow: tuple[str, str | None] | None = None  # (event, tag code): counted when the event falls in the period


@dataclass(frozen=True)
class Indicator:
    code: str
    name: str
    definition: str  # the 口径 in words
    unit: str
    department: str
    compute: Compute
    decimals: int = 0
    source: str = ""
    version: int = 1
    text: str = field(default="", compare=False, repr=False)


@dataclass(frozen=True)
class Derived:
    """A column computed from indicator values of the same row (never evaluated as code).

    ``op``: ratio a/b, share a/b×100, difference a−b, sum a+b+…, per_capita a/b; each operand is an
    indicator code, or ``CODE@previous`` / ``CODE@last_year`` for a comparison value.
    """

    op: str
    operands: tuple[str, ...]
    decimals: int = 2


@dataclass(frozen=True)
class ColumnNode:
    """One header node of a projection: a group with children, or a leaf showing an indicator or a field."""

    label: str
    children: tuple[ColumnNode, ...] = ()
    indicator: str | None = None
    field: str | None = None
    key: str = ""
    derived: Derived | None = None
    compare: str | None = None  # previous | last_year: the indicator's value at that period's end
    blank: bool = False  # a column filled in by hand (备注, 签字)
    row_code: str = ""  # indicator_rows: the form's own code of this row (e.g. 01, 1.1)
    pending: str = ""  # a draft's unmatched column: the name of the indicator still to be created (需新建指标)

    def leaves(self) -> list[ColumnNode]:
        return [self] if not self.children else [leaf for c in self.children for leaf in c.leaves()]


@dataclass(frozen=True)
class RowsSpec:
    """Area summary rows: areas at ``level`` with optional subtotals and a total."""

    level: str = "village"
    subtotals: bool = True
    total: str = "top"  # top | bottom | none
    show_code: bool = False
    value_label: str = "数值"  # indicator_rows: the heading of the value column (本年, 本期 …)


@dataclass(frozen=True)
class ReportSpec:
    id: str
    version: int
    title: str
    department: str
    frequency: str
    kind: str
    columns: tuple[ColumnNode, ...]
    statutory: tuple[tuple[str, str], ...] = ()
    valid_until: date | None = None
    unit_line: str = ""
    rows: RowsSpec = RowsSpec()
    subject: str = "persons"
    where: Where = Where()
    group_by_household: bool = False
    sort: tuple[str, ...] = ()
    column_numbers: bool = False
    notes: tuple[str, ...] = ()
    footer: tuple[str, ...] = ("单位负责人", "统计负责人", "填表人", "联系电话", "报出日期")
    unmasked: tuple[str, ...] = ()
    age_date: tuple[int, int] | None = None
    paper: str = "A4"
    description: str = ""
    source: str = ""
    text: str = field(default="", compare=False, repr=False)

    @property
    def plain_title(self) -> str:
        """The title without its {area} / {period} / {date} placeholders (for lists and messages)."""
        text = self.title
        for placeholder in ("{area}", "{period}", "{date}", "（截至）", "（）", "()"):
            text = text.replace(placeholder, "")
        return text.strip()

    @property
    def ref(self) -> str:
        return f"{self.id}@{self.version}"

    def leaves(self) -> list[ColumnNode]:
        return [leaf for c in self.columns for leaf in c.leaves()]

    def indicator_codes(self) -> list[str]:
        """Every indicator the projection reads: shown columns and the operands of derived ones."""
        codes: list[str] = []
        for leaf in self.leaves():
            if leaf.indicator:
                codes.append(leaf.indicator)
            if leaf.derived:
                codes += [o.split("@")[0] for o in leaf.derived.operands]
        return list(dict.fromkeys(codes))

"""Entry forms generated from the canonical model: one ``FormField`` per column, never per-field HTML.

``model_form`` reads a table's columns: the label, code list, unit and help text from ``Column.info``
(``app/models/base.col``), required = NOT NULL without a default, the input type from the column type
(date, number, select for a code list, tel for phone numbers). ``attribute_form`` does the same from a
tag type's attribute schema. ``Form.parse`` turns the posted strings back into typed values, with a
Chinese ``Issue`` at the field for anything that cannot be read; services then validate for real.
Templates render a form with the macros of ``templates/_forms.html``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Column, Table
from sqlmodel import Session, SQLModel

from app.issues import Issue
from app.services.codelists import code_lists

# Columns that describe the version or the row, never typed by a person.
BOOKKEEPING = frozenset({"id", "hid", "valid_from", "valid_to", "batch_id", "row_version"})
TEL_NAMES = ("phone", "mobile", "telephone")

#: Every date typed into a form (birth, effective, status dates) lies in this range.
EARLIEST_DATE, LATEST_DATE = date(1900, 1, 1), date(2100, 12, 31)


@dataclass
class FormField:
    """One input: what to show (label, unit, help, options) and what was typed or found wrong."""

    name: str
    label: str
    kind: str  # text | select | date | number | tel
    required: bool = False
    options: list[tuple[str, str]] = field(default_factory=list)
    unit: str | None = None
    help: str | None = None
    max_length: int | None = None
    integer: bool = False
    value: str = ""
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def input_id(self) -> str:
        return f"f-{self.name}"


@dataclass
class Form:
    """A list of fields plus the issues that belong to no field (e.g. an edit conflict)."""

    fields: list[FormField]
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)

    def __getitem__(self, name: str) -> FormField:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    def names(self) -> list[str]:
        return [f.name for f in self.fields]

    def fill(self, values: dict[str, Any]) -> Form:
        """Show ``values`` (typed values from the database, or the strings the user posted)."""
        for f in self.fields:
            if f.name in values:
                f.value = display(values[f.name])
        return self

    def parse(self, posted: Any) -> tuple[dict[str, Any], list[Issue]]:
        """Typed values of this form's fields from ``posted`` (a request's form), and reading errors.

        Every field of the form is returned (blank → None), so a save sends the whole form.
        """
        values: dict[str, Any] = {}
        issues: list[Issue] = []
        for f in self.fields:
            raw = (posted.get(f.name) or "").strip()
            f.value = raw
            if raw == "":
                values[f.name] = None
            elif f.kind == "date":
                try:
                    day = date.fromisoformat(raw)
                except ValueError:
                    issues.append(Issue("bad-date", f"{f.label}不是有效日期：{raw}（格式如 2025-06-30）", {"field": f.name}))
                else:
                    if EARLIEST_DATE <= day <= LATEST_DATE:
                        values[f.name] = day
                    else:  # 0001-01-01 or 9999-12-31 would be written and break every later date calculation
                        issues.append(Issue("date-out-of-range", f"{f.label} {raw} 超出合理范围"
                                            f"（{EARLIEST_DATE.year}—{LATEST_DATE.year} 年）", {"field": f.name}))
            elif f.kind == "number":
                try:
                    number = float(raw)
                    values[f.name] = int(number) if f.integer and number.is_integer() else number
                except ValueError:
                    issues.append(Issue("not-a-number", f"{f.label}须为数字，现为“{raw}”", {"field": f.name}))
            else:
                values[f.name] = raw
        return values, issues

    def add_issues(self, issues: list[Issue]) -> list[Issue]:
        """Put each issue at its field (by ``location["field"]``); returns those that fit no field."""
        rest: list[Issue] = []
        names = set(self.names())
        for issue in issues:
            name = issue.location.get("field")
            text = f"{issue.message}（{issue.hint}）" if issue.hint else issue.message
            if name in names:
                target = self[name]
                (target.warnings if issue.severity == "warning" else target.errors).append(text)
            else:
                rest.append(issue)
        self.errors += [i for i in rest if i.severity == "error"]
        self.warnings += [i for i in rest if i.severity == "warning"]
        return rest

    @property
    def has_errors(self) -> bool:
        return bool(self.errors) or any(f.errors for f in self.fields)

    @property
    def only_warnings(self) -> bool:
        """Warnings and no errors: the user may confirm and save ("我已核实，仍然保存")."""
        return not self.has_errors and (bool(self.warnings) or any(f.warnings for f in self.fields))


def display(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _table(model: type[SQLModel] | Table) -> Table:
    return model if isinstance(model, Table) else model.__table__  # type: ignore[return-value]


def column_field(column: Column, lists: dict[str, dict[str, str]]) -> FormField:
    """The form field of one column, from its type, nullability, default and ``info``."""
    info = dict(column.info)
    code_list = info.get("code_list")
    try:
        python_type: type | None = column.type.python_type
    except NotImplementedError:
        python_type = None
    if code_list:
        kind = "select"
    elif python_type is date:
        kind = "date"
    elif python_type in (int, float):
        kind = "number"
    elif info.get("input") == "tel" or column.name.endswith(TEL_NAMES):
        kind = "tel"
    else:
        kind = "text"
    required = not column.nullable and column.default is None and column.server_default is None
    return FormField(
        name=column.name,
        label=info.get("label", column.name),
        kind=kind,
        required=required,
        options=list(lists.get(code_list, {}).items()) if code_list else [],
        unit=info.get("unit"),
        help=info.get("help"),
        max_length=getattr(column.type, "length", None) if kind in ("text", "tel") else None,
        integer=python_type is int,
    )


def model_form(session: Session, model: type[SQLModel] | Table, *, include: list[str] | None = None,
               exclude: set[str] | frozenset[str] = frozenset()) -> Form:
    """A form of the model's business columns in table order (or of ``include``, in that order).

    A column added to the model appears in every form built from it, unless a view names it in
    ``exclude`` (fields that have their own action, e.g. a death is recorded by 死亡登记, not typed).
    """
    table = _table(model)
    lists = code_lists(session)
    names = include or [c.name for c in table.columns if c.name not in BOOKKEEPING and c.name not in exclude]
    return Form([column_field(table.columns[n], lists) for n in names])


def attribute_form(session: Session, attributes: list[dict[str, Any]]) -> Form:
    """A form of a tag type's attributes (``TagType.attributes``: name, label, type, code_list, required, unit)."""
    lists = code_lists(session)
    fields = []
    for spec in attributes:
        kind = {"code": "select", "number": "number", "date": "date"}.get(spec.get("type", "text"), "text")
        fields.append(FormField(
            name=spec["name"], label=spec.get("label", spec["name"]), kind=kind, required=bool(spec.get("required")),
            options=list(lists.get(spec.get("code_list", ""), {}).items()) if kind == "select" else [],
            unit=spec.get("unit"), help=spec.get("help"),
        ))
    return Form(fields)


def labelled_changes(session: Session, model: type[SQLModel] | None, changes: dict[str, Any]) -> list[tuple[str, str, str]]:
    """``{field: [old, new]}`` of a change-log entry as (label, old, new), codes shown with their labels."""
    lists = code_lists(session)
    columns = _table(model).columns if model is not None else {}
    out = []
    for name, pair in changes.items():
        old, new = (pair + [None, None])[:2] if isinstance(pair, list) else (None, pair)
        column = columns.get(name) if model is not None else None  # type: ignore[union-attr]
        info = dict(column.info) if column is not None else {}
        label = info.get("label") or CHANGE_LABELS.get(name, name)
        code_list = info.get("code_list")

        def shown(value: Any, code_list: str | None = code_list) -> str:
            if value in (None, ""):
                return "（空）"
            if isinstance(value, dict):
                return "，".join(f"{k}={v}" for k, v in value.items()) or "（无）"
            if code_list and str(value) in lists.get(code_list, {}):
                return f"{lists[code_list][str(value)]}（{value}）"
            return display(value)

        out.append((label, shown(old), shown(new)))
    return out


# Labels of change-log keys that are not model columns (tags, observations).
CHANGE_LABELS = {"tag_code": "标签", "subject": "对象", "attrs": "属性", "valid_from": "开始日期", "valid_to": "结束日期",
                 "value": "数值", "pending_attrs": "待补充属性"}

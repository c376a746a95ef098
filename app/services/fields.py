"""Field-level validation derived from the model's column metadata (label, code list, type)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Column
from sqlmodel import Session, SQLModel

from app.issues import Issue
from app.services.codelists import code_lists


def column_info(model: type[SQLModel], name: str) -> dict[str, Any]:
    return dict(model.__table__.columns[name].info)


def label(model: type[SQLModel], name: str) -> str:
    return column_info(model, name).get("label", name)


def check_values(session: Session, model: type[SQLModel], values: dict[str, Any], *, partial: bool = False) -> list[Issue]:
    """Required fields present, lengths respected, code-list values known; messages in Chinese."""
    issues: list[Issue] = []
    lists = code_lists(session)
    columns: dict[str, Column] = {c.name: c for c in model.__table__.columns}
    for name, column in columns.items():
        if name in {"id", "hid", "row_version", "batch_id", "valid_from", "valid_to"}:
            continue
        lab = column.info.get("label", name)
        value = values.get(name)
        if value in (None, ""):
            if not partial and not column.nullable and column.default is None:
                issues.append(Issue("required", f"{lab}不能为空", {"field": name}))
            continue
        length = getattr(column.type, "length", None)
        if length and isinstance(value, str) and len(value) > length:
            issues.append(Issue("too-long", f"{lab}最多{length}个字符，现为{len(value)}个", {"field": name}))
        code_list = column.info.get("code_list")
        if code_list and str(value) not in lists.get(code_list, {}):
            issues.append(Issue("unknown-code", f"{lab}的值“{value}”不在代码表中", {"field": name},
                                hint=f"可选值见代码表 {code_list}"))
        if column.type.python_type is date and not isinstance(value, date):
            issues.append(Issue("bad-date", f"{lab}不是有效日期：{value}", {"field": name}))
    return issues


def with_defaults(model: type[SQLModel], values: dict[str, Any]) -> dict[str, Any]:
    """``values`` completed with the model's declared defaults for the business fields left out."""
    out = dict(values)
    for name, info in model.model_fields.items():
        if name in out or name in {"id", "hid", "row_version", "batch_id", "valid_from", "valid_to"}:
            continue
        if not info.is_required():
            out[name] = info.get_default(call_default_factory=True)
    return out

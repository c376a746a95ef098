"""The base model's extension points as data: an admin adds or edits a tag type (标签类型) or an
observation item (台账指标) in the browser; both live in their tables (``tag_type``,
``observation_item``), so no migration is needed per new type. Every save is checked (Chinese
messages, nothing written on an error), recorded in a change batch, and invalidates the cached
runtime context (``app.registry.loader.invalidate_context``) once committed, so the registry, the
importers' synonyms and the engine see the new type at once."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sqlalchemy import event, select
from sqlmodel import Session

from app.issues import Issue, ValidationFailed
from app.models import ObservationItem, TagType, User
from app.registry.loader import invalidate_context
from app.services import history
from app.services.codelists import clear_cache, code_lists
from app.services.scope import require_admin

CODE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
ATTR_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
ATTR_TYPES = {"code": "代码", "number": "数值", "text": "文本", "date": "日期"}
SUBJECTS = {"person": "人员", "household": "户"}
ITEM_SUBJECTS = {"area": "村（社区）", "organisation": "单位", "household": "户"}
PERIOD_TYPES = {"M": "月", "Q": "季", "H": "半年", "Y": "年"}


def _invalidate_on_commit(session: Session) -> None:
    def _after(_session: Any) -> None:
        invalidate_context()
        clear_cache()

    event.listen(session, "after_commit", _after, once=True)


def _common(session: Session, data: dict[str, Any], new: bool, model: type, what: str) -> tuple[str, list[Issue]]:
    issues: list[Issue] = []
    code = str(data.get("code") or "").strip()
    if not CODE.match(code):
        issues.append(Issue("bad-code", f"{what}代码“{code}”格式不对", {"field": "code"},
                            hint="以小写英文字母开头，只用小写字母、数字和下划线，2–40 位，例如 gaoling_jintie"))
    elif new and session.get(model, code) is not None:
        issues.append(Issue("duplicate-code", f"{what}代码“{code}”已存在", {"field": "code"}, hint="换一个代码，或修改已有的那一个"))
    if not str(data.get("name") or "").strip():
        issues.append(Issue("missing-name", f"请填写{what}名称", {"field": "name"}))
    elif len(str(data["name"]).strip()) > 100:
        issues.append(Issue("too-long", "名称不能超过 100 个字", {"field": "name"}))
    if str(data.get("department") or "") not in code_lists(session).get("department", {}):
        issues.append(Issue("unknown-department", f"所属部门“{data.get('department') or ''}”不在部门代码表中",
                            {"field": "department"}, hint="从列表中选择一个部门"))
    return code, issues


def check_attributes(session: Session, rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[Issue]]:
    """The attribute schema rows (blank rows dropped) in the stored shape, and their problems."""
    lists = code_lists(session)
    out: list[dict[str, Any]] = []
    issues: list[Issue] = []
    seen: set[str] = set()
    for n, row in enumerate(rows, start=1):
        name = str(row.get("name") or "").strip()
        label = str(row.get("label") or "").strip()
        if not name and not label:
            continue
        where = {"field": f"attributes[{n}]"}
        if not ATTR_NAME.match(name):
            issues.append(Issue("bad-attribute-name", f"第{n}个属性的名称“{name}”格式不对", where,
                                hint="以小写英文字母开头，只用小写字母、数字和下划线，例如 kind、level"))
        elif name in seen:
            issues.append(Issue("duplicate-attribute", f"属性名称“{name}”重复", where))
        seen.add(name)
        if not label:
            issues.append(Issue("missing-label", f"第{n}个属性缺少中文名称", where))
        kind = str(row.get("type") or "text")
        if kind not in ATTR_TYPES:
            issues.append(Issue("bad-attribute-type", f"第{n}个属性的类型“{kind}”无效", where, hint="代码、数值、文本或日期"))
        attr: dict[str, Any] = {"name": name, "label": label, "type": kind}
        code_list = str(row.get("code_list") or "").strip()
        if kind == "code":
            if code_list not in lists:
                issues.append(Issue("unknown-code-list", f"第{n}个属性的代码表“{code_list}”不存在", where,
                                    hint="从列表中选择一个已有的代码表"))
            attr["code_list"] = code_list
        if row.get("required"):
            attr["required"] = True
        unit = str(row.get("unit") or "").strip()
        if unit:
            attr["unit"] = unit
        out.append(attr)
    return out, issues


def save_tag_type(session: Session, actor: User, data: dict[str, Any], *, new: bool) -> TagType:
    """Add (``new``) or edit a tag type. ``data``: code, name, subject, department, description,
    sensitive, attributes (rows of name, label, type, code_list, required, unit). The code and
    subject of an existing tag type never change (tags and reports refer to them)."""
    require_admin(actor)
    code, issues = _common(session, data, new, TagType, "标签类型")
    existing = None if new else session.get(TagType, code)
    if not new and existing is None:
        issues.append(Issue("not-found", f"标签类型“{code}”不存在", {"field": "code"}))
    subject = existing.subject if existing is not None else str(data.get("subject") or "")
    if subject not in SUBJECTS:
        issues.append(Issue("bad-subject", "请选择标签对象：人员或户", {"field": "subject"}))
    attributes, problems = check_attributes(session, list(data.get("attributes") or []))
    issues += problems
    if issues:
        raise ValidationFailed(issues)
    values = {"name": str(data["name"]).strip(), "department": str(data["department"]),
              "attributes": attributes, "description": str(data.get("description") or "").strip()[:500],
              "sensitive": bool(data.get("sensitive"))}
    def create() -> TagType:
        order = max([t.sort_order for t in session.execute(select(TagType)).scalars()] or [0]) + 1
        return TagType(code=code, subject=subject, sort_order=order, **values)

    return _store(session, actor, "tag_type", f"标签类型 {code}", code, existing, values, create)


def save_observation_item(session: Session, actor: User, data: dict[str, Any], *, new: bool) -> ObservationItem:
    """Add or edit an observation item (code, name, unit, period type M/Q/H/Y, subject, department)."""
    require_admin(actor)
    code, issues = _common(session, data, new, ObservationItem, "台账指标")
    existing = None if new else session.get(ObservationItem, code)
    if not new and existing is None:
        issues.append(Issue("not-found", f"台账指标“{code}”不存在", {"field": "code"}))
    unit = str(data.get("unit") or "").strip()
    if not unit or len(unit) > 20:
        issues.append(Issue("bad-unit", "请填写计量单位（不超过 20 个字）", {"field": "unit"}, hint="例如 亩、元、人"))
    if str(data.get("period_type") or "") not in PERIOD_TYPES:
        issues.append(Issue("bad-period-type", "请选择填报周期：月、季、半年或年", {"field": "period_type"}))
    subject = existing.subject if existing is not None else str(data.get("subject") or "area")
    if subject not in ITEM_SUBJECTS:
        issues.append(Issue("bad-subject", "请选择填报对象：村（社区）、单位或户", {"field": "subject"}))
    if issues:
        raise ValidationFailed(issues)
    values = {"name": str(data["name"]).strip(), "unit": unit, "period_type": str(data["period_type"]),
              "department": str(data["department"]), "description": str(data.get("description") or "").strip()[:500]}
    return _store(session, actor, "observation_item", f"台账指标 {code}", code, existing, values,
                  lambda: ObservationItem(code=code, subject=subject, **values))


def _store(session: Session, actor: User, entity: str, what: str, code: str, existing: Any, values: dict[str, Any],
           create: Callable[[], Any]) -> Any:
    """Write a checked tag type or observation item: created by ``create()`` or ``values`` set on
    ``existing``, in one change batch with its log entry (old → new), and the runtime dictionary of
    every process refreshed once committed."""
    batch = history.open_batch(session, actor, "web", note=f"{'修改' if existing is not None else '新增'}{what}")
    if existing is None:
        existing = create()
        session.add(existing)
        history.log_change(session, batch, entity, code, "create", {k: (None, v) for k, v in values.items()})
    else:
        changes = {k: (getattr(existing, k), v) for k, v in values.items() if getattr(existing, k) != v}
        for k, v in values.items():
            setattr(existing, k, v)
        history.log_change(session, batch, entity, code, "update", changes)
    session.flush()
    _invalidate_on_commit(session)
    return existing

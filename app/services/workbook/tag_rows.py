"""Tag rows of the upload: new tags, ended tags, changed attributes (end + new), conflicts, invalid cells."""

from __future__ import annotations

from datetime import date
from typing import Any

from app.clock import today
from app.issues import Issue
from app.models import Household, Person, Tag, TagType
from app.services import rules
from app.services.persons import ALIVE
from app.services.tags import check_attrs
from app.services.workbook.columns import TAG_SHEET
from app.services.workbook.context import Context, errors, norm, server_changes
from app.services.workbook.plan import CellChange, RowPlan
from app.services.workbook.reader import Row

# ------------------------------------------------------------------------------ tags


def tags_plan(ctx: Context, rows: list[Row], new_persons: dict[str, RowPlan],
              new_households: dict[str, RowPlan]) -> tuple[list[RowPlan], int]:
    columns = ctx.columns[TAG_SHEET]
    labels = {c.key: c.header for c in columns}
    downloaded = set(ctx.download.record_ids.get("tag", []))
    out: list[RowPlan] = []
    unchanged = 0
    for row in rows:
        v = row.values
        tag_code = v.get("tag_code")
        tag_type = ctx.types.get(tag_code) if tag_code else None
        name = tag_type.name if tag_type else (tag_code or "（未填标签）")
        title = f"{name} · {v.get('subject') or '（未填对象）'}"
        issues = list(row.issues)

        def at(key: str, issue: Issue, row: Row = row) -> Issue:
            return issue.at(sheet=row.sheet, row=row.number, column=row.columns.get(key), field=labels.get(key, key))

        attrs: dict[str, Any] = {}
        for c in columns:
            if c.tag_code is None or v.get(c.key) is None:
                continue
            if c.tag_code != tag_code:
                issues.append(at(c.key, Issue("attribute-of-other-tag", f"“{c.header}”只适用于{ctx.types[c.tag_code].name}标签")))
            else:
                value = v[c.key]
                attrs[c.key.split(".", 1)[1]] = value.isoformat() if isinstance(value, date) else value
        tag = ctx.tags.get(row.record_id) if row.record_id is not None else None
        if row.record_id is not None and (tag is None or row.record_id not in downloaded):
            issues.append(at("id", Issue("unknown-record", f"记录号 {row.record_id} 不是本村一表中的标签",
                                         hint="记录号请勿修改；新增的标签请把记录号留空")))
            out.append(RowPlan("tag", "invalid", row.sheet, row.number, row.record_id, title, issues=issues))
            continue
        if tag is None:
            out.append(_new_tag(ctx, row, tag_type, attrs, issues, at, new_persons, new_households, title))
            continue
        tag_type = ctx.types[tag.tag_code]
        subject = subject_key(ctx, tag)
        title = f"{tag_type.name} · {subject}"
        for key, old in (("subject", subject), ("tag_code", tag.tag_code), ("valid_from", tag.valid_from)):
            if norm(v.get(key)) != norm(old):
                issues.append(at(key, Issue("tag-fixed-field", f"已有标签的{labels[key]}不能修改",
                                            hint="请在“结束日期”中结束原标签，另起一行新增")))
        old_attrs = {k: x for k, x in tag.attrs.items() if x not in (None, "")}
        if {k: norm(x) for k, x in attrs.items()} == {k: norm(x) for k, x in old_attrs.items()}:
            clean = old_attrs  # untouched: nothing to check (most rows)
        else:
            clean, found = check_attrs(ctx.session, tag_type, attrs)
            issues += [at(f"{tag_type.code}.{i.location.get('field')}", i) for i in errors(found)]
        if issues:
            out.append(RowPlan("tag", "invalid", row.sheet, row.number, tag.id, title, issues=issues))
            continue
        diff: dict[str, Any] = {}
        if norm(v.get("valid_to")) != norm(tag.valid_to):
            diff["valid_to"] = v.get("valid_to")
        if norm(v.get("evidence")) != norm(tag.evidence):
            diff["evidence"] = v.get("evidence")
        if {k: norm(x) for k, x in clean.items()} != {k: norm(x) for k, x in old_attrs.items()}:
            diff["attrs"] = clean
        if not diff:
            unchanged += 1
            continue
        changes = [CellChange(k, labels.get(k, "属性"), _show_tag(ctx, tag_type, k, getattr(tag, k)),
                              _show_tag(ctx, tag_type, k, x), row.columns.get(k)) for k, x in diff.items()]
        if v.get("row_version") != tag.row_version:
            out.append(RowPlan("tag", "conflict", row.sheet, row.number, tag.id, title, values=diff, changes=changes,
                               expected_version=tag.row_version,
                               server_note=server_changes(ctx, "tag", tag.id)[1],
                               server_changes=[CellChange("valid_to", "结束日期", "", norm(tag.valid_to) or "")]))
            continue
        if "valid_to" in diff:
            end = diff["valid_to"]
            if tag.valid_to is not None or end is None:
                issues.append(at("valid_to", Issue("tag-end-fixed", "已设定的结束日期不能在一表中修改或清除")))
            elif end < tag.valid_from:
                issues.append(at("valid_to", Issue("bad-interval", "结束日期早于开始日期")))
            elif end > today():
                issues.append(at("valid_to", Issue("future-date", "结束日期不能晚于今天")))
            if len(diff) > 1:
                issues.append(at("valid_to", Issue("end-and-change", "同一行不能既结束标签又修改属性或证明材料",
                                                   hint="只填写结束日期；属性的变化请另起一行新增")))
        kind = "invalid" if issues else ("ended" if "valid_to" in diff else "changed")
        out.append(RowPlan("tag", kind, row.sheet, row.number, tag.id, title, values=diff, changes=changes, issues=issues,
                           expected_version=tag.row_version))
    return out, unchanged


def _show_tag(ctx: Context, tag_type: TagType, key: str, value: Any) -> str:
    if key != "attrs":
        return norm(value) or ""
    parts = []
    for spec in tag_type.attributes:
        x = (value or {}).get(spec["name"])
        if x in (None, ""):
            continue
        if spec.get("type") == "code":
            x = ctx.lists.get(spec["code_list"], {}).get(str(x), x)
        x = norm(x)
        parts.append(f"{spec['label']}：{x}")
    return "；".join(parts)


def subject_key(ctx: Context, tag: Tag) -> str:
    if tag.person_id is not None:
        p = ctx.persons.get(tag.person_id) or ctx.session.get(Person, tag.person_id)
        return p.id_number if p else str(tag.person_id)
    h = ctx.households.get(tag.household_id) or ctx.session.get(Household, tag.household_id)
    return h.number if h else str(tag.household_id)


def _new_tag(ctx: Context, row: Row, tag_type: TagType | None, attrs: dict[str, Any], issues: list[Issue], at: Any,
             new_persons: dict[str, RowPlan], new_households: dict[str, RowPlan], title: str) -> RowPlan:
    v = row.values
    subject = v.get("subject")
    warnings: list[Issue] = []
    if tag_type is None:
        issues.append(at("tag_code", Issue("required", "标签不能为空")))
    if v.get("valid_from") is None:
        issues.append(at("valid_from", Issue("required", "开始日期不能为空")))
    if v.get("valid_to") is not None:
        issues.append(at("valid_to", Issue("new-tag-ended", "新增的标签不必填写结束日期")))
    if not subject:
        issues.append(at("subject", Issue("required", "对象不能为空")))
    elif tag_type is not None:
        if tag_type.subject == "person":
            key = subject.upper()
            person = ctx.person_by_id_number.get(key)
            if (person is None or not ctx.in_village(person.area_code)) and key not in new_persons:
                issues.append(at("subject", Issue("unknown-subject", f"身份证号 {subject} 不是本村人员",
                                                  hint=f"{tag_type.name}是人员标签，对象填身份证号")))
            elif person is not None and person.living_status != ALIVE:
                issues.append(at("subject", Issue("subject-ended", f"{person.name}已死亡或迁出，不能再添加标签")))
            elif person is not None and v.get("valid_from") is not None:
                found = rules.tag_rules(ctx.session, tag_type, ctx.session.get(Person, person.id), v["valid_from"], None)
                issues += [at(i.location.get("field", "subject"), i) for i in errors(found)]
                warnings += [at(i.location.get("field", "subject"), i) for i in found if i.severity == "warning"]
        else:
            household = ctx.household_by_number.get(subject)
            if (household is None or not ctx.in_village(household.area_code)) and subject not in new_households:
                issues.append(at("subject", Issue("unknown-subject", f"户号 {subject} 不是本村的户",
                                                  hint=f"{tag_type.name}是户标签，对象填户号")))
    clean: dict[str, Any] = {}
    if tag_type is not None:
        clean, found = check_attrs(ctx.session, tag_type, attrs)
        issues += [at(f"{tag_type.code}.{i.location.get('field')}", i) for i in errors(found)]
    values = {"tag_code": tag_type.code if tag_type else None, "subject": subject.upper() if subject and tag_type and
              tag_type.subject == "person" else subject, "valid_from": v.get("valid_from"), "attrs": clean,
              "evidence": v.get("evidence")}
    plan = RowPlan("tag", "invalid" if issues else "new", row.sheet, row.number, None, title, values=values, issues=issues,
                   warnings=warnings)
    if not issues:
        plan.changes = [CellChange("valid_from", "开始日期", "", norm(v.get("valid_from"))),
                        CellChange("attrs", "属性", "", _show_tag(ctx, tag_type, "attrs", clean))]
    return plan

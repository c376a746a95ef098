"""Explicit mapping files: when the synonym dictionary is not enough, say what a column means.

A mapping file is YAML. Top-level keys apply to every sheet; ``sheets:`` overrides them per sheet
(by sheet name; a CSV file's one sheet is named after the file)::

    columns:                      # header text as found (levels joined by "/") -> canonical field
      家庭成员/姓名: person.name
      联系人电话: person.phone
      备注: ignore
    tag: dibao                    # the ledger is a tag ledger of this tag type
    header_rows: 3-4              # the header band is rows 3 to 4 (1-based); default: found
    defaults:                     # values for fields that have no column
      area.code: "330102001001"
      tag.valid_from: 2024-01-01
      dibao.kind: 农村低保
    sheets:
      说明:
        skip: true

Canonical fields are listed by ``importers.synonyms.fields()`` (person.*, household.*, area.*,
organisation.*, tag.*, <tag code>.<attribute>) plus ``ignore``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from app.issues import Issue, ValidationFailed
from app.registry.parse_values import did_you_mean
from importers.synonyms import IGNORE, fields, tag_types

_TOP_KEYS = ("columns", "tag", "header_rows", "defaults", "skip", "sheets")
_SHEET_KEYS = ("columns", "tag", "header_rows", "defaults", "skip")
_ROWS = re.compile(r"\s*(\d+)\s*(?:[-~－至]\s*(\d+))?\s*")


@dataclass
class SheetMapping:
    columns: dict[str, str] = field(default_factory=dict)
    tag: str | None = None
    header_rows: tuple[int, int] | None = None  # 0-based inclusive
    defaults: dict[str, Any] = field(default_factory=dict)
    skip: bool = False


@dataclass
class Mapping:
    source: str = ""
    all_sheets: SheetMapping = field(default_factory=SheetMapping)
    sheets: dict[str, SheetMapping] = field(default_factory=dict)

    def for_sheet(self, name: str) -> SheetMapping:
        """The settings for one sheet: its own on top of the all-sheets ones."""
        own = self.sheets.get(name)
        base = self.all_sheets
        if own is None:
            return base
        return SheetMapping(
            columns={**base.columns, **own.columns},
            tag=own.tag or base.tag,
            header_rows=own.header_rows or base.header_rows,
            defaults={**base.defaults, **own.defaults},
            skip=own.skip,
        )


def load_mapping(path: str | Path) -> Mapping:
    """Read and check a mapping file; raises ValidationFailed with every problem (file, path, hint)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationFailed(Issue("mapping-unreadable", f"无法读取映射文件：{exc}", {"file": p.name})) from exc
    return parse_mapping(text, p.name)


def parse_mapping(text: str, source: str = "映射文件") -> Mapping:
    """A mapping file's text -> Mapping; raises ValidationFailed with every problem."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"第{mark.line + 1}行" if mark is not None else ""
        raise ValidationFailed(Issue("mapping-yaml", f"映射文件不是有效的YAML{('（' + where + '）') if where else ''}："
                                     f"{getattr(exc, 'problem', None) or exc}", {"file": source})) from exc
    return mapping_from_data(data, source)


def mapping_from_data(data: Any, source: str = "映射") -> Mapping:
    """The same checks for a mapping given as data (e.g. a form's JSON) instead of YAML text."""
    issues: list[Issue] = []

    def issue(code: str, path: str, message: str, hint: str | None = None) -> None:
        issues.append(Issue(code, message, {"file": source, "path": path}, "error", hint))

    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ValidationFailed(Issue("mapping-wrong-type", "映射文件应为键值对（映射）", {"file": source}))

    def sheet(raw: Any, path: str, allowed: tuple[str, ...]) -> SheetMapping:
        out = SheetMapping()
        if not isinstance(raw, dict):
            issue("wrong-type", path, "应为键值对（映射）")
            return out
        for key in raw:
            if key not in allowed:
                issue("unknown-key", _join(path, key), f"未知的设置“{key}”", did_you_mean(str(key), allowed))
        cols = raw.get("columns") or {}
        if not isinstance(cols, dict):
            issue("wrong-type", _join(path, "columns"), "columns 应为“表头: 字段”的键值对")
            cols = {}
        known = fields()
        for header, target in cols.items():
            target_s = str(target).strip() if target is not None else ""
            if target_s != IGNORE and target_s not in known:
                issue("unknown-field", _join(_join(path, "columns"), header), f"未知的字段“{target_s}”",
                      allowed_fields_hint(target_s, with_ignore=True))
                continue
            out.columns[str(header)] = target_s
        if raw.get("tag") is not None:
            tag = str(raw["tag"]).strip()
            by_name = {t.name: t.code for t in tag_types().values()}
            if tag in by_name:
                tag = by_name[tag]
            if tag not in tag_types():
                issue("unknown-tag", _join(path, "tag"), f"未知的标签类型“{tag}”",
                      did_you_mean(tag, [*tag_types(), *by_name]))
            else:
                out.tag = tag
        if raw.get("header_rows") is not None:
            m = _ROWS.fullmatch(str(raw["header_rows"]))
            if not m or int(m.group(1)) < 1 or (m.group(2) and int(m.group(2)) < int(m.group(1))):
                issue("header-rows", _join(path, "header_rows"), f"表头行“{raw['header_rows']}”应写作行号，如 3 或 3-4")
            else:
                first = int(m.group(1))
                out.header_rows = (first - 1, int(m.group(2) or first) - 1)
        defaults = raw.get("defaults") or {}
        if not isinstance(defaults, dict):
            issue("wrong-type", _join(path, "defaults"), "defaults 应为“字段: 值”的键值对")
            defaults = {}
        for name, value in defaults.items():
            if name not in known:
                issue("unknown-field", _join(_join(path, "defaults"), name), f"未知的字段“{name}”",
                      allowed_fields_hint(str(name)))
                continue
            out.defaults[str(name)] = value
        if raw.get("skip") is not None:
            if not isinstance(raw["skip"], bool):
                issue("wrong-type", _join(path, "skip"), "skip 应为 true 或 false")
            else:
                out.skip = raw["skip"]
        return out

    mapping = Mapping(source=source, all_sheets=sheet({k: v for k, v in data.items() if k != "sheets"}, "", _TOP_KEYS))
    sheets = data.get("sheets") or {}
    if not isinstance(sheets, dict):
        issue("wrong-type", "sheets", "sheets 应为“工作表名: 设置”的键值对")
        sheets = {}
    for name, raw in sheets.items():
        mapping.sheets[str(name)] = sheet(raw or {}, _join("sheets", name), _SHEET_KEYS)
    if issues:
        raise ValidationFailed(issues)
    return mapping


def allowed_fields_hint(name: str, *, with_ignore: bool = False) -> str:
    """'Did you mean' plus the allowed fields with their Chinese labels: those of the same entity or tag
    type when the name has a known prefix (dibao.xxx -> the 低保 attributes), otherwise all of them."""
    known = fields()
    prefix = name.split(".", 1)[0] + "." if "." in name else None
    same = [f for f in known.values() if prefix and f.name.startswith(prefix)]
    listed = same or list(known.values())
    parts = [did_you_mean(name, [*known, IGNORE] if with_ignore else known) or ""]
    if same and prefix:
        tag = tag_types().get(prefix[:-1])
        what = f"标签“{tag.name}”的" if tag is not None else f"{prefix}开头的"
        parts.append(f"{what}可用字段：")
    else:
        parts.append("可用的字段：")
    parts.append("、".join(f"{f.name}（{f.label}）" for f in listed))
    if with_ignore and not same:
        parts.append(f"、{IGNORE}（忽略此列）")
    return "".join(parts)


def _join(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)

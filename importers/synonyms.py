"""Canonical import fields and the synonym dictionary that maps legacy column headers onto them.

A canonical field is ``<entity>.<name>`` (``person.name``, ``household.number``, ``area.code``,
``tag.valid_from``) or ``<tag code>.<attribute>`` for a tag attribute (``dibao.kind``), plus the
pseudo-field ``ignore``. Each field has a normaliser kind (see importers.normalise).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent
IGNORE = "ignore"


@dataclass(frozen=True)
class FieldSpec:
    name: str  # canonical field, e.g. "person.name"
    label: str  # Chinese label shown in messages
    kind: str  # normaliser kind: text, key, name, idcard, date, code, phone, number, int, uscc
    code_list: str | None = None
    max_length: int | None = None
    required: bool = False

    @property
    def entity(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def attr(self) -> str:
        return self.name.split(".", 1)[1]


_BASE: tuple[FieldSpec, ...] = (
    FieldSpec("person.id_number", "公民身份号码", "idcard"),
    FieldSpec("person.name", "姓名", "name", max_length=50),
    FieldSpec("person.sex", "性别", "code", "sex"),
    FieldSpec("person.birth_date", "出生日期", "date"),
    FieldSpec("person.ethnic_group", "民族", "code", "ethnic_group"),
    FieldSpec("person.relation", "与户主关系", "code", "relation"),
    FieldSpec("person.marital_status", "婚姻状况", "code", "marital_status"),
    FieldSpec("person.education", "文化程度", "code", "education"),
    FieldSpec("person.political_status", "政治面貌", "code", "political_status"),
    FieldSpec("person.residence_type", "居住类型", "code", "residence_type"),
    FieldSpec("person.living_status", "人员状态", "code", "living_status"),
    FieldSpec("person.status_date", "死亡或迁出日期", "date"),
    FieldSpec("person.moved_to", "迁往地", "text", max_length=200),
    FieldSpec("person.phone", "联系电话", "phone"),
    FieldSpec("household.number", "户号", "key", max_length=30),
    FieldSpec("household.head_name", "户主姓名", "name", max_length=50),
    FieldSpec("household.head_id_number", "户主公民身份号码", "idcard"),
    FieldSpec("household.address", "住址", "text", max_length=200),
    FieldSpec("household.kind", "户别", "code", "household_type"),
    FieldSpec("area.code", "行政区划代码", "key", max_length=15),
    FieldSpec("area.name", "所在村", "text", max_length=100),
    FieldSpec("organisation.uscc", "统一社会信用代码", "uscc"),
    FieldSpec("organisation.name", "单位名称", "text", max_length=200),
    FieldSpec("organisation.kind", "单位类型", "code", "org_kind"),
    FieldSpec("organisation.industry", "行业门类", "code", "industry"),
    FieldSpec("organisation.employees", "从业人员数", "int"),
    FieldSpec("tag.valid_from", "开始日期", "date"),
    FieldSpec("tag.valid_to", "结束日期", "date"),
    FieldSpec("tag.evidence", "证明材料", "text", max_length=500),
)

#: Fields that describe the household of a row: filled down over a household's member rows.
HOUSEHOLD_FIELDS = ("household.number", "household.head_name", "household.head_id_number", "household.address",
                    "household.kind", "area.code", "area.name")

_FULL_TO_HALF = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
_BRACKETS = re.compile(r"[（(\[【][^）)\]】]*[）)\]】]")
_SPACE = re.compile(r"\s+")
_TRIM = "*＊:：※#"


def header_key(text: Any) -> str:
    """The form of a header used for matching: half-width, no whitespace, lower case, no trailing colon."""
    if text is None:
        return ""
    s = _SPACE.sub("", str(text).translate(_FULL_TO_HALF)).lower()
    return s.strip(_TRIM)


def _key_variants(text: str) -> list[str]:
    key = header_key(text)
    bare = header_key(_BRACKETS.sub("", str(text).translate(_FULL_TO_HALF)))
    return [key] if bare == key or not bare else [key, bare]


@dataclass(frozen=True)
class TagType:
    code: str
    name: str
    subject: str  # person | household
    attributes: tuple[dict[str, Any], ...]


_derived: dict[str, Any] = {}  # tag types and what is derived from them, for one runtime tag-type dictionary


def _current(key: str, build: Any) -> Any:
    """``build()`` cached for the tag types the app runs on now: the cache follows the identity of the
    runtime tag-type dictionary, which changes when a tag type is saved (``invalidate_context``)."""
    from app.registry.loader import runtime_context

    source = runtime_context().tag_types
    if _derived.get("source") is not source:
        _derived.clear()
        _derived["source"] = source
    if key not in _derived:
        _derived[key] = build(source) if key == "tag_types" else build()
    return _derived[key]


def tag_types() -> dict[str, TagType]:
    """The tag types from the database (the seed file only outside an app, see ``runtime_context``)."""
    return _current("tag_types", lambda data: {
        code: TagType(t["code"], t["name"], t["subject"], tuple(t.get("attributes", ()))) for code, t in data.items()})


def _attr_kind(attr: dict[str, Any]) -> str:
    return {"code": "code", "number": "number", "date": "date"}.get(attr.get("type", "text"), "text")


def fields() -> dict[str, FieldSpec]:
    """Every canonical field, tag attributes included."""
    return _current("fields", _fields)


def _fields() -> dict[str, FieldSpec]:
    out = {f.name: f for f in _BASE}
    for tag in tag_types().values():
        for attr in tag.attributes:
            name = f"{tag.code}.{attr['name']}"
            out[name] = FieldSpec(name, attr.get("label", attr["name"]), _attr_kind(attr), attr.get("code_list"),
                                  max_length=200 if _attr_kind(attr) == "text" else None, required=bool(attr.get("required")))
    return out


def _synonyms() -> dict[str, str]:
    """header key -> canonical field (first listed wins)."""
    return _current("synonyms", _build_synonyms)


def _build_synonyms() -> dict[str, str]:
    data = yaml.safe_load((ROOT / "synonyms.yaml").read_text(encoding="utf-8"))
    out: dict[str, str] = {}
    known = fields()
    for field_name, names in data.items():
        assert field_name == IGNORE or field_name in known, f"synonyms.yaml: unknown field {field_name}"
        for name in names:
            for key in _key_variants(name):
                out.setdefault(key, field_name)
    # a tag attribute's own label, e.g. 供养方式, 监测对象类型
    for spec in known.values():
        if spec.entity in tag_types():
            out.setdefault(header_key(spec.label), spec.name)
    for spec in _BASE:
        out.setdefault(header_key(spec.label), spec.name)
    return out


def _tag_generic(tag_code: str) -> dict[str, str]:
    """Generic headers that mean an attribute of the sheet's known tag type (类别, 等级, 证号 …)."""
    tag = tag_types().get(tag_code)
    if tag is None:
        return {}
    out: dict[str, str] = {}
    code_attrs = [a for a in tag.attributes if a.get("type") == "code"]
    for attr in tag.attributes:
        out.setdefault(header_key(attr.get("label", "")), f"{tag.code}.{attr['name']}")
        out.setdefault(header_key(attr["name"]), f"{tag.code}.{attr['name']}")
    if code_attrs:
        for word in ("类别", "类型", "种类", "人员类别", "对象类别", "对象类型"):
            out.setdefault(word, f"{tag.code}.{code_attrs[0]['name']}")
    for attr in tag.attributes:
        label = attr.get("label", "")
        if "等级" in label:
            out.setdefault("等级", f"{tag.code}.{attr['name']}")
            out.setdefault("级别", f"{tag.code}.{attr['name']}")
        if "证号" in label:
            out.setdefault("证号", f"{tag.code}.{attr['name']}")
            out.setdefault("证件号", f"{tag.code}.{attr['name']}")
    return out


def resolve_header(label: str, *, tag_code: str | None = None, overrides: dict[str, str] | None = None) -> str | None:
    """The canonical field (or ``ignore``) for a header, or None when it is not recognised.

    ``label`` is the header as found, levels joined with "/". Tried in order: the whole label, the
    levels run together, the last two levels run together, the last level.
    """
    levels = [lv for lv in str(label).split("/") if lv.strip()]
    candidates: list[str] = [label]
    if len(levels) > 1:
        candidates += ["".join(levels), "".join(levels[-2:]), levels[-1]]
    synonyms = _synonyms()
    generic = _tag_generic(tag_code) if tag_code else {}
    over = {header_key(k): v for k, v in (overrides or {}).items()}
    for cand in candidates:
        for key in _key_variants(cand):
            if key in over:
                return over[key]
    for cand in candidates:
        for key in _key_variants(cand):
            found = synonyms.get(key)
            if found is not None and found != IGNORE:
                return found
            if key in generic:
                return generic[key]
            if found == IGNORE:
                return IGNORE
    return None


def detect_tag(texts: list[str]) -> tuple[str | None, bool]:
    """The tag type a sheet name or title names ("2023年低保对象花名册" -> dibao; the longest name wins),
    and whether it was named exactly (True: every row of the sheet is a record of that tag). A looser
    word ("残疾人名册" -> disabled) only helps to read generic headers such as 类别/等级/证号."""
    best: tuple[int, str] | None = None
    for text in texts:
        t = header_key(text)
        for tag in tag_types().values():
            name = header_key(tag.name)
            if name and name in t and (best is None or len(name) > best[0]):
                best = (len(name), tag.code)
    if best is not None:
        return best[1], True
    joined = "".join(header_key(t) for t in texts)
    for word, code in (("残疾", "disabled"), ("特困供养", "tekun"), ("优抚", "veteran"), ("退役军人", "veteran"),
                       ("防返贫监测", "monitored"), ("监测对象", "monitored")):
        if word in joined and code in tag_types():
            return code, False
    return None, False

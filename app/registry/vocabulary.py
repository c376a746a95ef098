"""The small declarative vocabulary of the indicator dictionary and report projections.

Explicit registries of named things (subjects, aggregates, operators, unit conversions, roster
fields), each with an English ``name`` and a Chinese ``label``. Registry files may use only what is
listed here: nothing in them is ever evaluated as Python, SQL or a formula.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.models import House, Household, Organisation, Person


@dataclass(frozen=True)
class Subject:
    name: str
    label: str
    fields: tuple[str, ...]  # fields that ``where`` may filter on


def _business_fields(model: type) -> tuple[str, ...]:
    skip = {"id", "row_version", "batch_id", "valid_from", "id_number", "name", "phone", "address", "moved_to", "number", "uscc"}
    return tuple(c.name for c in model.__table__.columns if c.name not in skip)


SUBJECTS: dict[str, Subject] = {
    s.name: s
    for s in (
        Subject("persons", "人员", (*_business_fields(Person), "age", "alive", "village", "township")),
        Subject("households", "户", (*_business_fields(Household), "member_count", "village", "township")),
        Subject("houses", "房屋", (*_business_fields(House), "village", "township")),
        Subject("organisations", "单位", (*_business_fields(Organisation), "village", "township")),
        Subject("observations", "台账数据", ("item_code", "period_type", "village", "township")),
    )
}

# What may be computed over a subject's rows that pass the filters.
SUBJECT_MODELS = {"persons": Person, "households": Household, "houses": House, "organisations": Organisation}

# Filter fields compared as numbers; every other field (but ``alive``) is a code compared as text.
NUMERIC_FIELDS = frozenset({"age", "member_count", "employees", "floor_area"})


def code_list_of(subject: str, field: str) -> str | None:
    """The code list a subject's field takes its values from (from the model's column metadata)."""
    model = SUBJECT_MODELS.get(subject)
    if model is None or field not in model.__table__.columns:
        return None
    return model.__table__.columns[field].info.get("code_list")


AGGREGATES: dict[str, str] = {
    "count": "计数",
    "sum": "求和",
    "distinct_households": "涉及户数（去重）",
}

# Comparison operators for a field filter written as a mapping ({gte: 60}).
OPERATORS: dict[str, str] = {
    "eq": "等于",
    "ne": "不等于",
    "in": "属于",
    "not_in": "不属于",
    "gte": "大于等于",
    "gt": "大于",
    "lte": "小于等于",
    "lt": "小于",
}

# Observation period chosen relative to the reference date.
PERIODS: dict[str, str] = {
    "reference_year": "参考日所在年度",
    "previous_year": "参考日上一年度",
    "reference_month": "参考日所在月份",
    "reference_quarter": "参考日所在季度",
}

# The window of a flow (change within a period) indicator: the report's period when it is run for one
# (``--period 2025-06``), else the month of the reference date; or fixed relative to the reference date.
FLOW_PERIODS: dict[str, str] = {
    "report_period": "报告期（未指定报告期时为参考日所在月份的月初至参考日）",
    "reference_month": "参考日所在月份（月初至参考日）",
    "reference_quarter": "参考日所在季度（季初至参考日）",
    "reference_year": "参考日所在年度（年初至参考日）",
}


@dataclass(frozen=True)
class FlowEvent:
    name: str
    label: str
    subjects: tuple[str, ...]
    needs_tag: bool = False


# Changes within the period that a summary may count (本月新增 / 本月减少 …). A person's filters
# (age, attributes, tags) apply to their state on the period's last day.
FLOW_EVENTS: dict[str, FlowEvent] = {
    e.name: e
    for e in (
        FlowEvent("tag_started", "标签开始（新增）", ("persons", "households"), needs_tag=True),
        FlowEvent("tag_ended", "标签结束（减少）", ("persons", "households"), needs_tag=True),
        FlowEvent("born", "出生", ("persons",)),
        FlowEvent("died", "死亡", ("persons",)),
        FlowEvent("moved_in", "迁入（新登记）", ("persons",)),
        FlowEvent("moved_out", "迁出", ("persons",)),
        FlowEvent("household_created", "立户", ("households",)),
        FlowEvent("household_closed", "销户", ("households",)),
    )
}

# Comparison values of a column (the same indicator at another date) and of derived operands (CODE@previous).
COMPARISONS: dict[str, str] = {
    "previous": "上期（上一个报告期末）",
    "last_year": "上年同期",
    "change": "比上期增减",
    "change_pct": "比上期增长（%）",
    "change_last_year": "比上年同期增减",
    "change_last_year_pct": "比上年同期增长（%）",
}

# Derived columns: computed from indicator values of the same row; a division by zero shows "—".
DERIVED_OPS: dict[str, str] = {
    "ratio": "比值（a÷b）",
    "share": "占比（a÷b×100，%）",
    "difference": "差额（a−b）",
    "sum": "合计（a+b+…）",
    "per_capita": "人均（a÷b）",
}

# Unit conversions (from, to) → factor. Only these; an unknown pair is a registry error.
CONVERSIONS: dict[tuple[str, str], float] = {
    ("元", "万元"): 0.0001,
    ("万元", "元"): 10000.0,
    ("亩", "公顷"): 1 / 15,
    ("公顷", "亩"): 15.0,
    ("平方米", "亩"): 1 / 666.6667,
    ("亩", "平方米"): 666.6667,
    ("吨", "万吨"): 0.0001,
    ("公斤", "吨"): 0.001,
}

# The unit that signs a county-wide report of each department (填报单位), after the county's name.
DEPARTMENT_UNITS: dict[str, str] = {
    "mca": "民政局", "cdpf": "残疾人联合会", "nhc": "卫生健康局", "nhsa": "医疗保障局", "hrss": "人力资源和社会保障局",
    "mva": "退役军人事务局", "moe": "教育局", "moa": "农业农村局", "stats": "统计局", "mohurd": "住房和城乡建设局",
    "mem": "应急管理局", "org": "委组织部", "data": "数据局",
}

REPORT_KINDS: dict[str, str] = {
    "area_summary": "分区划汇总表",
    "roster": "花名册",
    "indicator_rows": "指标表（指标为行）",
    "change_list": "变动名单（新增/减少）",
}

FREQUENCIES: dict[str, str] = {
    "monthly": "月报",
    "quarterly": "季报",
    "half_yearly": "半年报",
    "yearly": "年报",
    "ad_hoc": "不定期",
}

AREA_LEVELS: dict[str, int] = {"county": 3, "township": 4, "village": 5, "grid": 6}

# Personal fields that are masked in outputs unless a projection lists them in ``unmasked``.
PERSONAL_FIELDS: dict[str, str] = {"id_number": "身份证号", "phone": "联系电话", "address": "住址"}


@dataclass(frozen=True)
class RosterField:
    """A column a roster may show: where the value comes from and how it is written."""

    name: str
    label: str
    kind: str = "text"  # text | id | integer | decimal | date
    subjects: tuple[str, ...] = ("persons",)
    personal: str | None = None  # key of PERSONAL_FIELDS when masked by default
    household_level: bool = False  # same for every member: merged over a household's rows


ROSTER_FIELDS: dict[str, RosterField] = {
    f.name: f
    for f in (
        RosterField("name", "姓名"),
        RosterField("id_number", "公民身份号码", "id", personal="id_number"),
        RosterField("sex", "性别"),
        RosterField("birth_date", "出生日期", "date"),
        RosterField("age", "年龄", "integer"),
        RosterField("ethnic_group", "民族"),
        RosterField("relation", "与户主关系"),
        RosterField("marital_status", "婚姻状况"),
        RosterField("education", "文化程度"),
        RosterField("political_status", "政治面貌"),
        RosterField("residence_type", "居住类型"),
        RosterField("living_status", "人员状态"),
        RosterField("status_date", "死亡或迁出日期", "date"),
        RosterField("phone", "联系电话", personal="phone"),
        RosterField("household.number", "户号", subjects=("persons", "households"), household_level=True),
        RosterField("household.head_name", "户主姓名", subjects=("persons", "households"), household_level=True),
        RosterField("household.head_id_number", "户主身份证号", "id", subjects=("persons", "households"),
                    personal="id_number", household_level=True),
        RosterField("household.address", "家庭住址", subjects=("persons", "households"), personal="address", household_level=True),
        RosterField("household.member_count", "家庭人口", "integer", subjects=("persons", "households"), household_level=True),
        RosterField("household.kind", "户别", subjects=("persons", "households"), household_level=True),
        RosterField("area.village_name", "村（社区）", subjects=("persons", "households"), household_level=True),
        RosterField("area.township_name", "乡镇（街道）", subjects=("persons", "households"), household_level=True),
        RosterField("area.code", "区划代码", subjects=("persons", "households"), household_level=True),
        RosterField("seq", "序号", "integer", subjects=("persons", "households")),
        RosterField("change_type", "变动类型", subjects=("persons", "households")),
        RosterField("change_reason", "变动原因", subjects=("persons", "households")),
    )
}

# Fields that exist only in change lists.
CHANGE_FIELDS = frozenset({"change_type", "change_reason"})

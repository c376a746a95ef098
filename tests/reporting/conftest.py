"""Fixtures of the reporting tests: sample reports with synthetic data only (no database)."""

from __future__ import annotations

import datetime as dt

import pytest

from app.reporting.table import Column, HeaderCell, Paper, Report, Row, Sheet

FOOTER = [
    ("单位负责人", ""),
    ("统计负责人", ""),
    ("填表人", ""),
    ("联系电话", ""),
    ("报出日期", "2025年7月5日"),
]
STATUTORY = {
    "表号": "民统1表",
    "制定机关": "民政部",
    "批准机关": "国家统计局",
    "批准文号": "国统制〔2024〕12号",
    "有效期至": "2027年6月",
}
META = {
    "report": "minzheng-dibao-summary@3",
    "reference_date": "2025-06-30",
    "generated_at": "2025-07-05T09:30:00+08:00",
    "data_version": "1842",
    "generated_by": "测试用户",
}


def summary_report(villages: int = 3) -> Report:
    """An area summary: 3-level header with a shallow leaf, 栏次 row, subtotal and total rows."""
    header = [
        HeaderCell("地区", key="area"),
        HeaderCell(
            "低保",
            [
                HeaderCell("户数", key="dibao_households"),
                HeaderCell(
                    "人数",
                    [HeaderCell("合计", key="dibao_total"), HeaderCell("其中：女", key="dibao_female")],
                ),
            ],
        ),
        HeaderCell("保障金额", key="amount"),
        HeaderCell("覆盖率", key="rate"),
    ]
    columns = [
        Column("area", "地区", "text"),
        Column("dibao_households", "户数", "integer"),
        Column("dibao_total", "合计", "integer"),
        Column("dibao_female", "其中：女", "integer"),
        Column("amount", "保障金额", "decimal", decimals=2),
        Column("rate", "覆盖率", "percent"),
    ]
    rows = [
        Row(
            {
                "area": "合计",
                "dibao_households": 30 * villages,
                "dibao_total": 50 * villages,
                "dibao_female": 20 * villages,
                "amount": 12.5 * villages,
                "rate": 0.05,
            },
            kind="total",
        )
    ]
    rows.append(
        Row(
            {
                "area": "测试镇",
                "dibao_households": 30 * villages,
                "dibao_total": 50 * villages,
                "dibao_female": 20 * villages,
                "amount": 12.5 * villages,
                "rate": 0.05,
            },
            kind="subtotal",
        )
    )
    for i in range(villages):
        rows.append(
            Row(
                {
                    "area": f"测试村{i + 1:03d}",
                    "dibao_households": 30,
                    "dibao_total": 50,
                    "dibao_female": 20,
                    "amount": 12.5,
                    "rate": 0.05 - i / 1000,
                }
            )
        )
    sheet = Sheet(
        name="低保汇总",
        title="测试县2025年6月低保对象统计表",
        header=header,
        columns=columns,
        rows=rows,
        column_numbers=["甲", "1", "2", "3", "4", "5"],
        notes=["平衡关系：2≥3", "说明：金额单位为万元。"],
    )
    return Report(
        sheets=[sheet],
        statutory=dict(STATUTORY),
        filler="填报单位（盖章）：测试县民政局",
        period_line="截至2025年6月30日",
        unit_line="单位：户、人、万元",
        footer=list(FOOTER),
        meta=dict(META),
    )


ROSTER_COLUMNS = [
    Column("household", "户号", "id"),
    Column("head", "户主", "text"),
    Column("address", "地址", "text"),
    Column("name", "姓名", "text"),
    Column("id_number", "身份证号", "id"),
    Column("phone", "联系电话", "id"),
    Column("age", "年龄", "integer"),
    Column("amount", "月保障金", "decimal", decimals=2),
    Column("since", "纳入日期", "date"),
]


def roster_report(households: int = 2, paper: Paper = "A3") -> Report:
    """A roster (花名册): household columns merged over the members; tricky IDs and names."""
    rows = [
        Row(
            {
                "household": "H0001",
                "head": "测试人员0001",
                "address": "测试镇测试村1组",
                "name": "测试人员0001",
                "id_number": "51010419900101123X",
                "phone": "13812345678",
                "age": 35,
                "amount": 500.0,
                "since": dt.date(2024, 1, 15),
            },
            group="H0001",
        ),
        Row(
            {
                "household": "H0001",
                "head": "测试人员0001",
                "address": "测试镇测试村1组",
                "name": "=SUM(A1)",
                "id_number": "510104201001011234",
                "phone": "+86123",
                "age": 15,
                "amount": 300.0,
                "since": dt.date(2024, 1, 15),
            },
            group="H0001",
        ),
        Row(
            {
                "household": "H0001",
                "head": "测试人员0001",
                "address": "测试镇测试村1组",
                "name": "测试\x07人员0003",
                "id_number": "510104201501011234",
                "phone": None,
                "age": -1,
                "amount": 300.0,
                "since": dt.date(2024, 1, 15),
            },
            group="H0001",
        ),
    ]
    for h in range(2, households + 1):
        code = f"H{h:04d}"
        rows.append(
            Row(
                {
                    "household": code,
                    "head": f"测试人员{h:04d}",
                    "address": "测试镇测试村2组",
                    "name": f"测试人员{h:04d}",
                    "id_number": f"5101041980010{h:05d}",
                    "phone": "13900000000",
                    "age": 45,
                    "amount": 800.0,
                    "since": dt.date(2023, 5, 1),
                },
                group=code,
            )
        )
    rows.append(Row({"household": "合计", "amount": 1100.0 + 800.0 * (households - 1)}, kind="total"))
    sheet = Sheet(
        name="花名册",
        title="测试镇2025年6月低保对象花名册",
        header=[],
        columns=list(ROSTER_COLUMNS),
        rows=rows,
        merge_columns=["household", "head", "address"],
    )
    return Report(
        sheets=[sheet],
        filler="填报单位（盖章）：测试镇人民政府",
        period_line="报告期：2025年6月",
        footer=list(FOOTER),
        meta=dict(META),
        paper=paper,
    )


@pytest.fixture
def summary() -> Report:
    return summary_report()


@pytest.fixture
def roster() -> Report:
    return roster_report()

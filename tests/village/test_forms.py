"""Forms are generated from the canonical model: labels, code lists, required marks, units, help, input types."""

from __future__ import annotations

from datetime import date

import pytest
from flask import Flask, render_template_string
from sqlalchemy import Column, Date, Float, MetaData, String, Table
from werkzeug.datastructures import MultiDict

from app.db import get_db
from app.models import Household, Person, TagType
from app.models.base import col
from app.views.forms import attribute_form, labelled_changes, model_form

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

RENDER = '{% from "_forms.html" import fields %}{{ fields(form) }}'


def test_person_form_fields_come_from_the_model(app: Flask) -> None:
    with app.app_context(), get_db(app).session() as session:
        form = model_form(session, Person, exclude={"household_id", "area_code", "living_status", "status_date", "moved_to"})
    assert form.names() == ["id_number", "name", "sex", "birth_date", "ethnic_group", "relation", "marital_status",
                            "education", "political_status", "residence_type", "phone"]
    assert (form["id_number"].label, form["id_number"].kind, form["id_number"].required) == ("公民身份号码", "text", True)
    assert form["id_number"].help == "18位，末位校验码X大写；15位旧号自动升级"
    assert form["id_number"].max_length == 18
    assert (form["sex"].kind, form["sex"].required) == ("select", True)
    assert ("1", "男") in form["sex"].options and ("2", "女") in form["sex"].options
    assert (form["birth_date"].kind, form["phone"].kind) == ("date", "tel")
    # a default makes a NOT NULL column optional to type; a nullable one is never required
    assert (form["residence_type"].required, form["ethnic_group"].required) == (False, False)
    assert form["relation"].options[:3] == [("01", "本人"), ("02", "户主"), ("10", "配偶")]


def test_a_column_added_to_the_model_appears_in_the_form_and_page(app: Flask) -> None:
    """No per-field HTML: a new column (here on a copy of the household table) is rendered with its metadata."""
    extra = Table(
        "household_extended", MetaData(),
        *[c._copy() for c in Household.__table__.columns],
        Column("land_area", Float, nullable=True, info=col("承包地面积", unit="亩", help="以确权证为准")["info"]),
        Column("toilet", String(1), nullable=False, info=col("卫生厕所", code_list="yes_no")["info"]),
        Column("surveyed_on", Date, nullable=True, info=col("入户调查日期")["info"]),
    )
    with app.test_request_context(), get_db(app).session() as session:
        form = model_form(session, extra)
        html = render_template_string(RENDER, form=form)
    assert form.names()[-3:] == ["land_area", "toilet", "surveyed_on"]
    assert 'name="land_area"' in html and 'type="number"' in html and "亩" in html and "以确权证为准" in html
    assert '<label for="f-toilet">卫生厕所<span class="req" title="必填">*</span></label>' in html
    assert '<option value="1">是</option>' in html
    assert 'name="surveyed_on" value=""\n           type="date"' in html


def test_parse_turns_strings_into_typed_values_and_reports_what_cannot_be_read(app: Flask) -> None:
    with app.app_context(), get_db(app).session() as session:
        form = model_form(session, Person, include=["name", "birth_date", "phone"])
        values, issues = form.parse(MultiDict({"name": " 张三 ", "birth_date": "1990-02-30", "phone": ""}))
        assert values == {"name": "张三", "phone": None}
        assert [(i.code, i.location["field"]) for i in issues] == [("bad-date", "birth_date")]
        assert "出生日期不是有效日期：1990-02-30" in issues[0].message
        form.add_issues(issues)
        assert form["birth_date"].errors and form["birth_date"].value == "1990-02-30"  # the typed text stays
        values, issues = form.parse(MultiDict({"name": "张三", "birth_date": "1990-02-28"}))
        assert values["birth_date"] == date(1990, 2, 28) and issues == []


def test_tag_attribute_form_from_the_schema(app: Flask) -> None:
    with app.test_request_context(), get_db(app).session() as session:
        dibao = session.get(TagType, "dibao")
        form = attribute_form(session, dibao.attributes)
        html = render_template_string(RENDER, form=form)
        values, issues = form.parse(MultiDict({"kind": "2", "monthly_amount": "abc", "covered_persons": "3"}))
    assert form.names() == ["kind", "monthly_amount", "covered_persons"]
    assert (form["kind"].kind, form["kind"].required, form["monthly_amount"].unit) == ("select", True, "元")
    assert '<span class="unit">元</span>' in html and "低保类别" in html
    assert [(i.code, i.location["field"]) for i in issues] == [("not-a-number", "monthly_amount")]
    assert values["covered_persons"] == 3.0


def test_history_changes_are_labelled_with_code_labels(app: Flask) -> None:
    with app.app_context(), get_db(app).session() as session:
        lines = labelled_changes(session, Person, {"relation": ["20", "02"], "phone": [None, "13900000000"]})
    assert lines == [("与户主关系", "子（20）", "户主（02）"), ("联系电话", "（空）", "13900000000")]

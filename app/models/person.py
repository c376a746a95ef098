"""Persons and households, each as a current table plus a history table of earlier states."""

from datetime import date

from sqlalchemy import UniqueConstraint
from sqlmodel import Field

from app.models.base import Current, HistoryColumns, Versioned, col


class PersonFields(Versioned):
    id_number: str = Field(max_length=18, sa_column_kwargs=col("公民身份号码", help="18位，末位校验码X大写；15位旧号自动升级"))
    name: str = Field(max_length=50, sa_column_kwargs=col("姓名"))
    sex: str = Field(max_length=1, sa_column_kwargs=col("性别", code_list="sex"))
    birth_date: date = Field(sa_column_kwargs=col("出生日期", help="须与身份证号一致"))
    ethnic_group: str | None = Field(default=None, max_length=2, sa_column_kwargs=col("民族", code_list="ethnic_group"))
    relation: str | None = Field(default=None, max_length=2, sa_column_kwargs=col("与户主关系", code_list="relation"))
    marital_status: str | None = Field(default=None, max_length=2, sa_column_kwargs=col("婚姻状况", code_list="marital_status"))
    education: str | None = Field(default=None, max_length=2, sa_column_kwargs=col("文化程度", code_list="education"))
    political_status: str | None = Field(default=None, max_length=2, sa_column_kwargs=col("政治面貌", code_list="political_status"))
    residence_type: str = Field(default="1", max_length=1, sa_column_kwargs=col("居住类型", code_list="residence_type"))
    phone: str | None = Field(default=None, max_length=20, sa_column_kwargs=col("联系电话"))
    household_id: int | None = Field(default=None, foreign_key="household.id", index=True, sa_column_kwargs=col("所属户"))
    area_code: str = Field(foreign_key="area.code", max_length=15, index=True, sa_column_kwargs=col("所在村（网格）"))
    living_status: str = Field(default="1", max_length=1, sa_column_kwargs=col("人员状态", code_list="living_status"))
    status_date: date | None = Field(default=None, sa_column_kwargs=col("死亡或迁出日期"))
    moved_to: str | None = Field(default=None, max_length=200, sa_column_kwargs=col("迁往地"))


class Person(PersonFields, Current, table=True):
    __tablename__ = "person"
    __table_args__ = (UniqueConstraint("id_number"),)

    id: int | None = Field(default=None, primary_key=True)


class PersonHistory(PersonFields, HistoryColumns, table=True):
    __tablename__ = "person_history"

    id: int = Field(foreign_key="person.id", index=True)


class HouseholdFields(Versioned):
    number: str = Field(max_length=30, sa_column_kwargs=col("户号"))
    kind: str = Field(default="1", max_length=1, sa_column_kwargs=col("户别", code_list="household_type"))
    area_code: str = Field(foreign_key="area.code", max_length=15, index=True, sa_column_kwargs=col("所在村（网格）"))
    address: str | None = Field(default=None, max_length=200, sa_column_kwargs=col("住址"))
    status: str = Field(default="1", max_length=1, sa_column_kwargs=col("户状态", code_list="record_status"))
    status_date: date | None = Field(default=None, sa_column_kwargs=col("注销日期"))


class Household(HouseholdFields, Current, table=True):
    """A household; its head is the member whose relation is 02 (户主), its members are persons."""

    __tablename__ = "household"
    __table_args__ = (UniqueConstraint("number"),)

    id: int | None = Field(default=None, primary_key=True)


class HouseholdHistory(HouseholdFields, HistoryColumns, table=True):
    __tablename__ = "household_history"

    id: int = Field(foreign_key="household.id", index=True)

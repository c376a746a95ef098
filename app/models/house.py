"""Houses: where households live, with structure and safety grade (current + history tables)."""

from sqlmodel import Field

from app.models.base import Current, HistoryColumns, Versioned, col


class HouseFields(Versioned):
    address: str = Field(max_length=200, sa_column_kwargs=col("房屋地址"))
    area_code: str = Field(foreign_key="area.code", max_length=15, index=True, sa_column_kwargs=col("所在村（网格）"))
    house_type: str = Field(default="1", max_length=1, sa_column_kwargs=col("房屋类型", code_list="house_type"))
    floor_area: float | None = Field(default=None, sa_column_kwargs=col("建筑面积", unit="平方米"))
    structure: str | None = Field(default=None, max_length=1, sa_column_kwargs=col("房屋结构", code_list="house_structure"))
    safety_grade: str | None = Field(default=None, max_length=1, sa_column_kwargs=col("安全等级", code_list="safety_grade"))
    household_id: int | None = Field(default=None, foreign_key="household.id", index=True, sa_column_kwargs=col("居住户"))
    status: str = Field(default="1", max_length=1, sa_column_kwargs=col("状态", code_list="record_status"))


class House(HouseFields, Current, table=True):
    __tablename__ = "house"

    id: int | None = Field(default=None, primary_key=True)


class HouseHistory(HouseFields, HistoryColumns, table=True):
    __tablename__ = "house_history"

    id: int = Field(foreign_key="house.id", index=True)


"""Areas: 12-digit statistical codes (省 → 市 → 县 → 乡镇 → 村), and 15-character grid codes below villages."""

from datetime import date

from sqlmodel import Field, SQLModel

import app.models.base  # noqa: F401  (naming convention must be set before any table)

# Length of the significant code prefix at each level (level numbers follow the `area_level` code list).
LEVEL_PREFIX = {1: 2, 2: 4, 3: 6, 4: 9, 5: 12, 6: 15}
LEVEL_NAMES = {1: "province", 2: "city", 3: "county", 4: "township", 5: "village", 6: "grid"}


class Area(SQLModel, table=True):
    __tablename__ = "area"

    code: str = Field(primary_key=True, max_length=15)
    name: str = Field(max_length=100)
    level: int = Field(index=True, sa_column_kwargs={"comment": "1 省 2 市 3 县 4 乡镇 5 村(社区) 6 网格"})
    parent_code: str | None = Field(default=None, foreign_key="area.code", max_length=15, index=True)
    urban_rural: str | None = Field(default=None, max_length=3, sa_column_kwargs={"comment": "统计用城乡分类代码"})
    valid_from: date = Field(default=date(1980, 1, 1))
    valid_to: date | None = Field(default=None, sa_column_kwargs={"comment": "abolished or merged on (exclusive)"})
    successor_code: str | None = Field(default=None, foreign_key="area.code", max_length=15)


def scope_prefix(code: str, level: int) -> str:
    """The code prefix shared by an area and everything below it (e.g. a township's first 9 digits)."""
    return code[: LEVEL_PREFIX[level]]


def level_of(code: str) -> int:
    """The level a code denotes, from its trailing zero segments (grids are 15 characters)."""
    if len(code) == 15:
        return 6
    for level, n in ((1, 2), (2, 4), (3, 6), (4, 9)):
        if code[n:].strip("0") == "":
            return level
    return 5

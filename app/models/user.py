"""Users, their role and the area (and department) they are scoped to."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from app.models.base import utcnow

ROLES = {
    "village_cadre": "村（社区）干部",
    "township_staff": "乡镇（街道）工作人员",
    "department": "部门用户",
    "admin": "系统管理员",
}


class User(SQLModel, table=True):
    __tablename__ = "app_user"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=50, unique=True)
    password_hash: str = Field(max_length=255)
    display_name: str = Field(max_length=100)
    role: str = Field(max_length=20, sa_column_kwargs={"comment": "village_cadre | township_staff | department | admin"})
    area_code: str = Field(foreign_key="area.code", max_length=15, sa_column_kwargs={"comment": "scope: everything under this area"})
    department: str | None = Field(default=None, max_length=20, sa_column_kwargs={"comment": "code list department (department users)"})
    active: bool = True
    must_change_password: bool = Field(default=False, sa_column_kwargs={"comment": "initial or reset password: change at next login"})
    password_changed_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)

"""Users: creation with hashed passwords, authentication, and the role's landing page."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session
from werkzeug.security import check_password_hash, generate_password_hash

from app.issues import Issue, ValidationFailed
from app.models import Area, User
from app.models.user import ROLES
from app.services.codelists import labels

# werkzeug's default (scrypt). The test suite lowers the cost; production never changes it.
PASSWORD_METHOD = "scrypt"


def create_user(
    session: Session, username: str, password: str, display_name: str, role: str, area_code: str, department: str | None = None
) -> User:
    issues: list[Issue] = []
    if role not in ROLES:
        issues.append(Issue("unknown-role", f"未知角色“{role}”", {"field": "role"}, hint="可选：" + "、".join(ROLES)))
    from app.services.accounts import password_problems

    issues += password_problems(password, strict=False)
    if session.get(Area, area_code) is None:
        issues.append(Issue("unknown-area", f"区划 {area_code} 不存在", {"field": "area_code"}))
    if role == "department" and department not in labels(session, "department"):
        issues.append(Issue("unknown-department", f"部门用户须指定有效部门，现为“{department}”", {"field": "department"}))
    if session.execute(select(User.id).where(User.username == username)).first():
        issues.append(Issue("duplicate-username", f"用户名 {username} 已存在", {"field": "username"}))
    if issues:
        raise ValidationFailed(issues)
    user = User(username=username, password_hash=generate_password_hash(password, method=PASSWORD_METHOD), display_name=display_name,
                role=role, area_code=area_code, department=department)
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    user = session.execute(select(User).where(User.username == username.strip())).scalar_one_or_none()
    if user is None or not user.active or not check_password_hash(user.password_hash, password):
        return None
    return user

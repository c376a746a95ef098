"""Demo accounts, one or more for every role, scoped to parts of the demo county."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session

from app.models import Area, User
from app.services.users import create_user

DEMO_PASSWORD = "demo-pass-2026"


def create_demo_users(session: Session, county_code: str) -> list[User]:
    """Admin, county department users, a township's staff, a village cadre and a grid cadre."""
    county = county_code[:6]
    townships = session.execute(
        select(Area).where(Area.level == 4, Area.code.startswith(county)).order_by(Area.code)
    ).scalars().all()
    township = next(t for t in townships if t.code[6:9] >= "100")  # first 镇, which has both 社区 and 村
    villages = session.execute(
        select(Area).where(Area.level == 5, Area.code.startswith(township.code[:9]), Area.valid_to.is_(None)).order_by(Area.code.desc())
    ).scalars().all()
    village = villages[0]
    other_village = villages[1]
    grid = session.execute(select(Area).where(Area.parent_code == village.code).order_by(Area.code)).scalars().first()
    specs = [
        ("demo_admin", "数据局管理员", "admin", county_code, "data"),
        ("demo_mca", "县民政局", "department", county_code, "mca"),
        ("demo_nhc", "县卫健局", "department", county_code, "nhc"),
        ("demo_cdpf", "县残联", "department", county_code, "cdpf"),
        ("demo_mva", "县退役军人事务局", "department", county_code, "mva"),
        ("demo_moa", "县农业农村局", "department", county_code, "moa"),
        ("demo_stats", "县统计局", "department", county_code, "stats"),
        ("demo_township", f"{township.name}工作人员", "township_staff", township.code, None),
        ("demo_village", f"{village.name}干部", "village_cadre", village.code, None),
        ("demo_village2", f"{other_village.name}干部", "village_cadre", other_village.code, None),
    ]
    if grid is not None:
        specs.append(("demo_grid", f"{village.name}{grid.name}网格员", "village_cadre", grid.code, None))
    return [create_user(session, u, DEMO_PASSWORD, n, r, a, d) for u, n, r, a, d in specs]

"""The dictionary pages: browse, search, where-used; an admin checks and publishes a new indicator
(errors in Chinese with the path and a hint, duplicates named, nothing stored while an error stands)."""

from __future__ import annotations

from sqlalchemy import func, select

from app.db import get_db
from app.models import IndicatorDefinition

NEW = """code: P_TEKUN_60
name: 60周岁及以上特困人员
definition: 参考日持有有效“特困”标签、年满60周岁的在世人员
unit: 人
department: mca
compute: {aggregate: count, subject: persons, where: {alive: true, age: {gte: 60}, tags: [tekun]}}
"""


def _stored(app) -> int:
    with get_db(app).session() as s:
        return s.execute(select(func.count()).select_from(IndicatorDefinition)).scalar_one()


def test_browse_search_and_where_used(login) -> None:
    client = login("mca")
    page = client.get("/indicators/?q=特困 集中").get_data(as_text=True)
    assert "P_TEKUN_CENTRAL" in page and "P_DIBAO" not in page
    page = client.get("/indicators/?department=stats&subject=households").get_data(as_text=True)
    assert "HH_REGISTERED" in page and "P_REGISTERED<" not in page
    shown = client.get("/indicators/P_TEKUN").get_data(as_text=True)
    assert "mca_needy_by_village@1" in shown and "参考日持有有效“特困”标签的在世人员" in shown
    assert client.get("/indicators/new").status_code == 403  # department users browse; admins publish


def test_admin_home_links_the_dictionary(login) -> None:
    page = login("admin").get("/").get_data(as_text=True)
    assert "/indicators/" in page
    assert "指标字典维护" not in page


def test_publish_from_the_browser_refuses_a_duplicate_and_then_publishes(app, login) -> None:
    client = login("admin")
    duplicate = NEW.replace("P_TEKUN_60", "P_TK").replace("age: {gte: 60}, ", "")
    response = client.post("/indicators/new", data={"source": duplicate, "action": "publish"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "与已有指标“P_TEKUN 特困人员”完全相同" in page and "位置 compute" in page
    bad = NEW.replace("tags: [tekun]", "tags: [tekunn]")
    page = client.post("/indicators/new", data={"source": bad, "action": "check"}).get_data(as_text=True)
    assert "未知的标签“tekunn”" in page and "是否想写“tekun”" in page and "compute.where.tags[0].code" in page
    assert _stored(app) == 0
    checked = client.post("/indicators/new", data={"source": NEW, "action": "check"}).get_data(as_text=True)
    assert "将发布为第1版" in checked
    response = client.post("/indicators/new", data={"source": NEW, "action": "publish", "note": "民政新口径"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/indicators/P_TEKUN_60")
    assert _stored(app) == 1
    page = client.get("/indicators/P_TEKUN_60").get_data(as_text=True)
    assert "民政新口径" in page and "还没有报表使用这个指标" in page

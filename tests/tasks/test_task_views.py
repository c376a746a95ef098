"""Collection task pages: issue, the village's pre-filled page, saving at the field, review, download."""

from __future__ import annotations

import html as html_lib
import io
import re

from hand_data import TOWN_1, V1, V2, V3
from openpyxl import load_workbook
from sqlalchemy import select
from task_helpers import TaskPeople

from app.models import CollectionTask, Person, TaskVillage

REF = "2025-06-30"


def text(response) -> str:
    return response.get_data(as_text=True)


def clean(fragment: str) -> str:
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def issue_task(client, report: str = "mca_needy_by_village", areas=(TOWN_1, V3)) -> int:
    response = client.post("/tasks/new", data={"report": report, "areas": list(areas), "reference_date": REF,
                                               "deadline": "2099-12-31", "note": "核对6月底数据"})
    assert response.status_code == 302, text(response)
    return int(response.headers["Location"].rstrip("/").split("/")[-1])


def statuses(session, task_id: int) -> dict[str, str]:
    rows = session.execute(select(TaskVillage).where(TaskVillage.task_id == task_id)).scalars()
    return {r.village_code: r.status for r in rows}


def test_issue_form_validates_in_chinese(login, people: TaskPeople, session) -> None:
    client = login("mca")
    page = text(client.get("/tasks/new"))
    assert "困难群众分村汇总表（分区划汇总表）" in page and "低保对象花名册（花名册）" in page
    assert "低保对象变动名单" not in page  # change lists cannot be tasks
    assert "卫生" not in page  # another department's projections are not offered
    response = client.post("/tasks/new", data={"report": "mca_needy_by_village", "reference_date": REF,
                                               "deadline": "2020-01-01"})
    assert response.status_code == 422
    items = [clean(li) for li in re.findall(r"<li>(.*?)</li>", text(response), re.S)]
    assert items == ["字段 截止日期 截止日期 2020-01-01 已过 截止日期不能早于今天（" + items[0].split("（")[-1],
                     "字段 下发范围 请至少选择一个村（社区）或乡镇（街道）"]
    assert session.execute(select(CollectionTask)).first() is None


def test_village_page_prefilled_and_scoped(login, people: TaskPeople, session) -> None:
    task_id = issue_task(login("mca"))
    client = login("cadre_1")
    response = client.get(f"/tasks/{task_id}")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/tasks/{task_id}/villages/{V1}")
    page = text(client.get(f"/tasks/{task_id}/villages/{V1}"))
    assert "甲村" in page and "未开始" in page
    names = re.findall(r'aria-label="(\S+) 姓名"', page)
    assert names == ["甲一", "甲二", "甲三", "甲七"]
    assert "特困（供养方式：分散供养） 自2024-01-01" in page
    assert "确认无误并提交" in page
    # another village's cadre sees neither the task's page for 甲村 nor the task list entry
    other = login("cadre_2")
    assert other.get(f"/tasks/{task_id}/villages/{V1}").status_code == 403
    assert other.get(f"/tasks/{task_id}/villages/{V2}").status_code == 200
    assert login("cadre_3").get(f"/tasks/{task_id}/villages/{V2}").status_code == 403
    assert login("nhc").get(f"/tasks/{task_id}").status_code == 403


def test_save_with_an_error_shows_it_at_the_field_and_writes_nothing(login, people: TaskPeople, session) -> None:
    task_id = issue_task(login("mca"), "mca_dibao_roster", [V1])
    client = login("cadre_1")
    p1 = people.hand.persons["p1"]
    version = session.get(Person, p1).row_version
    url = f"/tasks/{task_id}/villages/{V1}/records/person/{p1}"
    response = client.post(url, data={"row_version": version, "name": "甲一", "relation": "02", "sex": "1",
                                      "birth_date": "1950-13-01", "id_number": session.get(Person, p1).id_number})
    assert response.status_code == 422
    page = text(response)
    cell = re.search(rf'<tr id="person-{p1}"[^>]*>(.*?)</tr>', page, re.S).group(1)
    birth = re.search(r'data-field="birth_date">(.*?)</td>', cell, re.S).group(1)
    assert "出生日期不是有效日期：1950-13-01" in clean(birth)
    assert 'value="1950-13-01"' in birth  # what the cadre typed stays in the field
    session.expire_all()
    assert session.get(Person, p1).row_version == version
    response = client.post(url, data={"row_version": version, "name": "甲壹"})
    assert response.status_code == 302
    session.expire_all()
    assert session.get(Person, p1).name == "甲壹"
    assert statuses(session, task_id) == {V1: "in_progress"}
    page = text(client.get(f"/tasks/{task_id}/villages/{V1}"))
    assert "甲一：姓名：甲一 → 甲壹" in page and "填报中" in page


def test_review_flow_and_xlsx_download(login, people: TaskPeople, session) -> None:
    task_id = issue_task(login("mca"), "mca_needy_by_village", [TOWN_1])
    assert login("cadre_1").post(f"/tasks/{task_id}/villages/{V1}/submit", data={"note": "无变化"}).status_code == 302
    assert login("cadre_2").post(f"/tasks/{task_id}/villages/{V2}/submit").status_code == 302
    town = login("town_1")
    home = text(town.get("/"))
    assert "待办采集任务（1）" in home and "待审核 2 个村" in home
    review = text(town.get(f"/tasks/{task_id}/villages/{V1}"))  # the reviewer sees the part as submitted
    part = re.search(r'<section class="card task-part">(.*?)</section>', review, re.S).group(1)
    items = [(clean(k), clean(v)) for k, v in re.findall(r"<tr><th>(.*?)</th><td[^>]*>(.*?)</td></tr>", part)]
    assert items[:5] == [("低保 / 户数", "1"), ("低保 / 人数", "3"), ("低保 / 其中 / 城市低保户", "0"),
                         ("低保 / 其中 / 农村低保户", "1"), ("低保 / 月保障金额", "800")]
    assert 'name="name"' not in review  # read-only for the township
    response = town.post(f"/tasks/{task_id}/villages/{V2}/return", data={"comment": "", "next": "task"})
    assert response.status_code == 422 and "退回时请填写退回原因" in text(response)
    assert town.post(f"/tasks/{task_id}/villages/{V2}/return", data={"comment": "乙村人数有误", "next": "task"}).status_code == 302
    assert town.post(f"/tasks/{task_id}/villages/{V1}/approve", data={"next": "task"}).status_code == 302
    assert login("town_2").post(f"/tasks/{task_id}/villages/{V1}/return", data={"comment": "x"}).status_code == 403
    session.expire_all()
    assert statuses(session, task_id) == {V1: "confirmed", V2: "returned"}
    home = text(login("cadre_2").get("/"))
    assert "待办采集任务（1）" in home and "已退回" in home  # back on the village's landing page
    returned = text(login("cadre_2").get(f"/tasks/{task_id}/villages/{V2}"))
    reason = re.search(r'<div class="alert alert-warning task-returned-reason"[^>]*>(.*?)</div>', returned, re.S)
    assert reason and "乙村人数有误" in reason.group(1) and "青石镇" in clean(reason.group(1))
    assert returned.index("task-returned-reason") < returned.index("task-records")  # at the top, before the data
    client = login("mca")
    page = text(client.get(f"/tasks/{task_id}"))
    pairs = re.findall(r'<div class="stat-value">(\d+)</div>\s*<div class="stat-label">(\S+)</div>', page)
    assert {label: value for value, label in pairs} == {"村（社区）": "2", "未开始": "0", "填报中": "0", "待审核": "0",
                                                   "已确认": "1", "已退回": "1"}
    assert "乙村人数有误" in page
    response = client.get(f"/tasks/{task_id}/report/download?format=xlsx")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.data)).worksheets[0]
    rows = {r[0]: r[1:] for r in sheet.iter_rows(values_only=True) if r and r[0] in ("合计", "甲村", "乙村（未确认）")}
    assert rows["合计"][:5] == (1, 3, 0, 1, 800)
    assert rows["甲村"][:5] == (1, 3, 0, 1, 800)
    assert rows["乙村（未确认）"][:5] == (None, None, None, None, None)
    assert login("town_1").get(f"/tasks/{task_id}/report/download").status_code == 403

"""Need-to-know on the routes beyond the person and household pages: houses, imports (previews, rejects,
conflicts, flow-back alerts, the to-do list), collection-task pages, observation values and tag searches.

Hand-made data on top of ``base_data`` (tests/views/conftest.py), expectations written out by hand:

* p1 (village A, 低保 household h1) has 高血压 (卫健's sensitive tag); h2 (p4, p5, p6†) is a 监测户 (农业农村).
* p10 村民p10 is 85 years old, lives in h2 (no 民政 tag): outside 民政's tags, but a row of 民政's own
  高龄津贴 roster (mca_aged_roster), so 民政 sees him on that roster's task page and not on its summary's.
* Houses: 房一 (h1's, 民政 may see it), 房二 (h2's, not 民政's), 房三 (nobody lives there).
* A ledger import uploaded by the village cadre of A (raw data of everyone in the file).
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update
from view_helpers import COUNTY, VILLAGE_A, AuthActions

from app.db import get_db
from app.models import DepartmentGrant, ImportBatch, ImportFile, Person, Tag, User
from app.models.base import utcnow
from app.services import houses, persons, reports, tags, tasks
from app.validators.idcard import make_id_number

ADDRESS_1 = "云溪县城关镇甲村一组12号"  # masked: its first 6 characters and ****
MASKED_1 = "云溪县城关镇****"


@pytest.fixture
def data(app: Flask, base_data: dict[str, int], users: dict[str, int], make_user) -> dict[str, int]:
    ids = dict(base_data)
    ids["moa"] = make_user("moa", "department", COUNTY, "moa")
    with get_db(app).transaction() as session:
        admin = session.get(User, users["admin"])
        tags.grant_tag(session, admin, "hypertension", ids["p1"], date(2024, 1, 1))
        tags.grant_tag(session, admin, "monitored", ids["h2"], date(2024, 1, 1), attrs={"kind": "2"})
        p10 = persons.create_person(session, admin, {
            "id_number": make_id_number("339901", date(1940, 3, 5), 991), "name": "村民p10", "area_code": VILLAGE_A,
            "household_id": ids["h2"], "relation": "10", "residence_type": "1", "phone": "13812345678"})
        ids["p10"] = int(p10.id)
        for key, address, household in (("house1", ADDRESS_1, ids["h1"]), ("house2", "云溪县城关镇甲村二组3号", ids["h2"]),
                                         ("house3", "云溪县城关镇甲村三组空房", None)):
            house = houses.create_house(session, admin, {"address": address, "area_code": VILLAGE_A, "household_id": household},
                                        effective=date(2024, 1, 1))
            ids[key] = int(house.id)
        cadre = session.get(User, users["cadre_a"])
        batch = ImportBatch(kind="ledger", file_name="甲村台账.xlsx", sha256="0" * 64, area_code=VILLAGE_A, actor_id=cadre.id,
                            counts={"rejected": 0})
        session.add(batch)
        session.flush()
        session.add(ImportFile(import_id=batch.id, content=b"not a workbook"))
        ids["import"] = int(batch.id)
    return ids


def _id(app: Flask, person_id: int) -> str:
    with get_db(app).session() as session:
        return session.get(Person, person_id).id_number


# -- houses -----------------------------------------------------------------------------------------------


def test_department_sees_houses_of_its_households_with_the_address_masked(client: FlaskClient, auth: AuthActions,
                                                                          data: dict[str, int]) -> None:
    auth.login("mca")  # 民政: h1 is its 低保 household; its 0007 grant lists ID number and phone, not the address
    listing = client.get(f"/village/{VILLAGE_A}/houses").get_data(as_text=True)
    assert MASKED_1 in listing and ADDRESS_1 not in listing
    assert "二组3号" not in listing and "甲村二" not in listing  # h2's house: not listed at all
    assert "云溪县城关镇****" in listing  # the empty house is listed, masked too
    page = client.get(f"/village/house/{data['house1']}")
    assert page.status_code == 200
    assert ADDRESS_1 not in page.get_data(as_text=True)
    refused = client.get(f"/village/house/{data['house2']}")
    assert refused.status_code == 403 and "业务范围" in refused.get_data(as_text=True)
    # typing part of an address does not find it letter by letter
    assert "house/" not in client.get(f"/village/{VILLAGE_A}/houses?q=一组12").get_data(as_text=True).split("<main", 1)[-1]


def test_keepers_see_every_house_in_full(client: FlaskClient, auth: AuthActions, data: dict[str, int]) -> None:
    auth.login("cadre_a")
    listing = client.get(f"/village/{VILLAGE_A}/houses").get_data(as_text=True)
    assert ADDRESS_1 in listing and "云溪县城关镇甲村二组3号" in listing
    assert client.get(f"/village/house/{data['house2']}").status_code == 200


# -- imports ----------------------------------------------------------------------------------------------


def test_department_cannot_open_a_village_ledger_import(client: FlaskClient, auth: AuthActions, data: dict[str, int]) -> None:
    auth.login("moa")
    for url in (f"/imports/{data['import']}", f"/imports/{data['import']}/rejects.xlsx",
                f"/imports/conflicts?import={data['import']}"):
        response = client.get(url)
        assert response.status_code == 403, url
        assert "本部门上传的名单" in response.get_data(as_text=True)
    assert "甲村台账" not in client.get("/imports/").get_data(as_text=True)
    auth.logout()
    auth.login("township")  # the township keeping the data still sees it
    assert client.get(f"/imports/{data['import']}").status_code == 200


def test_departments_to_do_list_holds_only_its_own_tags(app: Flask, client: FlaskClient, auth: AuthActions,
                                                       data: dict[str, int]) -> None:
    with get_db(app).transaction() as session:  # both tags still lack an attribute (as an import leaves them)
        session.execute(update(Tag).where(Tag.tag_code.in_(["hypertension", "monitored"])).values(pending_attrs=["risk"]))
    auth.login("moa")
    html = client.get("/imports/todo").get_data(as_text=True)
    assert "监测户" in html and "高血压" not in html and "村民p1" not in html
    auth.logout()
    auth.login("cadre_a")
    html = client.get("/imports/todo").get_data(as_text=True)
    assert "高血压" in html and _id(app, data["p1"]) in html


# -- collection tasks -------------------------------------------------------------------------------------


def _issue(app: Flask, username: str, report_id: str) -> int:
    with get_db(app).transaction() as session:
        actor = session.execute(User.__table__.select().where(User.username == username)).first()
        user = session.get(User, actor.id)
        task = tasks.issue_task(session, reports.registry_for(app, session), user, tasks.IssueRequest(
            report_id, [VILLAGE_A], persons.today(), date(2099, 12, 31)))
        return int(task.id)


def test_summary_task_shows_a_department_only_persons_within_its_need_to_know(app: Flask, client: FlaskClient,
                                                                              auth: AuthActions, data: dict[str, int]) -> None:
    task_id = _issue(app, "mca", "mca_aged_allowance")  # counts everyone aged 80+, by age: p10 is counted
    auth.login("mca")
    html = client.get(f"/tasks/{task_id}/villages/{VILLAGE_A}").get_data(as_text=True)
    assert "村民p10" not in html and _id(app, data["p10"]) not in html
    auth.logout()
    auth.login("township")  # the reviewer keeping the data sees the same record
    assert "村民p10" in client.get(f"/tasks/{task_id}/villages/{VILLAGE_A}").get_data(as_text=True)


def test_roster_task_shows_its_rows_masked_unless_granted(app: Flask, client: FlaskClient, auth: AuthActions,
                                                         data: dict[str, int]) -> None:
    task_id = _issue(app, "mca", "mca_aged_roster")  # rows: alive, registered, aged 80+ — p10 only
    full = _id(app, data["p10"])
    auth.login("mca")
    html = client.get(f"/tasks/{task_id}/villages/{VILLAGE_A}").get_data(as_text=True)
    assert "村民p10" in html and full in html and "13812345678" in html  # a row of its own roster; 0007 grants both
    with get_db(app).transaction() as session:  # the admin revokes 民政's grants
        session.execute(update(DepartmentGrant).where(DepartmentGrant.department == "mca").values(revoked_at=utcnow()))
    html = client.get(f"/tasks/{task_id}/villages/{VILLAGE_A}").get_data(as_text=True)
    assert "村民p10" in html and full not in html and "13812345678" not in html
    assert f"{full[:4]}{'*' * 10}{full[-4:]}" in html and "138****5678" in html


# -- observations and tag searches ------------------------------------------------------------------------


def test_observation_page_holds_area_values_only(client: FlaskClient, auth: AuthActions, data: dict[str, int]) -> None:
    auth.login("moa")
    html = client.get(f"/village/{VILLAGE_A}/observations").get_data(as_text=True)
    assert "村民p" not in html  # periodic values are per area: no person, no household


def test_tag_searches_find_only_the_departments_own_holders(client: FlaskClient, auth: AuthActions,
                                                            data: dict[str, int]) -> None:
    auth.login("moa")
    own = client.get(f"/village/{VILLAGE_A}/households?tag=monitored").get_data(as_text=True)
    foreign = client.get(f"/village/{VILLAGE_A}/households?tag=hypertension").get_data(as_text=True)
    people = client.get(f"/village/{VILLAGE_A}/persons?tag=hypertension").get_data(as_text=True)
    assert f"/village/household/{data['h2']}" in own
    assert f"/village/household/{data['h1']}" not in foreign and "村民p1" not in people


# -- purpose required for unmasked downloads ----------------------------------------------------------------


def test_task_report_with_full_ids_needs_a_purpose_recorded_in_the_audit(app: Flask, client: FlaskClient, auth: AuthActions,
                                                                        data: dict[str, int], runner) -> None:
    import json

    task_id = _issue(app, "mca", "mca_aged_roster")  # unmasked: [id_number, phone], within 民政's 0007 grant
    auth.login("mca")
    assert "下载前须填写用途" in client.get(f"/tasks/{task_id}/report").get_data(as_text=True)
    refused = client.get(f"/tasks/{task_id}/report/download?format=csv")
    assert refused.status_code == 422 and "请填写用途" in refused.get_data(as_text=True)
    assert client.get(f"/tasks/{task_id}/report/download?format=csv&purpose=发放高龄津贴").status_code == 200
    events = json.loads(runner.invoke(args=["audit", "list", "--user", "mca", "--kind", "download", "--format", "json"]).output)
    assert [(e["target"], e["purpose"]) for e in events["events"]] == [
        (f"task:{task_id} mca_aged_roster@1 csv", "发放高龄津贴")]


def test_a_row_of_the_departments_own_roster_opens_the_person_page(app: Flask, client: FlaskClient, auth: AuthActions,
                                                                   data: dict[str, int]) -> None:
    """p10 holds no 民政 tag but is a row of 民政's published 高龄津贴 roster (80+, by age): 民政 may open him;
    p4 (44, no 民政 tag, on no 民政 roster) stays refused; so does 农业农村 for p1 (its rosters select 监测户)."""
    auth.login("mca")
    page = client.get(f"/village/person/{data['p10']}")
    assert page.status_code == 200 and "村民p10" in page.get_data(as_text=True)
    refused = client.get(f"/village/person/{data['p4']}")
    assert refused.status_code == 403 and "花名册" in refused.get_data(as_text=True)
    listing = client.get(f"/village/{VILLAGE_A}/persons").get_data(as_text=True)
    assert set(re.findall(r"村民p\d+", listing)) == {"村民p1", "村民p2", "村民p3", "村民p10"}  # h1 (低保) and the roster row
    auth.logout()
    auth.login("moa")
    assert client.get(f"/village/person/{data['p1']}").status_code == 403


# -- grants covering more fields: other departments' tag attributes -------------------------------------------


def test_other_departments_tag_attributes_need_a_grant(app: Flask, client: FlaskClient, auth: AuthActions,
                                                      data: dict[str, int], users: dict[str, int]) -> None:
    """h1 (低保 of 民政, 类别 农村低保) becomes a 监测户 too: 农业农村 sees it and its 低保 tag, but not the
    低保 attributes until an admin grants ``tag_attributes``; 民政 sees its own tag's attributes."""
    with get_db(app).transaction() as session:
        tags.grant_tag(session, session.get(User, users["admin"]), "monitored", data["h1"], date(2024, 1, 1),
                       attrs={"kind": "1"})
    page = f"/village/household/{data['h1']}"
    auth.login("moa")
    html = client.get(page).get_data(as_text=True)
    assert "低保" in html and "低保类别" not in html and "未授权查看" in html
    assert "监测对象类型" in html  # its own tag's attributes
    auth.logout()
    auth.login("admin")
    granted = client.post("/admin/grants", data={"department": "moa", "fields": "tag_attributes",
                                                 "legal_basis": "防止返贫监测帮扶工作需核对低保类别"})
    assert granted.status_code == 302
    auth.logout()
    auth.login("moa")
    html = client.get(page).get_data(as_text=True)
    assert "低保类别" in html and "未授权查看" not in html
    auth.logout()
    auth.login("mca")
    assert "低保类别" in client.get(page).get_data(as_text=True)


def test_a_masked_id_number_cannot_be_read_back_by_prefix_searches(app: Flask, client: FlaskClient, auth: AuthActions,
                                                                  data: dict[str, int]) -> None:
    """农业农村 sees p4 (h2, 监测户) with the ID masked: typing its first digits finds nobody (else the number
    would come back digit by digit); the whole number still finds him. 民政 (ID granted) searches by prefix."""
    full = _id(app, data["p4"])
    persons_url = f"/village/{VILLAGE_A}/persons?q="
    households_url = f"/village/{VILLAGE_A}/households?q="
    auth.login("moa")
    assert "村民p4" not in client.get(persons_url + full[:10]).get_data(as_text=True)
    assert f"/village/household/{data['h2']}" not in client.get(households_url + full[:10]).get_data(as_text=True)
    assert "村民p4" in client.get(persons_url + full).get_data(as_text=True)
    auth.logout()
    auth.login("mca")
    p2 = _id(app, data["p2"])
    assert "村民p2" in client.get(persons_url + p2[:10]).get_data(as_text=True)
    with get_db(app).transaction() as session:
        from app.models import Household
        session.get(Household, data["h1"]).address = "甲村东头老槐树下"
    assert f"/village/household/{data['h1']}" not in client.get(households_url + "老槐树").get_data(as_text=True)  # masked
    auth.logout()
    auth.login("cadre_a")
    assert f"/village/household/{data['h1']}" in client.get(households_url + "老槐树").get_data(as_text=True)


def test_task_report_masks_stored_rows_once_the_grant_is_revoked(app: Flask, client: FlaskClient, auth: AuthActions,
                                                                 data: dict[str, int], users: dict[str, int]) -> None:
    """Village A confirms 民政's 高龄 roster while 民政 holds the ID/phone grant (p10's part stored in full);
    the admin then revokes the grant: the task's report prints p10's ID and phone masked."""
    task_id = _issue(app, "mca", "mca_aged_roster")
    full = _id(app, data["p10"])
    with get_db(app).transaction() as session:
        task = session.get(tasks.CollectionTask, task_id)
        registry = reports.registry_for(app, session)
        tasks.submit(get_db(app), session, registry, session.get(User, users["cadre_a"]), task, VILLAGE_A)
        tasks.approve(session, session.get(User, users["township"]), task, VILLAGE_A)
    auth.login("mca")
    granted = client.get(f"/tasks/{task_id}/report/download?format=csv&purpose=发放核对").data.decode("utf-8-sig")
    assert full in granted and "13812345678" in granted  # granted: in full
    with get_db(app).transaction() as session:
        session.execute(update(DepartmentGrant).where(DepartmentGrant.department == "mca").values(revoked_at=utcnow()))
    download = client.get(f"/tasks/{task_id}/report/download?format=csv")  # no unmasked field left: no purpose asked
    text = download.data.decode("utf-8-sig")
    assert download.status_code == 200 and "村民p10" in text and full not in text and "13812345678" not in text
    assert f"{full[:4]}{'*' * 10}{full[-4:]}" in text and "138****5678" in text

"""What people read: report titles with their placeholders filled, local readable times, no ids."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask.testing import FlaskClient
from hand_data import COUNTY
from web_report_helpers import REF

Login = Callable[[str], FlaskClient]
NEEDY = f"/reports/mca_needy_by_village/download?area={COUNTY}&as_of={REF}&version=1"


def test_json_title_and_time_are_for_people(login: Login) -> None:
    before = datetime.now(ZoneInfo("Asia/Shanghai"))
    meta = json.loads(login("mca").get(NEEDY + "&format=json").data)["meta"]
    assert meta["报表名称"] == "云溪县困难群众分村汇总表"  # {area} filled, as in the xlsx title
    assert not any("{" in str(v) for v in meta.values())
    shown = datetime.strptime(meta["生成时间"], "%Y-%m-%d %H:%M").replace(tzinfo=ZoneInfo("Asia/Shanghai"))
    assert abs(shown - before.replace(second=0, microsecond=0)) <= timedelta(minutes=2)  # Beijing time, not UTC


def test_download_log_shows_titles_and_local_time(login: Login) -> None:
    client = login("mca")
    before = datetime.now(ZoneInfo("Asia/Shanghai"))
    assert client.get(NEEDY + "&format=csv").status_code == 200
    admin = login("admin")
    html = admin.get("/reports/downloads").get_data(as_text=True)
    body = html[html.index("<tbody>"):]
    assert "困难群众分村汇总表 v1" in body and "mca_needy_by_village@1" not in body
    assert "（UTC）" not in html and not re.search(r"\d{4}-\d\d-\d\dT\d\d:", body)
    stamp = re.search(r"<td>(\d{4}-\d\d-\d\d \d\d:\d\d)</td>", body).group(1)
    shown = datetime.strptime(stamp, "%Y-%m-%d %H:%M").replace(tzinfo=ZoneInfo("Asia/Shanghai"))
    assert abs(shown - before.replace(second=0, microsecond=0)) <= timedelta(minutes=2)


def test_report_page_kicker_shows_the_version_not_the_id(login: Login) -> None:
    html = login("mca").get("/reports/mca_needy_by_village").get_data(as_text=True)
    kicker = re.search(r'<div class="kicker">(.*?)</div>', html, re.S).group(1)
    assert "第1版" in kicker and "mca_needy_by_village@1" not in kicker

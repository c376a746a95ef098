"""No lost updates: two people edit the same person; the later save is refused and nothing is lost."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date

from flask import Flask
from flask.testing import FlaskClient
from hand_data import HandCounty
from sqlalchemy import select
from village_helpers import form_values

from app.db import get_db
from app.issues import Conflict
from app.models import ChangeLog, Person, User
from app.services import persons


def test_the_later_save_of_a_stale_form_is_refused_with_what_changed(
        app: Flask, hand: HandCounty, login: Callable[[str], FlaskClient]) -> None:
    p2 = hand.persons["p2"]
    cadre, township = login("cadre_1"), login("town_1")
    url = f"/village/person/{p2}/edit"
    form_a = form_values(cadre.get(url).get_data(as_text=True))
    form_b = form_values(township.get(url).get_data(as_text=True))
    assert form_a["row_version"] == form_b["row_version"] == "1"

    response = cadre.post(url, data={**form_a, "phone": "13811112222"})
    assert response.status_code == 302

    response = township.post(url, data={**form_b, "name": "甲二改", "marital_status": "20"})
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "您打开之后，别人已修改了这条记录" in html
    assert "保存被拒绝" in html
    # what the other person changed, with the field's label, old → new, and who did it
    assert '<th>联系电话</th><td class="old">19900000002</td><td class="arrow">→</td><td class="new">13811112222</td>' in html
    assert "甲村干部" in html
    # the refused user's typed values are still in the form
    assert 'value="甲二改"' in html and '<option value="20" selected>' in html

    with get_db(app).session() as session:
        person = session.get(Person, p2)
        assert (person.name, person.phone, person.marital_status, person.row_version) == ("甲二", "13811112222", None, 2)
        entries = session.execute(select(ChangeLog).where(ChangeLog.entity == "person", ChangeLog.entity_id == str(p2),
                                                          ChangeLog.action == "update")).scalars().all()
        assert [e.changes for e in entries] == [{"phone": ["19900000002", "13811112222"]}]

    # after loading the latest version, the second editor's change goes through on top of the first
    fresh = form_values(township.get(url).get_data(as_text=True))
    assert fresh["row_version"] == "2" and fresh["phone"] == "13811112222"
    assert township.post(url, data={**fresh, "name": "甲二改"}).status_code == 302
    with get_db(app).session() as session:
        person = session.get(Person, p2)
        assert (person.name, person.phone, person.row_version) == ("甲二改", "13811112222", 3)


def test_two_simultaneous_saves_of_the_same_version(app: Flask, hand: HandCounty) -> None:
    """Two transactions at once (threads, separate connections) that both saw version 1: exactly one wins."""
    p5 = hand.persons["p5"]
    db = get_db(app)
    barrier = threading.Barrier(2)
    outcome: dict[str, str] = {}

    def save(name: str, phone: str) -> None:
        with db.session() as session:
            actor = session.execute(select(User).where(User.username == "admin")).scalar_one()
            barrier.wait()
            try:
                persons.update_person(session, actor, p5, {"phone": phone}, effective=date(2025, 7, 1), expected_version=1)
                session.commit()
                outcome[name] = "saved"
            except Conflict:
                session.rollback()
                outcome[name] = "conflict"

    threads = [threading.Thread(target=save, args=(n, ph)) for n, ph in (("a", "13000000001"), ("b", "13000000002"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(outcome.values()) == ["conflict", "saved"]
    winner = "13000000001" if outcome["a"] == "saved" else "13000000002"
    with db.session() as session:
        person = session.get(Person, p5)
        assert (person.phone, person.row_version) == (winner, 2)
        logged = session.execute(select(ChangeLog.changes).where(
            ChangeLog.entity == "person", ChangeLog.entity_id == str(p5), ChangeLog.action == "update")).scalars().all()
        assert logged == [{"phone": ["19900000005", winner]}]

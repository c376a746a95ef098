"""One today(): the local date of YBT_TIMEZONE. Between 00:00 and 08:00 Beijing time the UTC date is still
yesterday, and a death registered for "today" was refused as a future date."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask

from app import clock
from app.db import get_db
from app.models import Person, User
from app.services import persons


@pytest.fixture
def early_morning(monkeypatch: pytest.MonkeyPatch):
    """07:00 Beijing time two days from now: the UTC date is the day before."""
    day = clock.today() + timedelta(days=2)
    moment = datetime(day.year, day.month, day.day, 7, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert moment.astimezone(ZoneInfo("UTC")).date() == day - timedelta(days=1)
    monkeypatch.setattr(clock, "now", lambda: moment)
    return day


def test_services_use_the_local_date(app: Flask, early_morning) -> None:
    with app.app_context():
        assert clock.today() == early_morning


def test_one_home_for_today() -> None:
    """No module keeps its own today() (a wrapper drifts: one once used the UTC date)."""
    import pathlib

    root = pathlib.Path(clock.__file__).resolve().parent
    homes = sorted(str(p.relative_to(root)) for p in root.rglob("*.py") if "\ndef today(" in p.read_text(encoding="utf-8"))
    assert homes == ["clock.py"]


def test_a_death_today_is_accepted_before_eight_in_the_morning(app: Flask, users: dict[str, int],
                                                               base_data: dict[str, int], early_morning) -> None:
    with get_db(app).transaction() as session:
        admin = session.get(User, users["admin"])
        persons.end_person(session, admin, base_data["p1"], "death", early_morning, confirm_warnings=True)
    with get_db(app).session() as session:
        person = session.get(Person, base_data["p1"])
        assert person.living_status != "1" and person.status_date == early_morning

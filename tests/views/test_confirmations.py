"""Irreversible one-click actions ask first (data-confirm, handled by static/js/confirm.js)."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from view_helpers import AuthActions


def test_death_registration_and_tag_end_ask_first(client: FlaskClient, auth: AuthActions, base_data: dict[str, int]) -> None:
    auth.login("admin")
    end_page = client.get(f"/village/person/{base_data['p1']}/end").get_data(as_text=True)
    form = re.search(r'<form method="post" class="form entry-form card"[^>]*>', end_page).group(0)
    assert 'data-confirm="确定为村民p1登记死亡或迁出吗？' in form

    person = client.get(f"/village/person/{base_data['p1']}").get_data(as_text=True)
    tag_end = re.search(r'<form method="post" action="/village/tag/\d+/end" class="tag-end"\s+data-confirm="([^"]+)"', person)
    assert tag_end and "党员" in tag_end.group(1) and "不能撤销" in tag_end.group(1)


def test_the_confirmation_script_is_loaded_from_a_file(client: FlaskClient) -> None:
    html = client.get("/login").get_data(as_text=True)
    assert '<script src="/static/js/confirm.js" defer></script>' in html
    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html) is None  # no inline script
    script = client.get("/static/js/confirm.js")
    assert b"data-confirm" in script.data and b"window.confirm" in script.data
    script.close()

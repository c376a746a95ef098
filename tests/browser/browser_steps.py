"""Steps every browser test takes: logging in and out through the real login form.

The hand-made county's accounts all have ``PASSWORD`` (tests/reports/hand_data.py)."""

from __future__ import annotations

from typing import Any

from hand_data import PASSWORD


def log_in(page: Any, base: str, username: str, password: str = PASSWORD) -> None:
    """Log in with the form and wait for the landing page."""
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}/")


def log_out(page: Any, base: str) -> None:
    page.get_by_role("button", name="退出").click()
    page.wait_for_url(f"{base}/login")

"""One clock: the local date and time of the configured zone (``YBT_TIMEZONE``, default Asia/Shanghai).

Stored timestamps stay UTC (``models.base.utcnow``); "today" — for effective dates, ages, reference
dates and default report dates — is the local date, so a death registered at 07:00 Beijing time is
not refused as a future date because the UTC date is still yesterday.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

DEFAULT_ZONE = "Asia/Shanghai"


def zone() -> ZoneInfo:
    """The configured zone: the app's YBT_TIMEZONE when inside an app, else the environment."""
    name = None
    try:
        from flask import current_app

        name = current_app.config.get("YBT_TIMEZONE")
    except RuntimeError:  # outside an application context
        pass
    return ZoneInfo(name or os.environ.get("YBT_TIMEZONE") or DEFAULT_ZONE)


def now() -> datetime:
    """The current local time, timezone-aware."""
    return datetime.now(UTC).astimezone(zone())


def today() -> date:
    """The local date of the configured zone."""
    return now().date()


def local(moment: datetime) -> datetime:
    """A stored timestamp (UTC, or naive meaning UTC) in the configured zone."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone())


def display(moment: datetime | None) -> str:
    """A timestamp as people read it: 2026-12-04 21:28 in local time ('' for none)."""
    return "" if moment is None else local(moment).strftime("%Y-%m-%d %H:%M")

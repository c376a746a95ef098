"""Settings: every option declared once, with type, default and description (CKAN style).

Values come from, in order: ``create_app(test_config)``, environment variables (``YBT_`` prefix or
the bare name for ``DATABASE_URL`` / ``SECRET_KEY``), ``instance/config.py``, the defaults here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask

PLACEHOLDER_SECRETS = {"", "dev", "change-me", "changeme", "secret", "placeholder"}


@dataclass(frozen=True)
class Option:
    name: str
    type: type
    default: Any
    description: str


OPTIONS: tuple[Option, ...] = (
    Option("DATABASE_URL", str, None, "SQLAlchemy URL; default: SQLite file instance/ybt.sqlite3"),
    Option("SECRET_KEY", str, "dev", "Session signing key; refused if left at a placeholder outside development"),
    Option("YBT_ENV", str, "development", "development | production"),
    Option("YBT_MAX_UPLOAD_MB", int, 50, "Largest accepted upload, in megabytes"),
    Option("YBT_IMPORT_JOBS", str, None, "thread: web imports (preview, apply) run in a background thread of the server process, "
           "with a progress page; inline: in the request (default under TESTING, else thread)"),
    Option("YBT_REGISTRY_DIR", str, None, "Folder of indicator and report files (default: forms_registry/)"),
    Option("YBT_TIMEZONE", str, "Asia/Shanghai", "IANA time zone of \"today\" and of the times shown (app/clock.py)"),
    Option("YBT_COUNTY_CODE", str, None, "12-digit code of the county this installation serves (default: the only county)"),
    Option("YBT_RULES_ON_SUBMIT", str, "off", "blocking: a village cannot submit a collection task while a blocking validation rule fails (forms_registry/rules/); off: no check"),
    Option("YBT_SESSION_IDLE_MINUTES", int, 30, "A login session ends after this many minutes without a request"),
    Option("YBT_SESSION_MAX_HOURS", int, 12, "A login session ends this many hours after login, however active"),
    Option("YBT_SECURE_COOKIES", bool, False, "Send the session cookie over HTTPS only (set when served over HTTPS)"),
    Option("YBT_AUDIT_RETENTION_DAYS", int, 1095, "Read-audit rows older than this are removed by `ybt audit purge` (0: keep all)"),
    Option("YBT_API_CALLS_PER_MINUTE", int, 120, "Calls one API token may make per minute; more are answered 429 with Retry-After (0: no limit)"),
    Option("YBT_AUDIT_PURGE", str, "request", "request: apply the audit retention at most once a day, triggered by a request; cron: only `ybt audit purge`"),
    Option("YBT_SNAPSHOTS", str, "on", "on | off: keep the report store incremental and on disk (off: every process reads the database whole)"),
    Option("YBT_SNAPSHOT_DIR", str, None, "Folder of the persisted report snapshots (default: instance/snapshots; none under TESTING)"),
    Option("YBT_PROVINCE_LRU", int, 2, "County stores held at once by a province or city roll-up (memory ≈ this × one county's store)"),
)
MIN_SECRET_KEY = 32


class ConfigError(RuntimeError):
    """Bad configuration: start-up stops with a message naming the key."""


def _coerce(option: Option, raw: Any) -> Any:
    if raw is None or option.type is str or isinstance(raw, option.type):
        return raw
    if option.type is bool:
        text = str(raw).strip().lower()
        if text in {"1", "true", "yes", "on"}:
            return True
        if text in {"0", "false", "no", "off", ""}:
            return False
        raise ConfigError(f"{option.name}={raw!r}: expected true or false ({option.description})")
    try:
        return option.type(raw)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{option.name}={raw!r}: expected {option.type.__name__} ({option.description})") from exc


def load_config(app: Flask, test_config: dict[str, Any] | None) -> None:
    """Fill ``app.config`` from the declared options and check them."""
    app.config.from_pyfile("config.py", silent=True)
    for option in OPTIONS:
        # Flask pre-fills some keys with None (SECRET_KEY): None means "not configured", so the default applies
        value = app.config.get(option.name)
        if value is None:
            value = option.default
        env = os.environ.get(option.name) or os.environ.get(f"YBT_{option.name}")
        if env is not None:
            value = env
        app.config[option.name] = _coerce(option, value)
    if test_config:
        app.config.update(test_config)

    if not app.config.get("DATABASE_URL"):
        path = Path(app.instance_path) / "ybt.sqlite3"
        app.config["DATABASE_URL"] = f"sqlite:///{path}"
    app.config["MAX_CONTENT_LENGTH"] = int(app.config["YBT_MAX_UPLOAD_MB"]) * 1024 * 1024

    production = app.config["YBT_ENV"] != "development" and not app.config.get("TESTING")
    if production and str(app.config["SECRET_KEY"] or "").strip().lower() in PLACEHOLDER_SECRETS:
        raise ConfigError(
            "SECRET_KEY is a placeholder; set a long random value in the environment "
            "(e.g. python -c 'import secrets; print(secrets.token_hex(32))')"
        )
    if production and len(str(app.config["SECRET_KEY"]).strip()) < MIN_SECRET_KEY:
        raise ConfigError(
            f"SECRET_KEY is shorter than {MIN_SECRET_KEY} characters; set a long random value "
            "(e.g. python -c 'import secrets; print(secrets.token_hex(32))')"
        )

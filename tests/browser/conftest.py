"""Browser-test fixtures: the app served on a free local port in a background thread, with the
hand-made county of tests/reports/hand_data.py, and Debian's chromium driven by Playwright.

The browser is never downloaded: /usr/bin/chromium (Debian's package, installed by .ci/run) or a skip
(a failure when YBT_BROWSER_TESTS=1 says the browser tests must run).
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "reports"))

from hand_data import HandCounty, build  # noqa: E402

from app.db import get_db  # noqa: E402
from app.reporting.frames import CACHE  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@pytest.fixture
def hand(app: Flask) -> HandCounty:
    CACHE.clear()
    with get_db(app).session() as session:
        return build(session)


@pytest.fixture
def live_server(app: Flask, hand: HandCounty) -> Iterator[str]:
    """Base URL of the app served by werkzeug on 127.0.0.1 and a free port, with CSRF checks on."""
    from werkzeug.serving import make_server

    app.config["WTF_CSRF_ENABLED"] = True  # the real forms carry their token
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="ybt-live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} not found: install Debian's chromium package (apt-get install chromium) to run the browser tests"
        if os.environ.get("YBT_BROWSER_TESTS") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def screenshot_dir(tmp_path: Path) -> Path:
    """Where screenshots go: YBT_SCREENSHOT_DIR (e.g. docs/screenshots) or the test's temporary folder."""
    target = os.environ.get("YBT_SCREENSHOT_DIR")
    path = Path(target) if target else tmp_path / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path

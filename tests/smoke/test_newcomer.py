"""The newcomer's first minutes, end to end: what ``make run`` does, in a clean environment.

No SECRET_KEY, no DATABASE_URL, a temporary instance folder: migrate, seed a small demo county, print
the demo logins, serve with ``flask run`` in a subprocess on a free port, then log in through the login
form as every printed demo account and open its landing page. Every answer must be 200 and the server
log must hold no traceback. (The test suite itself always sets a key, which is how the login page's
HTTP 500 without one went unnoticed.)
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
CLEAN_ENV_DROP = ("SECRET_KEY", "YBT_SECRET_KEY", "DATABASE_URL", "YBT_DATABASE_URL", "YBT_ENV", "YBT_REGISTRY_DIR",
                  "FLASK_APP", "FLASK_DEBUG", "YBT_COUNTY_CODE")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def newcomer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    instance = tmp_path_factory.mktemp("instance")
    env = {k: v for k, v in os.environ.items() if k not in CLEAN_ENV_DROP}
    env["YBT_INSTANCE_PATH"] = str(instance)

    def ybt(*args: str) -> str:
        done = subprocess.run([str(BIN / "ybt"), *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, f"ybt {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
        assert "Traceback" not in done.stderr, done.stderr
        return done.stdout

    ybt("db", "upgrade")
    ybt("seed-demo", "--if-empty", "--persons", "300", "--seed", "1", "--quiet")
    logins = ybt("users", "demo-logins")
    password = re.search(r"密码均为 (\S+)）", logins).group(1)
    accounts = re.findall(r"^\s+(demo_\w+)\s", logins, re.M)
    cadre = re.search(r"^\s+demo_village\s+\S+\s+(\S+)干部$", logins, re.M)

    port = _free_port()
    log = instance / "server.log"
    with open(log, "w", encoding="utf-8") as out:
        server = subprocess.Popen([str(BIN / "flask"), "--app", "app", "run", "--host", "127.0.0.1", "--port", str(port)],
                                  cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                urllib.request.urlopen(base + "/login", timeout=2).close()
                break
            except urllib.error.HTTPError:
                break  # it answers (the test below says whether the answer is right)
            except OSError:
                if server.poll() is not None:
                    pytest.fail("the server stopped:\n" + log.read_text(encoding="utf-8"))
                time.sleep(0.1)
        yield {"base": base, "accounts": accounts, "password": password, "log": log, "instance": instance,
               "village": cadre.group(1) if cadre else None}
    finally:
        server.terminate()
        server.wait(timeout=20)


def _login(base: str, username: str, password: str) -> tuple[int, str, str]:
    """GET the login form, POST it with its CSRF token; (status, final URL, body) of the landing page."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    try:
        with opener.open(base + "/login", timeout=30) as resp:
            form = resp.read().decode("utf-8")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
        data = urllib.parse.urlencode({"csrf_token": token, "username": username, "password": password}).encode()
        with opener.open(base + "/login", data=data, timeout=60) as resp:
            return resp.status, resp.url, resp.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.url, exc.read().decode("utf-8", "replace")


def test_make_run_steps_print_demo_accounts_for_every_role(newcomer: dict) -> None:
    assert {"demo_admin", "demo_mca", "demo_township", "demo_village"} <= set(newcomer["accounts"])
    assert not (Path(newcomer["instance"]) / "config.py").exists()  # nothing configured by hand


def test_every_demo_account_logs_in_through_the_form(newcomer: dict) -> None:
    failures = []
    for username in newcomer["accounts"]:
        status, url, body = _login(newcomer["base"], username, newcomer["password"])
        if status != 200 or url.rstrip("/").endswith("/login") or "用户名或密码错误" in body:
            failures.append(f"{username}: HTTP {status} at {url}")
    log = newcomer["log"].read_text(encoding="utf-8")
    assert not failures, "\n".join(failures) + "\n--- server log ---\n" + log[-4000:]
    assert "Traceback" not in log, log[-4000:]


def test_the_village_cadre_lands_on_the_village_page(newcomer: dict) -> None:
    status, url, body = _login(newcomer["base"], "demo_village", newcomer["password"])
    assert status == 200, body[-2000:]
    assert newcomer["village"], "demo-logins printed no village cadre"
    assert f"<title>{newcomer['village']} · 一表通</title>" in body and "户与人员" in body, body[:3000]

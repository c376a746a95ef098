"""``ybt serve`` runs the app under waitress in a real process, and refuses gunicorn where it cannot run."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from flask.testing import FlaskCliRunner

from app.db import migrate

YBT = [sys.executable, "-c", "from app.cli import main; main()"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_answers_requests_with_waitress(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'serve.sqlite3'}"
    migrate(url)
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "a-long-random-test-secret", "YBT_SNAPSHOT_DIR": str(tmp_path / "snap")}
    proc = subprocess.Popen([*YBT, "serve", "--port", str(port), "--threads", "2"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline, status, server = time.monotonic() + 30, None, ""
        while time.monotonic() < deadline and status is None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            try:
                conn.request("GET", "/login")
                response = conn.getresponse()
                status, server, body = response.status, response.getheader("Server", ""), response.read().decode()
            except OSError:
                assert proc.poll() is None, proc.communicate()
                time.sleep(0.2)
            finally:
                conn.close()
        assert status == 200 and "登录" in body
        assert server == "ybt"  # waitress's ident, not the Werkzeug development server
    finally:
        proc.terminate()
        _out, err = proc.communicate(timeout=10)
    assert "waitress" in err


def test_gunicorn_refused_with_a_chinese_message_when_missing(runner: FlaskCliRunner, monkeypatch) -> None:  # noqa: ANN001
    from app.cli import serve

    monkeypatch.setattr(serve, "_gunicorn_available", lambda: False)
    result = runner.invoke(args=["serve", "--server", "gunicorn", "--workers", "2"])
    assert result.exit_code != 0
    assert "gunicorn 不可用" in result.output

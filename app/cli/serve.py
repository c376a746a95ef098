"""``ybt serve``: the app behind a production WSGI server (waitress threads, or gunicorn workers on Linux).

Workers are separate processes with their own report store; they share it through the persisted
snapshots (YBT_SNAPSHOT_DIR, default instance/snapshots): the first worker to read a table writes
it, the others start from the file and apply the changes since.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext


def _gunicorn_available() -> bool:
    return os.name == "posix" and importlib.util.find_spec("gunicorn") is not None


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="监听地址（反向代理之后用 127.0.0.1）")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="端口")
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 256), help="每个进程的线程数")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="进程数（大于 1 时需要 Linux 上安装 gunicorn）")
@click.option("--server", "kind", type=click.Choice(["auto", "waitress", "gunicorn"]), default="auto", show_default=True,
              help="auto：多进程且有 gunicorn 时用 gunicorn，否则 waitress")
@click.option("--trusted-proxy", default=None, help="反向代理的地址（如 127.0.0.1）：信任其 X-Forwarded-For/-Proto 头")
@with_appcontext
def serve_command(host: str, port: int, threads: int, workers: int, kind: str, trusted_proxy: str | None) -> None:
    """Serve the web app with a production WSGI server."""
    if kind == "auto":
        kind = "gunicorn" if workers > 1 and _gunicorn_available() else "waitress"
    if kind == "gunicorn":
        if not _gunicorn_available():
            raise click.UsageError("gunicorn 不可用：仅支持 Linux/Unix，且需先安装（pip install gunicorn）；"
                                   "或改用 --server waitress")
        _run_gunicorn(host, port, threads, workers, trusted_proxy)
        return
    if workers > 1:
        click.echo(f"提示：waitress 只用一个进程（{threads} 个线程）；多进程请在 Linux 上安装 gunicorn。", err=True)
    from waitress import serve

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    click.echo(f"一表通 运行于 http://{host}:{port}/ （waitress，{threads} 个线程）", err=True)
    proxy: dict[str, Any] = {}
    if trusted_proxy:  # the client's address and https come from the proxy's headers, from it only
        proxy = {"trusted_proxy": trusted_proxy, "trusted_proxy_headers": "x-forwarded-for x-forwarded-proto x-forwarded-host",
                 "clear_untrusted_proxy_headers": True}
    serve(app, host=host, port=port, threads=threads, ident="ybt", **proxy)


def _run_gunicorn(host: str, port: int, threads: int, workers: int, trusted_proxy: str | None) -> None:
    from gunicorn.app.base import BaseApplication

    class Application(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for key, value in {"bind": f"{host}:{port}", "workers": workers, "threads": threads,
                               "worker_class": "gthread" if threads > 1 else "sync", "preload_app": False,
                               "timeout": 120, "forwarded_allow_ips": trusted_proxy or "127.0.0.1"}.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            # each worker builds its own app: database pools and report stores are not shared across a fork
            from app import create_app

            return create_app()

    click.echo(f"一表通 运行于 http://{host}:{port}/ （gunicorn，{workers} 个进程 × {threads} 个线程）", err=True)
    sys.argv = [sys.argv[0]]  # gunicorn parses the command line itself
    Application().run()

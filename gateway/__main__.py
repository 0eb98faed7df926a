"""`python -m gateway`: serve REST, WebSockets and the UI on HIREMESH_GATEWAY_HOST:PORT."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from pathlib import Path

from aiohttp import web

from gateway.app import build_app, create_gateway
from gateway.config import GatewayConfig
from gateway.users import UserStore
from hiremesh.metrics import serve_metrics
from hiremesh.server import run

log = logging.getLogger("hiremesh.gateway")


async def write_bootstrap_token(users: UserStore, token_file: Path) -> str | None:
    """Create the first admin on an empty user table and write its token to `token_file` (mode 0600).

    `hiremesh up` prints that file. When users already exist and the file holds a token that no longer
    works (a new database), the file is removed so nobody is shown a dead token; one that still works gets
    mode 0600 again at every start (a copy or an editor may have loosened it).
    """
    # The file operations run off the event loop (a slow or network disk must not stall the gateway).
    await asyncio.to_thread(_tighten, token_file)
    token = await users.ensure_bootstrap_admin()
    if token is not None:
        await asyncio.to_thread(_write_private, token_file, token + "\n")
        log.info("created user 'admin'; its API key is in %s", token_file)
        return token
    old = await asyncio.to_thread(_read_stripped, token_file)
    if old and await users.lookup(old) is None:
        await asyncio.to_thread(_remove, token_file)
    return None


def _tighten(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.chmod(0o600)


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)


def _read_stripped(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError:
        return ""


def _remove(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()


async def main() -> None:
    config = GatewayConfig.from_env()
    gw = await create_gateway(config)
    assert gw.users is not None
    await write_bootstrap_token(gw.users, config.token_file)
    runner = web.AppRunner(build_app(gw), access_log=None, shutdown_timeout=5.0)
    await runner.setup()
    site = web.TCPSite(runner, config.host, config.port, backlog=1024)
    await site.start()
    log.info("gateway listening on http://%s:%d/", config.host, config.port)
    # Prometheus scrapes this port without a token (fence it with the network policy); /metrics on the
    # public port needs an admin token.
    metrics_port = config.port + 1000 if config.metrics_port is None else config.metrics_port
    if metrics_port >= 0:
        bound = serve_metrics(metrics_port, config.host)
        log.info("gateway metrics on http://%s:%d/metrics", config.host, bound)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("gateway stopping")
    await runner.cleanup()


if __name__ == "__main__":
    run(main())

"""A second gateway process in front of the session's services, with settings of a test's own.

It shares the mesh fixture's user database (so the mesh's tokens work on it) and backends, and gets a
HIREMESH_HOME of its own; its limits are the production defaults unless a test overrides them.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

from tests.fixtures.mesh import Mesh, wait_ready
from tests.fixtures.procs import ServiceProcess, free_port, start_process


@contextlib.asynccontextmanager
async def own_gateway(mesh: Mesh, **env: str) -> AsyncIterator[tuple[str, ServiceProcess]]:
    home = Path(tempfile.mkdtemp(prefix="hiremesh-sec-gw-"))
    settings = {k: v for k, v in mesh.env.items() if not k.startswith("HIREMESH_GATEWAY_")}
    settings.update(HIREMESH_HOME=str(home), **env)
    port = free_port()
    proc = start_process("gateway", port, settings)
    url = f"http://127.0.0.1:{port}"
    try:
        await wait_ready(url, proc)
        yield url, proc
    finally:
        await proc.stop()

"""Issue 17 item 7: tokens can be taken back, have a bounded life, and sockets follow their token.

On a gateway whose auth cache is 1 s: a revoked user's JWT and WebSocket stop working within that time,
a demoted user's API key loses its role, a disabled user loses everything; JWTs past the lifetime cap are
refused (minted by `hiremesh users token` or by hand with the real secret); a WebSocket closes when its
token expires; a user holds a bounded number of sockets and watched tasks.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping

import aiohttp
import psycopg
import pytest
from aiohttp.test_utils import TestClient, TestServer

from gateway.app import build_app, create_gateway
from gateway.tokens import Role, issue_jwt
from tests.fixtures.mesh import Mesh, users_cli
from tests.fixtures.procs import REPO
from tests.gateway.conftest import auth, unit_config
from tests.security.gateways import own_gateway

CACHE = 1.0
PATIENCE = CACHE + 10  # a deadline for the change to show, not a measurement


async def until(check: Callable[[], Awaitable[bool]], seconds: float = PATIENCE) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"not within {seconds:.0f}s")


async def status_of(
    http: aiohttp.ClientSession, method: str, url: str, token: str, body: Mapping[str, object] | None = None
) -> int:
    async with http.request(method, url, json=body, headers={"Authorization": f"Bearer {token}"}) as resp:
        return resp.status


def new_user(mesh: Mesh, role: str) -> tuple[str, str]:
    name = f"u{uuid.uuid4().hex[:10]}"
    key = users_cli(mesh.env, "add", name, "--role", role)
    return name, key


async def test_a_revoked_users_jwt_and_websocket_stop_within_the_cache_time(mesh: Mesh) -> None:
    async with (
        own_gateway(mesh, HIREMESH_GATEWAY_AUTH_CACHE_SECONDS=str(CACHE)) as (url, _),
        aiohttp.ClientSession() as http,
    ):
        name, _key = await asyncio.to_thread(new_user, mesh, "recruiter")
        jwt = await asyncio.to_thread(users_cli, mesh.env, "token", name, "--ttl", "600")
        assert await status_of(http, "GET", f"{url}/api/v1/me", jwt) == 200
        async with http.ws_connect(f"{url}/ws/tasks", protocols=("hiremesh.v1", f"bearer.{jwt}")) as ws:
            assert (await ws.receive_json(timeout=10))["type"] == "connection"
            await asyncio.to_thread(users_cli, mesh.env, "revoke", name)

            async def refused() -> bool:
                return await status_of(http, "GET", f"{url}/api/v1/me", jwt) == 401

            await until(refused)
            closing = await ws.receive(timeout=PATIENCE)
            assert closing.type == aiohttp.WSMsgType.CLOSE and closing.data == 4401, closing
        # A token issued after the revocation works again (the revocation is a point in time, not a ban).
        await asyncio.sleep(1.1)
        fresh = await asyncio.to_thread(users_cli, mesh.env, "token", name, "--ttl", "600")
        assert await status_of(http, "GET", f"{url}/api/v1/me", fresh) == 200


async def test_demoted_and_disabled_users_lose_their_rights(mesh: Mesh) -> None:
    async with (
        own_gateway(mesh, HIREMESH_GATEWAY_AUTH_CACHE_SECONDS=str(CACHE)) as (url, _),
        aiohttp.ClientSession() as http,
    ):
        name, key = await asyncio.to_thread(new_user, mesh, "recruiter")
        jwt = await asyncio.to_thread(users_cli, mesh.env, "token", name, "--ttl", "600")
        job = {"title": f"Demotion test {uuid.uuid4().hex[:6]}"}
        assert await status_of(http, "POST", f"{url}/api/v1/jobs", key, job) == 201
        await asyncio.to_thread(users_cli, mesh.env, "role", name, "viewer")

        async def demoted() -> bool:
            return await status_of(http, "POST", f"{url}/api/v1/jobs", key, job) == 403

        await until(demoted)
        assert await status_of(http, "GET", f"{url}/api/v1/jobs", key) == 200  # still a viewer
        assert await status_of(http, "GET", f"{url}/api/v1/me", jwt) == 401  # JWTs of the old role end
        await asyncio.to_thread(users_cli, mesh.env, "disable", name)

        async def disabled() -> bool:
            return await status_of(http, "GET", f"{url}/api/v1/me", key) == 401

        await until(disabled)


async def test_jwt_lifetimes_are_capped(mesh: Mesh) -> None:
    name, _key = await asyncio.to_thread(new_user, mesh, "viewer")
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "hiremesh_ops.cli", "users", "token", name, "--ttl", "31536000"],
        cwd=REPO,
        env={**os.environ, **mesh.env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "at most" in done.stderr
    with psycopg.connect(mesh.database_url) as conn:
        row = conn.execute("SELECT value FROM auth.settings WHERE name = 'jwt_secret'").fetchone()
    assert row is not None
    forever = issue_jwt(row[0], name, Role.VIEWER, 365 * 86400)  # minted by hand with the real secret
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{mesh.url}/api/v1/me", headers={"Authorization": f"Bearer {forever}"}) as resp,
    ):
        assert resp.status == 401 and "lifetime" in (await resp.json())["message"]


async def test_a_websocket_closes_when_its_token_expires(mesh: Mesh) -> None:
    name, _key = await asyncio.to_thread(new_user, mesh, "viewer")
    short = await asyncio.to_thread(users_cli, mesh.env, "token", name, "--ttl", "3")
    async with (
        aiohttp.ClientSession() as http,
        http.ws_connect(f"{mesh.url}/ws/tasks", protocols=("hiremesh.v1", f"bearer.{short}")) as ws,
    ):
        assert (await ws.receive_json(timeout=10))["type"] == "connection"
        closing = await ws.receive(timeout=PATIENCE)
        assert closing.type == aiohttp.WSMsgType.CLOSE and closing.data == 4401, closing


async def test_sockets_and_watches_per_user_are_limited() -> None:
    gw = await create_gateway(unit_config(ws_per_user=2, ws_watches_per_user=3))
    client = TestClient(TestServer(build_app(gw)))
    await client.start_server()
    try:
        first = await client.ws_connect("/ws/tasks", headers=auth(Role.VIEWER))
        second = await client.ws_connect("/ws/tasks", headers=auth(Role.VIEWER))
        with pytest.raises(aiohttp.WSServerHandshakeError) as third:
            await client.ws_connect("/ws/tasks", headers=auth(Role.VIEWER))
        assert third.value.status == 429
        for ws in (first, second):
            assert (await ws.receive_json(timeout=10))["type"] == "connection"
        # The screening backend is down here, so each watcher keeps retrying: it holds its share meanwhile.
        for ws, count in ((first, 2), (second, 2)):
            for _ in range(count):
                await ws.send_json({"action": "watch", "task_id": str(uuid.uuid4())})
        refused = await second.receive_json(timeout=10)
        assert refused["code"] == 429 and "per user" in refused["message"]
        await first.close()
        await asyncio.sleep(0.2)
        again = await client.ws_connect("/ws/tasks", headers=auth(Role.VIEWER))  # a socket was given back
        await again.close()
        await second.close()
    finally:
        await client.close()
        await gw.backends.close()

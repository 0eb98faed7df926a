"""A gateway app on a test server with JWT auth (no user database) and backends on closed ports."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from gateway.app import build_app, create_gateway
from gateway.config import BackendAddrs, GatewayConfig
from gateway.tokens import Role, issue_jwt
from tests.fixtures.procs import free_port

SECRET = "unit-test-secret-with-enough-entropy-0123456789"


def closed_backends() -> BackendAddrs:
    # Nothing listens on these: calls fail with UNAVAILABLE, which is what some tests want.
    return BackendAddrs(*(f"127.0.0.1:{free_port()}" for _ in range(5)))


def unit_config(**overrides: Any) -> GatewayConfig:
    base = GatewayConfig(backends=closed_backends(), jwt_secret=SECRET, default_timeout=2.0)
    return replace(base, **overrides)


def token(role: Role = Role.ADMIN, user: str = "tester", ttl: float = 600) -> str:
    return issue_jwt(SECRET, user, role, ttl)


def auth(role: Role = Role.ADMIN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(role)}"}


# aiohttp's test client for an application server (what TestClient(TestServer(app)) is).
GatewayClient = TestClient[web.Request, web.Application]
ClientFactory = Callable[..., Awaitable[GatewayClient]]


@pytest.fixture
async def make_client() -> AsyncIterator[ClientFactory]:
    clients: list[GatewayClient] = []

    async def make(**overrides: object) -> GatewayClient:
        gw = await create_gateway(unit_config(**overrides))
        client = TestClient(TestServer(build_app(gw)))
        await client.start_server()
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()


@pytest.fixture
async def client(make_client: ClientFactory) -> GatewayClient:
    return await make_client()

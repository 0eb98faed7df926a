"""Issue 17 item 6: a flood of made-up tokens is throttled per client address before it reaches PostgreSQL.

A gateway with the production defaults takes 1,000 random (well-formed) API keys from one address: it
answers 429 with Retry-After once the address has failed a handful of look-ups, and the user database
sees a handful of queries, not a thousand. Malformed keys never cost a query; every cache is bounded.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import Counter

import aiohttp
import psycopg

from gateway.auth import Authenticator
from gateway.ratelimit import RateLimiter
from gateway.users import UserStore
from tests.fixtures.mesh import Mesh
from tests.security.gateways import own_gateway


def random_key() -> str:
    return f"hmk_{secrets.token_hex(4)}_{secrets.token_urlsafe(32)}"


def _transactions(url: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT pg_stat_clear_snapshot()")
        row = conn.execute(
            "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()"
        ).fetchone()
    assert row is not None
    return int(row[0])


async def _hammer(url: str, tokens: list[str], concurrency: int = 64) -> tuple[Counter[int], float]:
    statuses: Counter[int] = Counter()
    gate = asyncio.Semaphore(concurrency)
    async with aiohttp.ClientSession() as http:

        async def one(token: str) -> None:
            async with gate, http.get(f"{url}/api/v1/me", headers={"Authorization": f"Bearer {token}"}) as resp:
                statuses[resp.status] += 1
                if resp.status == 429:
                    assert int(resp.headers["Retry-After"]) >= 1

        started = time.monotonic()
        await asyncio.gather(*(one(t) for t in tokens))
    return statuses, time.monotonic() - started


async def test_a_thousand_random_api_keys_are_throttled_before_the_database(mesh: Mesh) -> None:
    async with own_gateway(mesh) as (url, _proc):
        await asyncio.sleep(2)  # let the new gateway's start-up queries reach the statistics
        before = _transactions(mesh.database_url)
        statuses, elapsed = await _hammer(url, [random_key() for _ in range(1000)])
        await asyncio.sleep(2)  # server processes report their counters about once a second
        queries = _transactions(mesh.database_url) - before
        assert statuses[429] >= 900, statuses
        # At most the failure burst (20) plus 1 per second got as far as a look-up.
        assert statuses[401] <= 20 + elapsed + 5, (statuses, elapsed)
        assert queries < 150, f"{queries} database transactions for 1,000 unknown keys ({statuses})"

        await asyncio.sleep(1.5)  # the address bucket refills; the failed-look-up bucket barely does
        async with aiohttp.ClientSession() as http:
            for bad in ("hmk_nothex_x", "hmk_" + "z" * 60, "hmk_0123abcd_" + "!" * 43):
                async with http.get(f"{url}/api/v1/me", headers={"Authorization": f"Bearer {bad}"}) as resp:
                    # Refused for its shape, not after a look-up (which this address may no longer have).
                    assert resp.status == 401 and "malformed" in (await resp.json())["message"]
            async with http.get(f"{url}/healthz") as resp:
                assert resp.status == 200


async def test_the_address_limit_applies_before_authentication(mesh: Mesh) -> None:
    async with own_gateway(mesh, HIREMESH_GATEWAY_ADDRESS_RATE_LIMIT="5", HIREMESH_GATEWAY_ADDRESS_RATE_BURST="10") as (
        url,
        _proc,
    ):
        # No token at all: nothing to look up, yet the address is still throttled.
        statuses, _ = await _hammer(url, ["" for _ in range(60)])
        assert statuses[429] >= 40 and statuses[401] <= 20, statuses


def test_rate_limit_tables_are_bounded() -> None:
    limiter = RateLimiter(1.0, 5, max_keys=1_000)
    for i in range(20_000):
        limiter.acquire(f"10.0.{i // 256}.{i % 256}")
    assert len(limiter) == 1_000
    assert limiter.acquire("10.0.78.31") == 0.0  # the most recent keys are the ones kept


async def test_authentication_caches_are_bounded(mesh: Mesh) -> None:
    store = await UserStore.open(mesh.database_url, max_size=2)
    try:
        auth = Authenticator(store, "", 30.0, failures=RateLimiter(0, 1), cache_size=500)
        for _ in range(3_000):
            assert await auth._api_key(random_key(), "192.0.2.1") is None
        sizes = auth.cache_sizes()
        assert sizes["unknown"] <= 500 and sizes["keys"] <= 500, sizes
        assert await auth._api_key(mesh.admin_token, "192.0.2.1") is not None
    finally:
        await store.close()

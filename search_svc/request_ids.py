"""Request ids of catalog creates (AIP-155), kept in `catalog.request_ids` (migration 0007).

`claim` runs inside the create's transaction: it takes a transaction-scoped advisory lock on the id, so a
retry racing the first attempt waits for it, and returns what an earlier request with this id created.
`remember` stores the new row's id in the same transaction, so the id and the row commit together.
Ids are kept for `KEEP_DAYS` (a retry comes within seconds; a week is generous).
"""

from __future__ import annotations

import time
from typing import Any

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from hiremesh.idempotency import LOCK_NAMESPACE

KEEP_DAYS = 7
_PRUNE_EVERY_S = 3600.0
_last_prune = 0.0

Found = tuple[str, bool]  # (resource id, deduplicated)


async def find(pool: AsyncConnectionPool[Any], kind: str, request_id: str) -> Found | None:
    """What a committed earlier request with this id created, without locking (a cheap early exit)."""
    async with pool.connection() as conn:
        return await _select(conn, kind, request_id)


async def claim(conn: AsyncConnection[Any], kind: str, request_id: str) -> Found | None:
    """Lock `request_id` for this transaction; what an earlier request with it created, if any."""
    await conn.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (LOCK_NAMESPACE, f"{kind}:{request_id}"))
    return await _select(conn, kind, request_id)


async def remember(
    conn: AsyncConnection[Any], kind: str, request_id: str, resource_id: str, deduplicated: bool = False
) -> None:
    global _last_prune
    await conn.execute(
        "INSERT INTO catalog.request_ids (kind, request_id, resource_id, deduplicated) "
        "VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
        (kind, request_id, resource_id, deduplicated),
    )
    now = time.monotonic()
    if now - _last_prune > _PRUNE_EVERY_S:
        _last_prune = now
        await conn.execute(
            "DELETE FROM catalog.request_ids WHERE created_at < now() - make_interval(days => %s)", (KEEP_DAYS,)
        )


async def _select(conn: AsyncConnection[Any], kind: str, request_id: str) -> Found | None:
    cur = await conn.execute(
        "SELECT resource_id, deduplicated FROM catalog.request_ids WHERE kind = %s AND request_id = %s",
        (kind, request_id),
    )
    row = await cur.fetchone()
    return (str(row[0]), bool(row[1])) if row else None

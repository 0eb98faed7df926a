"""Folding the append-only term counts (`catalog.term_stats_pending`) into `catalog.term_stats`.

Writers never update a shared counter (their triggers append deltas), so bulk imports in parallel never
wait on each other; searches read both tables, so the statistics are exact at every moment. This loop only
keeps the pending table short, which keeps those reads cheap. One replica folds at a time (an advisory
lock); a fold that fails is retried on the next round.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from psycopg_pool import AsyncConnectionPool

from hiremesh.errors import Unavailable

log = logging.getLogger("search_svc.term_stats")

_LOCK = 0x4D16_7E57  # "term stats": one folder at a time across replicas
_FOLD = """
WITH moved AS (DELETE FROM catalog.term_stats_pending RETURNING corpus, dim, delta),
     summed AS (SELECT corpus, dim, sum(delta)::bigint AS delta FROM moved GROUP BY 1, 2)
INSERT INTO catalog.term_stats AS s (corpus, dim, docs)
SELECT corpus, dim, delta FROM summed ORDER BY corpus, dim
ON CONFLICT (corpus, dim) DO UPDATE SET docs = s.docs + excluded.docs
"""
_PRUNE = "DELETE FROM catalog.term_stats WHERE docs <= 0 AND dim <> 0"


async def fold(pool: AsyncConnectionPool[Any]) -> int | None:
    """Fold once; the number of (corpus, term) counters touched, or None when another replica is folding."""
    async with pool.connection() as conn, conn.transaction():
        cur = await conn.execute("SELECT pg_try_advisory_xact_lock(%s)", (_LOCK,))
        row = await cur.fetchone()
        if not row or not row[0]:
            return None
        cur = await conn.execute(_FOLD)
        touched: int = cur.rowcount
        if touched:
            await conn.execute(_PRUNE)
        return touched


async def run(pool: AsyncConnectionPool[Any], interval: float) -> None:
    """Fold every `interval` seconds until cancelled; a database outage is logged once and waited out."""
    failing = False
    while True:
        try:
            await fold(pool)
            if failing:
                log.info("term statistics folding again")
            failing = False
        except (Unavailable, OSError) as exc:
            if not failing:
                log.warning("cannot fold term statistics now: %s", exc)
            failing = True
        except Exception as exc:  # a fold must never kill the loop; the next round retries it
            if not failing:
                log.warning("term statistics fold failed: %s", exc)
            failing = True
        await asyncio.sleep(interval)

"""Re-embedding: the background catch-up of stale rows, and Reindex (all or stale rows) with progress.

A vector is written only if the row's `updated_at` is still the one whose text was embedded, so a write
racing with the catch-up can never end up with an old vector marked fresh.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from psycopg import sql
from psycopg.rows import dict_row

from hiremesh.errors import Unavailable
from search_svc import metrics
from search_svc.candidates import Candidates
from search_svc.jobs import Jobs
from search_svc.records import Candidate, Job, candidate_text, job_text
from search_svc.rows import RowStore

log = logging.getLogger("search_svc.reembed")

_STALE = sql.SQL("(embedded_at IS NULL OR embedded_at < updated_at)")


@dataclass
class ReindexEvent:
    stage: str
    done: int
    total: int
    failed: int
    message: str


def _text(store: RowStore, row: dict[str, Any]) -> str:
    if isinstance(store, Candidates):
        return candidate_text(Candidate.from_row(row))
    return job_text(Job.from_row(row))


class Reembedder:
    def __init__(self, candidates: Candidates, jobs: Jobs) -> None:
        self.stores: list[RowStore] = [candidates, jobs]

    async def _batch(self, store: RowStore, after: str | None, only_stale: bool, limit: int) -> list[dict[str, Any]]:
        conditions = [sql.SQL("true")]
        params: list[Any] = []
        if only_stale:
            conditions.append(_STALE)
        if after is not None:
            conditions.append(sql.SQL("id > %s"))
            params.append(after)
        query = sql.SQL("{select} WHERE {cond} ORDER BY id LIMIT %s").format(
            select=store.table.select, cond=sql.SQL(" AND ").join(conditions)
        )
        async with store.pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(query, [*params, limit])
            rows: list[dict[str, Any]] = await cur.fetchall()
            return rows

    async def _write(self, store: RowStore, rows: list[dict[str, Any]]) -> int:
        """Embed `rows` (raises Unavailable) and store the vectors; returns how many were still current."""
        vectors = await store.embedder.embed([_text(store, r) for r in rows])
        query = sql.SQL("UPDATE {t} SET embedding = %s, embedded_at = now() WHERE id = %s AND updated_at = %s").format(
            t=store.table.ident
        )
        written = 0
        async with store.pool.connection() as conn, conn.transaction():
            for row, vector in zip(rows, vectors, strict=True):
                cur = await conn.execute(query, (vector, row["id"], row["updated_at"]))
                written += cur.rowcount
        return written

    async def _count(self, store: RowStore, only_stale: bool) -> int:
        query = sql.SQL("SELECT count(*) FROM {t}{w}").format(
            t=store.table.ident, w=sql.SQL(" WHERE ") + _STALE if only_stale else sql.SQL("")
        )
        async with store.pool.connection() as conn:
            cur = await conn.execute(query)
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def reindex(self, only_stale: bool, batch: int) -> AsyncIterator[ReindexEvent]:
        """Re-embed every row (or only stale ones) of both tables, yielding progress per batch."""
        counts = [await self._count(s, only_stale) for s in self.stores]
        total = sum(counts)
        done = skipped = 0
        yield ReindexEvent("counting", 0, total, 0, f"{total} row(s) to re-embed")
        for store in self.stores:
            after: str | None = None
            while True:
                rows = await self._batch(store, after, only_stale, batch)
                if not rows:
                    break
                after = str(rows[-1]["id"])
                written = await self._write(store, rows)
                skipped += len(rows) - written
                done += len(rows)
                yield ReindexEvent(
                    store.table.name,
                    min(done, max(total, done)),
                    max(total, done),
                    0,
                    f"re-embedded {done} row(s); {skipped} changed meanwhile (their writer embedded them)"
                    if skipped
                    else f"re-embedded {done} row(s)",
                )
        yield ReindexEvent("done", done, max(total, done), 0, f"done: {done} row(s) re-embedded")

    async def catch_up_once(self, batch: int) -> int:
        """Re-embed up to `batch` stale rows per table; returns how many were fixed."""
        fixed = 0
        for store in self.stores:
            rows = await self._batch(store, None, True, batch)
            if rows:
                count = await self._write(store, rows)
                metrics.CATCHUP_EMBEDDED.labels(store.table.name).inc(count)
                fixed += count
        return fixed

    async def run(self, interval: float, batch: int) -> None:
        """Forever: sweep stale rows, sleeping `interval` between idle sweeps (or until a write signals)."""
        backoff = interval
        while True:
            try:
                fixed = await self.catch_up_once(batch)
                if fixed:
                    log.info("catch-up re-embedded %d stale row(s)", fixed)
                    backoff = interval
                    continue  # more may be waiting
                for store in self.stores:
                    await store.stale_count()
                backoff = interval
            except Unavailable as exc:
                log.warning("catch-up paused: %s", exc.message)
                backoff = min(max(backoff * 2, interval), 60.0)
            except Exception:
                log.exception("catch-up sweep failed")
                backoff = min(max(backoff * 2, interval), 60.0)
            await self._sleep(backoff)

    async def _sleep(self, seconds: float) -> None:
        waits = [asyncio.ensure_future(s.stale_signal.wait()) for s in self.stores]
        try:
            await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waits:
                w.cancel()
            for s in self.stores:
                s.stale_signal.clear()

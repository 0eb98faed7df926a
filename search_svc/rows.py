"""Shared plumbing of the candidate and job stores: embedding with a stale fallback, keyset listing, deletes.

Identifiers in SQL come only from the fixed tuples in `records`; every value is a bind parameter.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
from psycopg import AsyncConnection, sql
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from hiremesh import page_tokens
from hiremesh.errors import NotFound, Unavailable
from search_svc import metrics, paging
from search_svc.embedder import Embedder

log = logging.getLogger("search_svc.rows")


class Table:
    """One catalog table: its name, the columns a reader sees, and the stale predicate."""

    def __init__(self, name: str, noun: str, columns: Sequence[str]) -> None:
        self.name = name  # bare table name in schema catalog
        self.noun = noun  # "candidate", for messages
        self.ident = sql.Identifier("catalog", name)
        self.columns = tuple(columns)
        template = (
            "SELECT {cols}, (embedded_at IS NULL OR embedded_at < updated_at) AS embedding_stale{extra} FROM {table}"
        )
        cols = sql.SQL(", ").join(sql.Identifier(c) for c in self.columns)
        self.select = sql.SQL(template).format(cols=cols, extra=sql.SQL(""), table=self.ident)
        self.select_with_vector = sql.SQL(template).format(cols=cols, extra=sql.SQL(", embedding"), table=self.ident)


class RowStore:
    """Base of Candidates and Jobs: a pool, an embedder, and a signal for the catch-up loop."""

    table: Table

    def __init__(self, pool: AsyncConnectionPool[Any], embedder: Embedder) -> None:
        self.pool = pool
        self.embedder = embedder
        self.stale_signal = asyncio.Event()  # set when a write left a row stale, to wake the catch-up loop

    async def try_embed(self, texts: list[str]) -> list[np.ndarray] | None:
        """Vectors for `texts`, or None when embedding_svc is down (the rows are then written stale)."""
        try:
            return await self.embedder.embed(texts)
        except Unavailable as exc:
            log.warning("writing %d %s row(s) stale: %s", len(texts), self.table.noun, exc.message)
            metrics.STALE_WRITES.labels(self.table.name).inc(len(texts))
            self.stale_signal.set()
            return None

    async def fetch(self, conn: AsyncConnection[Any], row_id: str) -> dict[str, Any]:
        query = sql.SQL("{select} WHERE id = %s").format(select=self.table.select)
        async with conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(query, (row_id,))
            row = await cur.fetchone()
        if row is None:
            raise NotFound(f"{self.table.noun} {row_id} not found")
        return row

    async def get_row(self, row_id: str) -> dict[str, Any]:
        row_id = paging.parse_id(row_id)
        async with self.pool.connection() as conn:
            return await self.fetch(conn, row_id)

    async def delete(self, row_id: str) -> None:
        row_id = paging.parse_id(row_id)
        async with self.pool.connection() as conn:
            cur = await conn.execute(sql.SQL("DELETE FROM {t} WHERE id = %s").format(t=self.table.ident), (row_id,))
            if cur.rowcount == 0:
                raise NotFound(f"{self.table.noun} {row_id} not found")

    async def list_rows(
        self, where: list[sql.Composable], params: list[Any], size: int, token: str, key: str
    ) -> tuple[list[dict[str, Any]], str, int]:
        """One keyset page in (created_at, id) order, the next token, and the filter's total size."""
        after = page_tokens.decode(token, key)
        page_where = list(where)
        page_params = list(params)
        if after is not None:
            page_where.append(sql.SQL("(created_at, id) > (%s, %s)"))
            page_params += [after[0], after[1]]
        query = sql.SQL("{select}{where} ORDER BY created_at, id LIMIT %s").format(
            select=self.table.select, where=_where(page_where)
        )
        count = sql.SQL("SELECT count(*) FROM {t}{where}").format(t=self.table.ident, where=_where(where))
        async with self.pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(query, [*page_params, size + 1])
            rows = await cur.fetchall()
            await cur.execute(count, params)
            total_row = await cur.fetchone()
        total = int(total_row["count"]) if total_row else 0
        token_out = ""
        if len(rows) > size:
            rows = rows[:size]
            last = rows[-1]
            token_out = page_tokens.encode(last["created_at"], str(last["id"]), key)
        return rows, token_out, total

    async def write_if_unchanged(
        self, row_id: str, read_at: Any, changes: dict[str, Any], text_changed: bool, vector: np.ndarray | None
    ) -> dict[str, Any] | None:
        """Apply `changes` only if nobody updated the row since it was read (its `updated_at` is still
        `read_at`); the new row, or None when it moved meanwhile and the caller should re-read and retry.

        A changed text stores `vector` with it, or leaves the row stale when there is none (embedding_svc
        down); an unchanged text keeps a fresh row fresh."""
        sets: list[sql.Composable] = [sql.SQL("{} = %s").format(sql.Identifier(f)) for f in changes]
        params: list[Any] = list(changes.values())
        sets.append(sql.SQL("updated_at = now()"))
        if text_changed and vector is not None:
            sets.append(sql.SQL("embedding = %s, embedded_at = now()"))
            params.append(vector)
        elif not text_changed:
            sets.append(sql.SQL("embedded_at = CASE WHEN embedded_at >= updated_at THEN now() ELSE embedded_at END"))
        query = sql.SQL("UPDATE {t} SET {sets} WHERE id = %s AND updated_at = %s RETURNING id").format(
            t=self.table.ident, sets=sql.SQL(", ").join(sets)
        )
        async with self.pool.connection() as conn:
            cur = await conn.execute(query, [*params, row_id, read_at])
            if await cur.fetchone() is None:
                return None
            return await self.fetch(conn, row_id)

    async def stale_count(self) -> int:
        query = sql.SQL("SELECT count(*) FROM {t} WHERE embedded_at IS NULL OR embedded_at < updated_at").format(
            t=self.table.ident
        )
        async with self.pool.connection() as conn:
            cur = await conn.execute(query)
            row = await cur.fetchone()
        count = int(row[0]) if row else 0
        metrics.STALE_ROWS.labels(self.table.name).set(count)
        return count


def _where(conditions: list[sql.Composable]) -> sql.Composable:
    if not conditions:
        return sql.SQL("")
    return sql.SQL(" WHERE ") + sql.SQL(" AND ").join(conditions)


def ilike_pattern(text: str) -> str:
    """A substring pattern with LIKE's metacharacters escaped, so `50%_off` matches itself."""
    escaped = text.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"

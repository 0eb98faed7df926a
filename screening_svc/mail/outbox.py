"""The delivery side of search_svc's outbox table `catalog.notifications`.

search_svc writes rows (with the application change that causes them) and re-queues failed ones; this
module, used by the relay and the delivery job, only moves a row through its delivery states and counts
attempts. Every write is conditional on the state it expects (`WHERE state = 'queued'`), so a duplicate
or late job changes nothing, and the row stays the one record of what happened to a message.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, LiteralString

from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

CHANNEL = "hiremesh_mail_outbox"  # search_svc NOTIFYs it with the id of every newly queued e-mail
LOCK_PREFIX = "mail:"  # procrastinate lock and queueing lock of a message's delivery job
MAX_ERROR = 2000

# Queued messages with no delivery job waiting or running (a job holds LOCK_PREFIX || id).
_DUE: LiteralString = """
    SELECT n.id::text AS id FROM catalog.notifications n
     WHERE n.state = 'queued'
       AND NOT EXISTS (SELECT 1 FROM procrastinate.procrastinate_jobs j
                        WHERE j.queueing_lock = 'mail:' || n.id::text AND j.status = 'todo')
       AND NOT EXISTS (SELECT 1 FROM procrastinate.procrastinate_jobs j
                        WHERE j.lock = 'mail:' || n.id::text AND j.status = 'doing')
     ORDER BY n.created_at
     LIMIT %(limit)s
     FOR UPDATE OF n SKIP LOCKED
"""


@dataclass(frozen=True)
class Attempt:
    """A message claimed for one delivery attempt; `attempts` includes this one."""

    id: str
    recipient: str
    subject: str
    body: str
    attempts: int
    opted_out: bool


class MailOutbox:
    def __init__(self, pool: AsyncConnectionPool[Any]) -> None:
        self._pool = pool

    async def available(self) -> bool:
        """True once search_svc's migration created the table in this database."""
        async with self._pool.connection() as conn:
            cur = await conn.execute("SELECT to_regclass('catalog.notifications') IS NOT NULL")
            row = await cur.fetchone()
        return bool(row and row[0])

    async def due(self, conn: AsyncConnection[Any], limit: int) -> list[str]:
        """Lock and return queued messages that need a delivery job (inside `conn`'s transaction)."""
        cur = await conn.execute(_DUE, {"limit": limit})
        return [str(r[0]) for r in await cur.fetchall()]

    async def link(self, conn: AsyncConnection[Any], notification_id: str, job_id: int) -> None:
        await conn.execute(
            "UPDATE catalog.notifications SET queue_job_id = %s, updated_at = now() WHERE id = %s AND state = 'queued'",
            (job_id, notification_id),
        )

    async def begin_attempt(self, notification_id: str) -> Attempt | None:
        """Count an attempt on a queued message (not when the candidate opted out meanwhile: nothing is sent);
        None when it is no longer queued (or gone)."""
        query: LiteralString = """
            UPDATE catalog.notifications n SET attempts = n.attempts + CASE WHEN c.email_opt_out THEN 0 ELSE 1 END,
                   last_attempt_at = now(),
                   updated_at = now()
              FROM catalog.candidates c
             WHERE n.id = %(id)s AND n.state = 'queued' AND c.id = n.candidate_id
            RETURNING n.id::text AS id, n.recipient, n.subject, n.body, n.attempts, c.email_opt_out AS opted_out
        """
        async with self._pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(query, {"id": notification_id})
            row = await cur.fetchone()
        return None if row is None else Attempt(**row)

    async def _finish(self, notification_id: str, query: LiteralString, params: dict[str, Any]) -> bool:
        async with self._pool.connection() as conn:
            cur = await conn.execute(query, {"id": notification_id, **params})
            return bool(cur.rowcount > 0)

    async def sent(self, notification_id: str) -> bool:
        return await self._finish(
            notification_id,
            """
            UPDATE catalog.notifications SET state = 'sent', sent_at = now(), error = '', updated_at = now()
             WHERE id = %(id)s AND state = 'queued'""",
            {},
        )

    async def retry_later(self, notification_id: str, error: str) -> bool:
        """Keep it queued, with the error of the attempt that just failed."""
        return await self._finish(
            notification_id,
            """
            UPDATE catalog.notifications SET error = %(error)s, updated_at = now()
             WHERE id = %(id)s AND state = 'queued'""",
            {"error": error[:MAX_ERROR]},
        )

    async def failed(self, notification_id: str, error: str) -> bool:
        return await self._finish(
            notification_id,
            """
            UPDATE catalog.notifications SET state = 'failed', error = %(error)s, updated_at = now()
             WHERE id = %(id)s AND state = 'queued'""",
            {"error": error[:MAX_ERROR]},
        )

    async def skipped(self, notification_id: str, reason: str) -> bool:
        return await self._finish(
            notification_id,
            """
            UPDATE catalog.notifications SET state = 'skipped', error = %(error)s, updated_at = now()
             WHERE id = %(id)s AND state = 'queued'""",
            {"error": reason[:MAX_ERROR]},
        )

    async def reopen(self, notification_id: str) -> bool:
        """A failed message queued again with fresh attempts (the monitor's retry; search_svc's resend)."""
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                "UPDATE catalog.notifications SET state = 'queued', attempts = 0, queue_job_id = NULL, "
                "error = 'retry requested; last error: ' || left(error, 900), updated_at = now() "
                "WHERE id = %s AND state = 'failed'",
                (notification_id,),
            )
            if cur.rowcount:
                await conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, notification_id))
            return bool(cur.rowcount > 0)

    async def errors(self, ids: Sequence[str]) -> dict[str, str]:
        """id -> last error of these messages (for the task monitor); {} when the table is absent."""
        if not ids or not await self.available():
            return {}
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                "SELECT id::text, error FROM catalog.notifications WHERE id = ANY(%s::uuid[])", (list(ids),)
            )
            return {str(i): str(e) for i, e in await cur.fetchall()}

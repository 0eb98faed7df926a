"""Gateway operations mirrored in PostgreSQL, so that every gateway replica can answer for every operation.

The replica that runs an operation owns it in memory (gateway/operations.py) and records each state here
(one writer task, latest state per operation wins, NOTIFY after each write) and bumps `heartbeat_at` while
it runs. Other replicas read the row for `GET /operations/{id}` and follow it for WebSocket watchers through
LISTEN. An unfinished operation whose heartbeat is older than `lost_after` is marked failed: the replica
running it is gone and nothing will finish it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from gateway.operations import Listener, Operation

log = logging.getLogger("hiremesh.gateway.operations")

CHANNEL = "hiremesh_gateway_operations"
KEEP = 1000  # finished operations kept in the table


class JournalUnavailable(Exception):
    """PostgreSQL, where operations of other replicas live, cannot be reached."""


def _unavailable(exc: Exception) -> JournalUnavailable:
    # The driver's text (hosts, users, SQL) is for the log, not for REST clients.
    log.warning("operations store unavailable: %s", str(exc).strip() or type(exc).__name__)
    return JournalUnavailable("the operations store (PostgreSQL) is unavailable")


LOST = {
    "message": "the gateway replica running this operation stopped before it finished",
    "status": "UNAVAILABLE",
    "code": 14,
    "http_status": 503,
}


def storable(value: Any) -> Any:
    """`value` with the characters PostgreSQL's text and jsonb cannot hold replaced by U+FFFD: NUL and lone
    surrogates. Both reach an operation from its caller (an uploaded file's name, a JSON string in a request)
    through a result or an error that quotes it."""
    if isinstance(value, str):
        if "\x00" in value:
            value = value.replace("\x00", "\ufffd")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            value = value.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
        return value
    if isinstance(value, dict):
        return {storable(k): storable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [storable(v) for v in value]
    return value


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _operation(row: dict[str, Any]) -> Operation:
    return Operation(
        id=row["id"],
        kind=row["kind"],
        owner=row["owner"],
        status=row["status"],
        progress=row["progress"],
        stage=row["stage"],
        message=row["message"],
        result=row["result"],
        error=row["error"],
        created_at=_iso(row["created_at"]),
        updated_at=_iso(row["updated_at"]),
    )


class OperationJournal:
    """Writes local operations' states, reads and follows any replica's operations."""

    def __init__(
        self,
        pool: AsyncConnectionPool,
        conninfo: str,
        *,
        running: Callable[[], Iterable[str]],
        heartbeat_s: float = 10.0,
        lost_after_s: float = 60.0,
    ) -> None:
        self._pool = pool
        self._conninfo = conninfo  # LISTEN needs a connection of its own, outside the pool
        self._running = running  # ids of the operations this replica is running now
        self._heartbeat_s = heartbeat_s
        self._lost_after_s = lost_after_s
        self._pending: dict[str, Operation] = {}
        self._wrote = asyncio.Event()
        self._written = asyncio.Event()  # set while every recorded state is in the table
        self._written.set()
        # Deliveries read the row and send it: one at a time, so a listener never gets an older state after
        # a newer one (reads made one after the other see the row only move forward).
        self.delivering = asyncio.Lock()
        self._followers: dict[str, set[Listener]] = {}
        self._delivered: dict[str, str] = {}  # op id -> updated_at last sent to its followers
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._write_loop(), name="operations journal writer"),
            asyncio.create_task(self._listen_loop(), name="operations journal listener"),
            asyncio.create_task(self._heartbeat_loop(), name="operations journal heartbeat"),
        ]

    # --- the running replica's side ------------------------------------------------------------------
    def record(self, op: Operation) -> None:
        """Queue `op`'s current state for writing (a newer state replaces one not yet written)."""
        self._pending[op.id] = Operation(
            op.id,
            op.kind,
            op.owner,
            op.status,
            op.progress,
            op.stage,
            op.message,
            op.result,
            op.error,
            op.created_at,
            op.updated_at,
        )
        self._written.clear()
        self._wrote.set()

    async def flush(self, timeout: float = 5.0) -> None:
        """Wait until every recorded state is written, including one being written now (or `timeout` passes)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._written.wait(), timeout)

    async def _write_loop(self) -> None:
        while True:
            await self._wrote.wait()
            self._wrote.clear()
            batch, self._pending = self._pending, {}
            try:
                await self._write(batch.values())
            except Exception as exc:  # the writer must outlive any one bad write
                log.warning("could not record %d operation state(s): %s", len(batch), exc)
                for op_id, op in batch.items():
                    self._pending.setdefault(op_id, op)  # retry unless a newer state came meanwhile
                await asyncio.sleep(1.0)
                self._wrote.set()
                continue
            if not self._pending:
                self._written.set()

    async def _write(self, ops: Iterable[Operation]) -> None:
        async with self._pool.connection() as conn, conn.transaction():
            for op in ops:
                try:
                    async with conn.transaction():  # a savepoint: one refused state never holds back the others
                        await self._write_one(conn, op)
                except psycopg.DataError as exc:
                    # PostgreSQL refuses this value and always will: retrying it would block every later
                    # state in the batch forever. The replica running it still answers for it from memory.
                    log.error(
                        "operation %s: state %s not recorded, PostgreSQL refuses it: %s",
                        op.id,
                        op.status,
                        str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__,
                    )

    @staticmethod
    async def _write_one(conn: psycopg.AsyncConnection[Any], op: Operation) -> None:
        await conn.execute(
            "INSERT INTO gateway.operations (id, kind, owner, status, progress, stage, message, result, error, "
            "created_at, updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, progress = EXCLUDED.progress, "
            "stage = EXCLUDED.stage, message = EXCLUDED.message, result = EXCLUDED.result, "
            "error = EXCLUDED.error, updated_at = EXCLUDED.updated_at, heartbeat_at = now()",
            (
                op.id,
                storable(op.kind),
                storable(op.owner),
                op.status,
                op.progress,
                storable(op.stage),
                storable(op.message),
                Jsonb(storable(op.result)) if op.result is not None else None,
                Jsonb(storable(op.error)) if op.error is not None else None,
                datetime.fromisoformat(op.created_at),
                datetime.fromisoformat(op.updated_at),
            ),
        )
        await conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, op.id))
        if op.status == "started":
            await conn.execute(
                "DELETE FROM gateway.operations WHERE id IN (SELECT id FROM gateway.operations "
                "WHERE status IN ('completed', 'failed') ORDER BY created_at DESC OFFSET %s)",
                (KEEP,),
            )

    # --- any replica's side ---------------------------------------------------------------------------
    async def load(self, op_id: str) -> Operation | None:
        """The operation's stored state; one whose replica stopped heart-beating is marked failed first."""
        try:
            return await self._load(op_id)
        except psycopg.Error as exc:
            raise _unavailable(exc) from exc

    async def _load(self, op_id: str) -> Operation | None:
        async with self._pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(
                "UPDATE gateway.operations SET status = 'failed', error = %s, updated_at = now() WHERE id = %s "
                "AND status IN ('started', 'progress') AND heartbeat_at < now() - make_interval(secs => %s) "
                "RETURNING id, kind, owner, status, progress, stage, message, result, error, created_at, updated_at",
                (Jsonb(LOST), op_id, self._lost_after_s),
            )
            row = await cur.fetchone()
            if row is None:
                await cur.execute(
                    "SELECT id, kind, owner, status, progress, stage, message, result, error, "
                    "created_at, updated_at FROM gateway.operations WHERE id = %s",
                    (op_id,),
                )
                row = await cur.fetchone()
            else:
                await cur.execute("SELECT pg_notify(%s, %s)", (CHANNEL, op_id))
        return _operation(row) if row is not None else None

    async def recent(self, limit: int) -> list[Operation]:
        try:
            async with self._pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
                await cur.execute(
                    "SELECT id, kind, owner, status, progress, stage, message, result, error, "
                    "created_at, updated_at FROM gateway.operations ORDER BY created_at DESC LIMIT %s",
                    (limit,),
                )
                return [_operation(row) for row in await cur.fetchall()]
        except psycopg.Error as exc:
            raise _unavailable(exc) from exc

    def follow(self, op_id: str, listener: Listener) -> None:
        self._followers.setdefault(op_id, set()).add(listener)

    def unfollow(self, op_id: str, listener: Listener) -> None:
        listeners = self._followers.get(op_id)
        if listeners is not None:
            listeners.discard(listener)
            if not listeners:
                self._drop(op_id)

    def _drop(self, op_id: str) -> None:
        self._followers.pop(op_id, None)
        self._delivered.pop(op_id, None)

    async def _deliver(self, op_id: str) -> None:
        async with self.delivering:
            if op_id not in self._followers:
                return
            op = await self.load(op_id)
            if op is None or self._delivered.get(op_id) == op.updated_at:
                return
            self._delivered[op_id] = op.updated_at
            message = op.update_message()
            for listener in list(self._followers.get(op_id, ())):
                listener(message)
            if op.done:
                self._drop(op_id)

    async def _listen_loop(self) -> None:
        backoff = 0.5
        while True:
            try:
                conn = await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True)
                async with conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    backoff = 0.5
                    for op_id in list(self._followers):  # what changed while we were not listening
                        await self._deliver(op_id)
                    async for notice in conn.notifies():
                        await self._deliver(notice.payload)
            except (psycopg.Error, OSError, JournalUnavailable) as exc:
                log.warning("operations listener lost its connection (%s); reconnecting", exc)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)

    async def _heartbeat_loop(self) -> None:
        while True:
            await asyncio.sleep(self._heartbeat_s)
            try:
                running = list(self._running())
                if running:
                    async with self._pool.connection() as conn:
                        await conn.execute(
                            "UPDATE gateway.operations SET heartbeat_at = now() WHERE id = ANY(%s)", (running,)
                        )
                for op_id in list(self._followers):  # a dead replica sends no NOTIFY: look for lost ones
                    await self._deliver(op_id)
            except (psycopg.Error, OSError, JournalUnavailable) as exc:
                log.warning("operations heartbeat failed: %s", exc)

    async def close(self) -> None:
        await self.flush()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

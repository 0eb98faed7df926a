"""Long-running backend streams (sync, training, export, import, reindex) run as gateway operations.

A trigger returns 202 at once with an `op_...` id; the stream runs in a task the registry owns, and its
progress reaches WebSocket watchers and `GET /api/v1/operations/{id}` in the same `task_update` shape
screening tasks use.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections import OrderedDict
from collections.abc import AsyncIterable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import grpc
from google.protobuf.message import Message

from gateway import metrics
from gateway.errors import ApiError, backend_error
from gateway.protojson import to_dict
from hiremesh.task_vocabulary import STARTED, TERMINAL_STATUSES

if TYPE_CHECKING:
    from gateway.operation_journal import OperationJournal

log = logging.getLogger("hiremesh.gateway.operations")

Listener = Callable[[dict[str, Any]], None]
OP_PREFIX = "op_"
_SHUTDOWN = {"message": "gateway shutting down", "status": "CANCELLED", "code": 1}


def now_iso() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


@dataclass
class Operation:
    id: str
    kind: str
    owner: str
    status: str = STARTED  # one of hiremesh.task_vocabulary.UPDATE_STATUSES
    progress: float = 0.0
    stage: str = ""
    message: str = ""
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    created_at: str = field(default_factory=now_iso)
    updated_at: str = field(default_factory=now_iso)
    listeners: set[Listener] = field(default_factory=set, repr=False)

    @property
    def done(self) -> bool:
        return self.status in TERMINAL_STATUSES

    def update_message(self) -> dict[str, Any]:
        return {
            "type": "task_update",
            "task_id": self.id,
            "kind": self.kind,
            "status": self.status,
            "progress": self.progress,
            "stage": self.stage,
            "message": self.message,
            "result": self.result,
            "error": self.error["message"] if self.error else None,
            "timestamp": self.updated_at,
        }

    def resource(self) -> dict[str, Any]:
        body = self.update_message()
        del body["type"]
        body.update(id=self.id, owner=self.owner, created_at=self.created_at, error_detail=self.error)
        return body


class Operations:
    """Registry of operations: starts them, keeps the latest `keep` finished ones, fans out updates.

    With a journal (a gateway with a database) every state is also recorded in PostgreSQL, and operations
    another replica runs are read and followed from there."""

    def __init__(self, keep: int = 200) -> None:
        self._ops: OrderedDict[str, Operation] = OrderedDict()
        self._tasks: set[asyncio.Task[None]] = set()
        self._keep = keep
        self.journal: OperationJournal | None = None

    def running(self) -> list[str]:
        return [op_id for op_id, op in self._ops.items() if not op.done]

    async def get(self, op_id: str) -> Operation | None:
        op = self._ops.get(op_id)
        if op is None and self.journal is not None:
            op = await self.journal.load(op_id)
        return op

    async def recent(self, limit: int = 50) -> list[Operation]:
        """The newest `limit` operations, newest first. With a journal: every replica's, and this replica's
        own in their current state, even before (or without) the journal having written it: the caller who
        just started an operation here finds it listed at once."""
        local = list(reversed(self._ops.values()))
        if self.journal is None:
            return local[:limit]
        merged = {op.id: op for op in await self.journal.recent(limit)}
        merged.update((op.id, op) for op in local)
        return sorted(merged.values(), key=lambda op: datetime.fromisoformat(op.created_at), reverse=True)[:limit]

    def start(self, kind: str, owner: str, stream: Callable[[], AsyncIterable[Any]], backend: str) -> Operation:
        op = Operation(id=OP_PREFIX + secrets.token_hex(8), kind=kind, owner=owner)
        self._ops[op.id] = op
        self._evict()
        if self.journal is not None:
            self.journal.record(op)
        task = asyncio.create_task(self._run(op, stream, backend), name=f"operation {op.id} {kind}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return op

    async def subscribe(self, op_id: str, listener: Listener) -> Operation | None:
        """Send the current state to `listener` at once, then every update; None for an unknown id."""
        op = self._ops.get(op_id)
        if op is not None:
            listener(op.update_message())
            if not op.done:
                op.listeners.add(listener)
            return op
        if self.journal is None:
            return None
        async with self.journal.delivering:  # no delivery between reading the state and following it
            op = await self.journal.load(op_id)
            if op is not None:
                listener(op.update_message())
                if not op.done:
                    self.journal.follow(op_id, listener)
        return op

    def unsubscribe(self, op_id: str, listener: Listener) -> None:
        op = self._ops.get(op_id)
        if op is not None:
            op.listeners.discard(listener)
        if self.journal is not None:
            self.journal.unfollow(op_id, listener)

    async def _run(self, op: Operation, stream: Callable[[], AsyncIterable[Any]], backend: str) -> None:
        last: Message | None = None
        try:
            async for reply in stream():
                last = reply
                progress = getattr(reply, "progress", None)
                if progress is not None and reply.HasField("progress"):
                    op.status = "progress"
                    op.progress = round(progress.percent, 2)
                    op.stage = progress.stage
                    op.message = progress.message
                    self._emit(op)
            op.result = _final(last)
            op.status, op.progress = "completed", 100.0
        except grpc.aio.AioRpcError as exc:
            err = backend_error(exc, backend)
            op.status, op.error = "failed", {"http_status": err.http_status, **err.body()}
        except ApiError as err:  # the gateway's own side of the work failed (e.g. an upload cut short)
            op.status, op.error = "failed", {"http_status": err.http_status, **err.body()}
        except asyncio.CancelledError:
            op.status, op.error = "failed", dict(_SHUTDOWN)
            self._emit(op)
            raise
        except Exception as exc:  # a bug must still end the operation, not leave watchers hanging
            log.exception("operation %s failed", op.id)
            op.status, op.error = (
                "failed",
                {"message": f"internal error: {type(exc).__name__}", "status": "INTERNAL", "code": 13},
            )
        metrics.OPERATIONS.labels(op.kind, op.status).inc()
        self._emit(op)
        op.listeners.clear()

    def _emit(self, op: Operation) -> None:
        op.updated_at = now_iso()
        if self.journal is not None:
            self.journal.record(op)
        message = op.update_message()
        for listener in list(op.listeners):
            listener(message)

    def _evict(self) -> None:
        while len(self._ops) > self._keep:
            oldest = next((k for k, v in self._ops.items() if v.done), None)
            if oldest is None:
                return
            del self._ops[oldest]

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for op in self._ops.values():
            if not op.done:  # cancelled before its task ever ran
                op.status, op.error = "failed", dict(_SHUTDOWN)
                self._emit(op)
        if self.journal is not None:
            await self.journal.close()  # after the cancelled operations recorded their last state


def _final(last: Message | None) -> dict[str, Any] | None:
    if last is None:
        return None
    body = to_dict(last)
    body.pop("progress", None)
    return body

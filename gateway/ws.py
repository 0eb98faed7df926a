"""`/ws/tasks/{task_id}`: live task progress as JSON messages, several tasks per socket.

Each watched screening task is its own `WatchScreeningTask` stream (current state first, so a client
that reconnects sees where the task is); `op_...` ids follow gateway operations (the caller's own, or any
for an admin). Messages go through a bounded per-client queue drained by one writer task, so a slow client
never blocks a stream another client shares: when its queue is full, stale progress updates of that client
are dropped (the latest state always survives) and a client that cannot even keep final updates is
disconnected.

A socket is its token's: it closes (4401) when the token expires, and when the token is revoked or its user
disabled (checked every auth cache period). Each user may hold `ws_per_user` sockets and
`ws_watches_per_user` watched tasks at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from collections import deque
from typing import Any

import grpc
from aiohttp import WSMsgType, web

from gateway import metrics
from gateway.auth import WS_PROTOCOL
from gateway.errors import ApiError, socket_error
from gateway.operation_journal import JournalUnavailable
from gateway.operations import OP_PREFIX, now_iso
from gateway.protojson import to_dict
from gateway.state import Gateway, gateway_of, principal_of
from gateway.tokens import Principal, Role
from hiremesh.task_vocabulary import COMPLETED, TERMINAL_STATUSES, update_status
from hiremesh.v1 import screening_pb2 as spb

log = logging.getLogger("hiremesh.gateway.ws")

_TERMINAL = TERMINAL_STATUSES
MAX_WATCHES = 64
_RETRY_CODES = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED}
CLOSE_AUTH = 4401  # application close code: the token stopped being valid


def screening_update(event: spb.ScreeningEvent) -> dict[str, Any]:
    state = spb.TaskState.Name(event.state).removeprefix("TASK_STATE_").lower()
    status = update_status(state)
    stage = spb.ScreeningStage.Name(event.stage).removeprefix("SCREENING_STAGE_").lower()
    return {
        "type": "task_update",
        "task_id": event.task_id,
        "kind": "screening",
        "status": status,
        "state": state,
        "progress": 100.0 if status == COMPLETED else round(event.percent, 2),
        "stage": "" if stage == "unspecified" else stage,
        "message": event.message,
        "result": to_dict(event.result) if event.HasField("result") else None,
        "error": event.error or None,
        "timestamp": event.time.ToJsonString() if event.HasField("time") else now_iso(),
    }


def _is_progress(message: dict[str, Any]) -> bool:
    return message.get("type") == "task_update" and message.get("status") not in _TERMINAL


class Client:
    """One socket: its outgoing queue, writer, and the watchers feeding it."""

    def __init__(self, gw: Gateway, ws: web.WebSocketResponse, user: str, principal: Principal | None = None) -> None:
        self.gw = gw
        self.ws = ws
        self.user = user
        self.principal = principal
        self.id = secrets.token_hex(6)
        self._queue: deque[dict[str, Any]] = deque()
        self._ready = asyncio.Event()
        self._limit = gw.config.ws_queue_size
        self.watchers: dict[str, asyncio.Task[None]] = {}
        self._closing = False

    def send(self, message: dict[str, Any]) -> None:
        """Queue `message` without waiting; drops stale progress when the client lags behind."""
        if self._closing:
            return
        if len(self._queue) >= self._limit and not self._drop_stale():
            if _is_progress(message):
                metrics.WS_DROPPED.inc()
                return
            # Even final updates pile up: this client is not reading at all.
            self._closing = True
            self._queue.clear()
            asyncio.get_running_loop().create_task(self.ws.close(code=1013, message=b"client too slow"))
            return
        self._queue.append(message)
        self._ready.set()

    def _drop_stale(self) -> bool:
        for i, queued in enumerate(self._queue):
            if _is_progress(queued):
                del self._queue[i]
                metrics.WS_DROPPED.inc()
                return True
        return False

    async def writer(self) -> None:
        while not self.ws.closed:
            await self._ready.wait()
            while self._queue:
                message = self._queue.popleft()
                await self.ws.send_str(json.dumps(message, separators=(",", ":")))
                metrics.WS_MESSAGES.labels(str(message.get("type"))).inc()
            self._ready.clear()

    def watch(self, task_id: str) -> None:
        if task_id in self.watchers and not self.watchers[task_id].done():
            return
        if len([t for t in self.watchers.values() if not t.done()]) >= MAX_WATCHES:
            self.send(
                {
                    "type": "error",
                    "task_id": task_id,
                    "code": 429,
                    "message": f"at most {MAX_WATCHES} tasks per connection",
                }
            )
            return
        limit = self.gw.config.ws_watches_per_user
        if not self.gw.quota.take(self.gw.quota.watches, self.user, limit):
            self.send(
                {"type": "error", "task_id": task_id, "code": 429, "message": f"at most {limit} watched tasks per user"}
            )
            return
        if task_id.startswith(OP_PREFIX):
            task = asyncio.create_task(self._follow_operation(task_id))
        else:
            task = asyncio.create_task(self._follow_screening(task_id))
        # Every watcher gives its share of the user's quota back when it ends, however it ends.
        task.add_done_callback(lambda _t: self.gw.quota.give_back(self.gw.quota.watches, self.user))
        self.watchers[task_id] = task

    def unwatch(self, task_id: str) -> None:
        task = self.watchers.pop(task_id, None)
        if task is not None:
            task.cancel()

    async def guard_token(self) -> None:
        """Close the socket when its token expires or is revoked (re-checked every auth cache period)."""
        principal = self.principal
        if principal is None:
            return
        period = max(self.gw.auth.cache_seconds, 1.0)
        while not self.ws.closed:
            wait = period
            if principal.expires_at is not None:
                wait = min(wait, max(principal.expires_at - time.time(), 0.0))
            await asyncio.sleep(wait)
            try:
                reason = await self.gw.auth.revoked(principal)
            except Exception:  # the user store is down: keep the socket, check again next period
                log.warning("cannot re-check a WebSocket's token; will retry")
                continue
            if reason:
                self._closing = True
                await self.ws.close(code=CLOSE_AUTH, message=reason.encode()[:120])
                return

    async def _follow_operation(self, op_id: str) -> None:
        done = asyncio.Event()

        def listener(message: dict[str, Any]) -> None:
            self.send(message)
            if message["status"] in _TERMINAL:
                done.set()

        try:
            visible = await self.gw.operations.get(op_id)
            if visible is not None and not may_see(self.principal, visible.owner):
                visible = None  # someone else's: as if it did not exist
            op = await self.gw.operations.subscribe(op_id, listener) if visible is not None else None
        except JournalUnavailable as exc:
            self.send({"type": "error", "task_id": op_id, "code": 503, "message": str(exc)})
            return
        if op is None:
            self.send({"type": "error", "task_id": op_id, "code": 404, "message": f"no operation {op_id!r}"})
            return
        try:
            await done.wait()
        finally:
            self.gw.operations.unsubscribe(op_id, listener)

    async def _follow_screening(self, task_id: str) -> None:
        backoff = 0.5
        for _attempt in range(6):
            try:
                stream = self.gw.backends.screening.WatchScreeningTask(
                    spb.WatchScreeningTaskRequest(id=task_id), timeout=self.gw.config.operation_timeout
                )
                async for reply in stream:
                    update = screening_update(reply.event)
                    update["task_id"] = update["task_id"] or task_id
                    self.send(update)
                    backoff = 0.5
                    if update["status"] in _TERMINAL:
                        return
                return
            except grpc.aio.AioRpcError as exc:
                if exc.code() not in _RETRY_CODES:
                    self.send(socket_error(exc, "screening", task_id=task_id))
                    return
                # The screening service restarted: re-watch; its first message is the current state again.
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 8.0)
        self.send(
            {
                "type": "error",
                "task_id": task_id,
                "code": 503,
                "status": "UNAVAILABLE",
                "message": "screening service unavailable; poll GET /api/v1/screenings/{id}",
            }
        )

    async def handle(self, raw: str) -> None:
        try:
            message = json.loads(raw)
        except (json.JSONDecodeError, RecursionError):  # 64 KB of "[[[[..." is a caller's mistake too
            self.send({"type": "error", "code": 400, "message": "messages must be JSON objects"})
            return
        if not isinstance(message, dict):
            self.send({"type": "error", "code": 400, "message": "messages must be JSON objects"})
            return
        action = message.get("action") or message.get("type")
        task_id = message.get("task_id")
        if action == "ping":
            self.send({"type": "pong", "timestamp": now_iso()})
        elif action in ("watch", "unwatch") and isinstance(task_id, str) and 0 < len(task_id) <= 128:
            if action == "watch":
                self.watch(task_id)
            else:
                self.unwatch(task_id)
        else:
            self.send(
                {"type": "error", "code": 400, "message": "expected {action: watch|unwatch, task_id} or {action: ping}"}
            )

    async def close(self) -> None:
        self._closing = True
        for task in self.watchers.values():
            task.cancel()
        for task in self.watchers.values():
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


def may_see(principal: Principal | None, owner: str) -> bool:
    """Operations are their owner's (they can name server paths); admins see every one."""
    return principal is None or principal.role >= Role.ADMIN or principal.user == owner


async def tasks_socket(request: web.Request) -> web.WebSocketResponse:
    gw = gateway_of(request)
    principal = principal_of(request)
    if not gw.quota.take(gw.quota.sockets, principal.user, gw.config.ws_per_user):
        raise ApiError(429, f"at most {gw.config.ws_per_user} WebSockets per user; close one first")
    try:
        return await _serve_socket(request, gw, principal)
    finally:
        gw.quota.give_back(gw.quota.sockets, principal.user)


async def _serve_socket(request: web.Request, gw: Gateway, principal: Principal) -> web.WebSocketResponse:
    ws = web.WebSocketResponse(heartbeat=gw.config.ws_heartbeat, protocols=(WS_PROTOCOL,), max_msg_size=64 * 1024)
    await ws.prepare(request)
    client = Client(gw, ws, principal.user, principal)
    metrics.WS_CONNECTIONS.inc()
    writer = asyncio.create_task(client.writer())
    token_guard = asyncio.create_task(client.guard_token())
    first = request.match_info.get("task_id")
    client.send(
        {
            "type": "connection",
            "status": "connected",
            "client_id": client.id,
            "user": client.user,
            "task_id": first,
            "timestamp": now_iso(),
        }
    )
    if first:
        client.watch(first)
    try:
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                await client.handle(msg.data)
            elif msg.type == WSMsgType.ERROR:
                break
    finally:
        metrics.WS_CONNECTIONS.dec()
        token_guard.cancel()
        await client.close()
        writer.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionError, Exception):
            await writer
    return ws

"""`/ws/queue`: the task queue live, one JSON snapshot per change, for the task-queue page.

Each socket follows its own `WatchTaskQueue` stream (filters from the query string, as on GET
/api/v1/task-queue), so a slow browser only slows its own stream. When screening_svc restarts the socket
re-watches with back-off; the first message after that is the current snapshot again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

import grpc
from aiohttp import WSMsgType, web

from gateway import metrics
from gateway.api_mail import QUEUE_FILTERS
from gateway.auth import WS_PROTOCOL
from gateway.errors import socket_error
from gateway.operations import now_iso
from gateway.protojson import apply_query, to_dict
from gateway.state import Gateway, gateway_of
from hiremesh.v1 import screening_pb2 as spb

log = logging.getLogger("hiremesh.gateway.ws_queue")

WATCH_FILTERS = {**QUEUE_FILTERS, "interval_s": "interval_s"}
_RETRY_CODES = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED}
_ATTEMPTS = 8


async def _send(ws: web.WebSocketResponse, message: dict[str, Any]) -> None:
    await ws.send_str(json.dumps(message, separators=(",", ":")))
    metrics.WS_MESSAGES.labels(str(message.get("type"))).inc()


async def _follow(gw: Gateway, ws: web.WebSocketResponse, request: spb.WatchTaskQueueRequest) -> None:
    backoff = 0.5
    failures = 0
    while failures < _ATTEMPTS and not ws.closed:
        try:
            async for reply in gw.backends.screening.WatchTaskQueue(request, timeout=gw.config.operation_timeout):
                await _send(ws, {"type": "queue_snapshot", "snapshot": to_dict(reply.snapshot)})
                failures, backoff = 0, 0.5
        except grpc.aio.AioRpcError as exc:
            if exc.code() not in _RETRY_CODES:
                await _send(ws, socket_error(exc, "screening"))
                return
            failures += 1
        await asyncio.sleep(backoff)
        backoff = min(backoff * 2, 8.0)
    if not ws.closed:
        await _send(
            ws,
            {
                "type": "error",
                "code": 503,
                "status": "UNAVAILABLE",
                "message": "screening service unavailable; poll GET /api/v1/task-queue",
            },
        )


async def queue_socket(request: web.Request) -> web.WebSocketResponse:
    gw = gateway_of(request)
    watch = spb.WatchTaskQueueRequest()
    apply_query(request.query, watch, WATCH_FILTERS)  # a bad filter is a 400 before the upgrade
    ws = web.WebSocketResponse(heartbeat=gw.config.ws_heartbeat, protocols=(WS_PROTOCOL,), max_msg_size=4096)
    await ws.prepare(request)
    metrics.WS_CONNECTIONS.inc()
    await _send(ws, {"type": "connection", "status": "connected", "timestamp": now_iso()})
    follower = asyncio.create_task(_follow(gw, ws, watch))
    try:
        async for msg in ws:
            if msg.type == WSMsgType.TEXT and msg.data.strip() in ('{"action":"ping"}', "ping"):
                await _send(ws, {"type": "pong", "timestamp": now_iso()})
            elif msg.type == WSMsgType.ERROR:
                break
    finally:
        metrics.WS_CONNECTIONS.dec()
        follower.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionError, Exception):
            await follower
    return ws

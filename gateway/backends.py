"""The gateway's gRPC channels to the services, deadlines from the request, and error mapping."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc
from aiohttp import web
from grpc_health.v1 import health_pb2, health_pb2_grpc

from gateway.config import BackendAddrs
from gateway.errors import ApiError, backend_error, bad_request
from hiremesh.clients import channel
from hiremesh.config import HEALTH_NAMES
from hiremesh.v1 import (
    analytics_pb2_grpc,
    guardrail_pb2_grpc,
    screening_pb2_grpc,
    search_pb2_grpc,
)

R = TypeVar("R")

DEADLINE_KEY = web.RequestKey("deadline", float)
REQUEST_ID_KEY = web.RequestKey("request_id", str)

_GRPC_TIMEOUT = re.compile(r"^(\d{1,8})([HMSmun])$")
_GRPC_UNITS = {"H": 3600.0, "M": 60.0, "S": 1.0, "m": 1e-3, "u": 1e-6, "n": 1e-9}
_HTTP_TIMEOUT = re.compile(r"^(\d+(?:\.\d+)?)\s*(ms|s)?$")


class Backends:
    """One channel per service (created once, closed on shutdown) and typed async stubs on them."""

    def __init__(self, addrs: BackendAddrs) -> None:
        self.addrs = addrs
        self._channels: dict[str, grpc.aio.Channel] = {
            name: channel(getattr(addrs, name)) for name in ("search", "screening", "guardrail", "analytics")
        }
        self.search = search_pb2_grpc.SearchServiceStub(self._channels["search"])
        self.screening = screening_pb2_grpc.ScreeningServiceStub(self._channels["screening"])
        self.guardrail = guardrail_pb2_grpc.GuardrailServiceStub(self._channels["guardrail"])
        self.analytics = analytics_pb2_grpc.AnalyticsServiceStub(self._channels["analytics"])

    async def readiness(self, timeout: float = 2.0) -> dict[str, str]:
        """Health status of every backend, checked concurrently (name -> SERVING / NOT_SERVING / ...)."""

        async def one(name: str) -> str:
            stub = health_pb2_grpc.HealthStub(self._channels[name])
            try:
                reply = await stub.Check(health_pb2.HealthCheckRequest(service=HEALTH_NAMES[name]), timeout=timeout)
            except grpc.aio.AioRpcError as exc:
                return "UNREACHABLE" if exc.code() != grpc.StatusCode.NOT_FOUND else "SERVICE_UNKNOWN"
            return str(health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status))

        names = list(self._channels)
        statuses = await asyncio.gather(*(one(name) for name in names))
        return dict(zip(names, statuses, strict=True))

    async def close(self) -> None:
        await asyncio.gather(*(ch.close(None) for ch in self._channels.values()))


def parse_timeout(request: web.Request, default: float, maximum: float) -> float:
    """Seconds the caller allows: `X-Request-Timeout` (`2.5`, `500ms`, `5s`) or `grpc-timeout` (`5S`, `100m`)."""
    raw = request.headers.get("X-Request-Timeout")
    if raw is not None:
        match = _HTTP_TIMEOUT.match(raw.strip())
        if not match:
            raise bad_request("X-Request-Timeout", f"expected seconds such as 2.5, 500ms or 5s, got {raw!r}")
        seconds = float(match.group(1)) * (1e-3 if match.group(2) == "ms" else 1.0)
    elif (raw := request.headers.get("grpc-timeout")) is not None:
        match = _GRPC_TIMEOUT.match(raw.strip())
        if not match:
            raise bad_request("grpc-timeout", f"expected <digits><H|M|S|m|u|n>, got {raw!r}")
        seconds = int(match.group(1)) * _GRPC_UNITS[match.group(2)]
    else:
        return default
    if seconds <= 0:
        raise bad_request("X-Request-Timeout", "must be positive")
    return min(seconds, maximum)


def remaining(request: web.Request) -> float:
    """Seconds left of the request's deadline (set by the middleware); 504 when none is left."""
    deadline = request.get(DEADLINE_KEY)
    if deadline is None:
        return 30.0
    left = float(deadline) - asyncio.get_running_loop().time()
    if left <= 0:
        raise ApiError(504, "request deadline exceeded before the backend call", code=grpc.StatusCode.DEADLINE_EXCEEDED)
    return left


def metadata(request: web.Request) -> tuple[tuple[str, str], ...]:
    request_id = request.get(REQUEST_ID_KEY)
    return (("x-request-id", str(request_id)),) if request_id else ()


async def call(request: web.Request, backend: str, method: Callable[..., Awaitable[R]], message: Any) -> R:
    """A unary call with the request's remaining deadline; gRPC errors become `ApiError`s."""
    try:
        return await method(message, timeout=remaining(request), metadata=metadata(request))
    except grpc.aio.AioRpcError as exc:
        raise backend_error(exc, backend) from None

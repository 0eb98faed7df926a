"""gRPC health probing, shared by `hiremesh probe`, `hiremesh up`/`status` and the tests."""

from __future__ import annotations

import asyncio
import time

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from hiremesh.clients import channel


async def check(addr: str, service: str = "", timeout: float = 2.0) -> str:
    """Return the health status name of `service` at `addr` ("SERVING", "NOT_SERVING", "UNREACHABLE", ...)."""
    async with channel(addr) as chan:
        stub = health_pb2_grpc.HealthStub(chan)
        try:
            reply = await stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=timeout)
        except grpc.aio.AioRpcError as exc:
            if exc.code() == grpc.StatusCode.NOT_FOUND:
                return "SERVICE_UNKNOWN"
            return "UNREACHABLE"
    return str(health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status))


async def wait_serving(addr: str, service: str = "", timeout: float = 120.0, alive: object = None) -> None:
    """Poll until `service` at `addr` is SERVING; TimeoutError with the last status otherwise.

    `alive`, when given, is a callable returning False once the process behind `addr` died, so a crash
    fails fast instead of waiting out the timeout.
    """
    deadline = time.monotonic() + timeout
    status = "UNREACHABLE"
    while time.monotonic() < deadline:
        if callable(alive) and not alive():
            raise RuntimeError(f"process serving {addr} exited while starting (last status {status})")
        status = await check(addr, service, timeout=2.0)
        if status == "SERVING":
            return
        await asyncio.sleep(0.2)
    raise TimeoutError(f"{service or addr} not SERVING after {timeout:.0f}s (last status {status})")

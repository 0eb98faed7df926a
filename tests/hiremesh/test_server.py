"""MeshServer in-process: health, reflection, error mapping, metrics, graceful stop."""

from __future__ import annotations

import asyncio
import urllib.request
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from hiremesh import errors
from hiremesh.clients import channel
from hiremesh.server import MeshServer
from hiremesh.v1 import embedding_pb2, embedding_pb2_grpc

SERVICE = "hiremesh.v1.EmbeddingService"


class _Failing(embedding_pb2_grpc.EmbeddingServiceServicer):
    """Raises the domain error named by the first text, to exercise the interceptor."""

    async def Embed(
        self, request: embedding_pb2.EmbedRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> embedding_pb2.EmbedResponse:
        kind = request.texts[0] if request.texts else ""
        if kind == "invalid":
            raise errors.InvalidArgument("texts[0]", "must not be empty")
        if kind == "missing":
            raise errors.NotFound("candidate 42 not found")
        if kind == "down":
            raise errors.Unavailable("database is down")
        if kind == "bug":
            raise ZeroDivisionError("boom")
        return embedding_pb2.EmbedResponse(model="ok")

    async def EmbedStream(
        self,
        request_iterator: AsyncIterator[embedding_pb2.EmbedStreamRequest],
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> AsyncIterator[embedding_pb2.EmbedStreamResponse]:
        async for item in request_iterator:
            if item.text == "invalid":
                raise errors.InvalidArgument("text", "bad stream item")
            yield embedding_pb2.EmbedStreamResponse(id=item.id)


@pytest.fixture
async def server() -> AsyncIterator[MeshServer]:
    srv = MeshServer("test", 0, [SERVICE], metrics_port=0, grace=1.0, reflection=True)
    # GetModelInfo is left out on purpose (abstract in the stubs): the generated base answers UNIMPLEMENTED.
    embedding_pb2_grpc.add_EmbeddingServiceServicer_to_server(_Failing(), srv.grpc)  # type: ignore[abstract]
    await srv.start()
    yield srv
    await srv.stop(0.5)


async def _health(addr: str, service: str) -> int:
    async with grpc.aio.insecure_channel(addr) as chan:
        reply = await health_pb2_grpc.HealthStub(chan).Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
        return int(reply.status)


async def test_health_starts_not_serving_then_serving(server: MeshServer) -> None:
    addr = f"127.0.0.1:{server.port}"
    assert await _health(addr, SERVICE) == health_pb2.HealthCheckResponse.NOT_SERVING
    server.set_serving(True)
    await asyncio.sleep(0.05)
    assert await _health(addr, SERVICE) == health_pb2.HealthCheckResponse.SERVING
    assert await _health(addr, "") == health_pb2.HealthCheckResponse.SERVING


async def test_reflection_lists_the_service(server: MeshServer) -> None:
    async with channel(f"127.0.0.1:{server.port}") as chan:
        stub = reflection_pb2_grpc.ServerReflectionStub(chan)
        call = stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]))
        names = []
        async for reply in call:
            names = [s.name for s in reply.list_services_response.service]
            break
    assert SERVICE in names
    assert "grpc.health.v1.Health" in names


@pytest.mark.parametrize(
    ("kind", "code", "fragment"),
    [
        ("invalid", grpc.StatusCode.INVALID_ARGUMENT, "texts[0]"),
        ("missing", grpc.StatusCode.NOT_FOUND, "candidate 42"),
        ("down", grpc.StatusCode.UNAVAILABLE, "database is down"),
        ("bug", grpc.StatusCode.INTERNAL, "internal error"),
    ],
)
async def test_domain_errors_become_status_codes(
    server: MeshServer, kind: str, code: grpc.StatusCode, fragment: str
) -> None:
    stub = embedding_pb2_grpc.EmbeddingServiceStub(channel(f"127.0.0.1:{server.port}"))
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.Embed(embedding_pb2.EmbedRequest(texts=[kind]), timeout=5)
    assert info.value.code() == code
    assert fragment in (info.value.details() or "")
    assert "Traceback" not in (info.value.details() or "")


async def test_stream_errors_are_mapped_too(server: MeshServer) -> None:
    stub = embedding_pb2_grpc.EmbeddingServiceStub(channel(f"127.0.0.1:{server.port}"))

    async def requests() -> AsyncIterator[embedding_pb2.EmbedStreamRequest]:
        yield embedding_pb2.EmbedStreamRequest(id="a", text="fine")
        yield embedding_pb2.EmbedStreamRequest(id="b", text="invalid")

    seen = []
    with pytest.raises(grpc.aio.AioRpcError) as info:
        async for reply in stub.EmbedStream(requests(), timeout=5):
            seen.append(reply.id)
    assert seen == ["a"]
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_metrics_count_calls_per_method(server: MeshServer) -> None:
    stub = embedding_pb2_grpc.EmbeddingServiceStub(channel(f"127.0.0.1:{server.port}"))
    await stub.Embed(embedding_pb2.EmbedRequest(texts=["hello"]), timeout=5)
    with pytest.raises(grpc.aio.AioRpcError):
        await stub.Embed(embedding_pb2.EmbedRequest(texts=["missing"]), timeout=5)
    url = f"http://127.0.0.1:{server.bound_metrics_port}/metrics"
    body = await asyncio.to_thread(lambda: urllib.request.urlopen(url, timeout=5).read().decode())
    method = "/hiremesh.v1.EmbeddingService/Embed"
    assert f'hiremesh_grpc_requests_total{{code="OK",method="{method}",service="test"}}' in body
    assert f'hiremesh_grpc_errors_total{{code="NOT_FOUND",method="{method}",service="test"}}' in body
    assert f'hiremesh_grpc_request_duration_seconds_count{{method="{method}",service="test"}}' in body

"""The gateway's error bodies: the status table, its own errors, and a backend's google.rpc details."""

from __future__ import annotations

from typing import Any

import grpc
import pytest

from gateway.errors import HTTP_STATUS, ApiError, backend_error, bad_request
from hiremesh.clients import channel
from hiremesh.errors import InvalidArgument
from hiremesh.server import MeshServer
from tests.fixtures.procs import free_port


@pytest.mark.parametrize(
    ("code", "status"),
    [
        (grpc.StatusCode.INVALID_ARGUMENT, 400),
        (grpc.StatusCode.NOT_FOUND, 404),
        (grpc.StatusCode.ALREADY_EXISTS, 409),
        (grpc.StatusCode.FAILED_PRECONDITION, 412),
        (grpc.StatusCode.RESOURCE_EXHAUSTED, 429),
        (grpc.StatusCode.UNAVAILABLE, 503),
        (grpc.StatusCode.DEADLINE_EXCEEDED, 504),
        (grpc.StatusCode.PERMISSION_DENIED, 403),
        (grpc.StatusCode.UNAUTHENTICATED, 401),
        (grpc.StatusCode.UNIMPLEMENTED, 501),
        (grpc.StatusCode.INTERNAL, 500),
        (grpc.StatusCode.CANCELLED, 499),
    ],
)
def test_grpc_codes_map_like_grpc_gateway(code: grpc.StatusCode, status: int) -> None:
    assert HTTP_STATUS[code] == status


def test_every_status_code_has_a_mapping() -> None:
    assert set(HTTP_STATUS) == set(grpc.StatusCode)


def test_error_body_has_code_message_details() -> None:
    body = bad_request("job.title", "must not be empty").body()
    assert body["code"] == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    assert body["status"] == "INVALID_ARGUMENT"
    assert body["message"] == "job.title: must not be empty"
    assert body["details"][0]["field_violations"][0]["field"] == "job.title"


def test_http_only_errors_get_a_matching_grpc_code() -> None:
    assert ApiError(413, "too big").code == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert ApiError(401, "who?").code == grpc.StatusCode.UNAUTHENTICATED


async def _failed_call(handler: Any, *, ours: bool) -> grpc.aio.AioRpcError:
    """A real call to a real server on 127.0.0.1 whose one method runs `handler` (ours: a MeshServer)."""
    method = grpc.method_handlers_generic_handler("test.Errors", {"Call": grpc.unary_unary_rpc_method_handler(handler)})
    mesh = MeshServer("search", 0, [], metrics_port=-1, grace=0.2) if ours else None
    server = mesh.grpc if mesh else grpc.aio.server()
    server.add_generic_rpc_handlers((method,))
    if mesh:
        port = await mesh.start()
    else:
        port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
    try:
        async with channel(f"127.0.0.1:{port}") as chan:
            with pytest.raises(grpc.aio.AioRpcError) as info:
                await chan.unary_unary("/test.Errors/Call", None, None)(b"", timeout=5)  # raw bytes both ways
        return info.value
    finally:
        await (mesh.stop(0.2) if mesh else server.stop(0))


async def test_a_backend_field_violation_comes_from_its_bad_request_detail() -> None:
    async def invalid(request: bytes, context: Any) -> bytes:
        raise InvalidArgument("job.title", "must not be empty")

    err = backend_error(await _failed_call(invalid, ours=True), "search")
    assert err.http_status == 400
    assert err.body() == {
        "code": 3,
        "status": "INVALID_ARGUMENT",
        "message": "job.title: must not be empty",
        "details": [
            {
                "@type": "type.googleapis.com/google.rpc.BadRequest",
                "field_violations": [{"field": "job.title", "description": "must not be empty"}],
            },
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "FIELD_INVALID",
                "domain": "hiremesh.dev",
                "metadata": {"service": "search"},
            },
        ],
    }


async def test_a_message_that_looks_like_a_field_invents_no_violation() -> None:
    # No regex reads field names out of messages any more: without a BadRequest detail there is no field.
    async def plain(request: bytes, context: grpc.aio.ServicerContext[Any, Any]) -> bytes:
        await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "foo: bar")

    err = backend_error(await _failed_call(plain, ours=False), "search")
    assert err.http_status == 400 and err.message == "foo: bar"
    assert not [d for d in err.details if "field_violations" in d]
    assert [d["reason"] for d in err.details] == ["REQUEST_INVALID"]


async def test_a_backend_that_cannot_be_reached_is_503_naming_it() -> None:
    async with channel(f"127.0.0.1:{free_port()}") as chan:
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await chan.unary_unary("/test.Errors/Call", None, None)(b"", timeout=2)  # raw bytes both ways
    err = backend_error(info.value, "search")
    assert err.http_status == 503 and err.headers == {"Retry-After": "1"}
    assert err.message.startswith("search service unavailable: ")
    assert err.details == [
        {
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": "BACKEND_UNAVAILABLE",
            "domain": "hiremesh.dev",
            "metadata": {"backend": "search"},
        }
    ]

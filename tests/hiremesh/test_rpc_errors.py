"""The one error mapping, round trip over real gRPC: domain error -> google.rpc.Status -> trailers -> domain error.

Servers are real grpc.aio servers on 127.0.0.1 (MeshServer, so the real error interceptor, with a generic
handler); clients are real channels, so every AioRpcError here is one gRPC itself built from the wire.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
import pytest
import pytest_asyncio
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from hiremesh import errors, rpc_errors
from hiremesh.clients import channel
from hiremesh.server import MeshServer
from tests.fixtures.procs import REPO, free_port

SERVICE = "test.Errors"
Handler = Callable[[bytes, grpc.aio.ServicerContext[Any, Any]], Awaitable[bytes]]


@pytest_asyncio.fixture(loop_scope="session")
async def serve() -> AsyncIterator[Callable[[str, Handler], Awaitable[str]]]:
    """Starts a MeshServer named `name` whose one method `/test.Errors/Call` runs `handler`; yields its address."""
    servers: list[MeshServer] = []

    async def start(name: str, handler: Handler) -> str:
        server = MeshServer(name, 0, [SERVICE], metrics_port=-1, grace=0.2)
        method = grpc.unary_unary_rpc_method_handler(handler)
        server.grpc.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, {"Call": method}),))
        await server.start()
        servers.append(server)
        return f"127.0.0.1:{server.port}"

    yield start
    for server in servers:
        await server.stop(0.2)


async def call(addr: str, payload: bytes = b"", timeout: float = 5.0) -> grpc.aio.AioRpcError:
    async with channel(addr) as chan:  # sends the session's service credential
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await chan.unary_unary(f"/{SERVICE}/Call", None, None)(payload, timeout=timeout)  # raw bytes both ways
    return info.value


def raising(err: BaseException) -> Handler:
    async def handler(request: bytes, context: grpc.aio.ServicerContext[Any, Any]) -> bytes:
        raise err

    return handler


EXAMPLES = [
    errors.InvalidArgument("options.top_k", "must be between 1 and 100"),
    errors.InvalidArgument("", "give application_id, or candidate_id and job_id"),
    errors.NotFound("candidate 42 not found"),
    errors.AlreadyExists("user 'rita' already exists", metadata={"user": "rita"}),
    errors.FailedPrecondition("search is reindexing", reason="NOT_READY"),
    errors.ResourceExhausted("guardrail busy: 64 calls pending"),
    errors.Aborted("the application changed; retry"),
    errors.PermissionDenied("admins only"),
    errors.Unimplemented("no such option"),
    errors.DataLoss("a vector is missing"),
]


@pytest.mark.parametrize("err", EXAMPLES, ids=lambda e: f"{type(e).__name__}-{e.reason}")
async def test_a_domain_error_survives_the_wire(
    serve: Callable[[str, Handler], Awaitable[str]], err: errors.HiremeshError
) -> None:
    exc = await call(await serve("origin", raising(err)))
    assert exc.code() == err.code and exc.details() == err.message  # what humans read is unchanged
    back = rpc_errors.from_rpc_error(exc, backend="origin")
    assert type(back) is type(err)
    assert (back.code, back.message, back.reason, back.domain) == (err.code, err.message, err.reason, "hiremesh.dev")
    assert back.metadata == {**err.metadata, "service": "origin"}
    if isinstance(err, errors.InvalidArgument):
        assert isinstance(back, errors.InvalidArgument)
        assert (back.field, back.description) == (err.field, err.description)


async def test_the_trailer_is_a_standard_google_rpc_status(serve: Callable[[str, Handler], Awaitable[str]]) -> None:
    exc = await call(await serve("search", raising(errors.InvalidArgument("job.title", "must not be empty"))))
    # grpc-stubs: an AioRpcError is no grpc.Call, though it has the code/details/trailers from_call reads
    status = rpc_status.from_call(exc)  # type: ignore[arg-type]  # grpc's own reader accepts it (code and message agree)
    assert status is not None and status.code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    bad, info = error_details_pb2.BadRequest(), error_details_pb2.ErrorInfo()
    assert status.details[0].Unpack(bad) and status.details[1].Unpack(info)
    assert [(v.field, v.description) for v in bad.field_violations] == [("job.title", "must not be empty")]
    assert (info.reason, info.domain, dict(info.metadata)) == ("FIELD_INVALID", "hiremesh.dev", {"service": "search"})


async def test_a_field_survives_two_hops(serve: Callable[[str, Handler], Awaitable[str]]) -> None:
    search = await serve("search", raising(errors.InvalidArgument("options.top_k", "must be at most 100")))

    async def forwards(request: bytes, context: grpc.aio.ServicerContext[Any, Any]) -> bytes:
        raise await call(search)  # the failed call escapes the handler as it is

    async def maps(request: bytes, context: grpc.aio.ServicerContext[Any, Any]) -> bytes:
        raise rpc_errors.from_rpc_error(await call(search), backend="search")

    for middle in (await serve("screening", forwards), await serve("screening", maps)):
        back = rpc_errors.from_rpc_error(await call(middle), backend="screening")
        assert isinstance(back, errors.InvalidArgument)
        assert back.field == "options.top_k" and back.message == "options.top_k: must be at most 100"
        assert back.reason == "FIELD_INVALID" and back.metadata == {"service": "search"}  # who raised it


async def test_a_backend_down_is_unavailable_naming_it() -> None:
    exc = await call(f"127.0.0.1:{free_port()}", timeout=2)  # nothing listens: no details at all
    back = rpc_errors.from_rpc_error(exc, backend="search", during="fetching the job 7")
    assert isinstance(back, errors.Unavailable)
    assert back.message.startswith("search service unavailable while fetching the job 7: ")
    assert back.reason == "BACKEND_UNAVAILABLE" and back.metadata == {"backend": "search"}
    assert rpc_errors.is_retryable(exc) and rpc_errors.is_retryable(back)


async def test_a_backend_that_answers_unavailable_keeps_its_reason(
    serve: Callable[[str, Handler], Awaitable[str]],
) -> None:
    exc = await call(await serve("embedding", raising(errors.Unavailable("model loading", reason="NOT_READY"))))
    back = rpc_errors.from_rpc_error(exc, backend="embedding")
    assert isinstance(back, errors.Unavailable) and back.message == "embedding service unavailable: model loading"
    assert back.reason == "NOT_READY" and back.metadata == {"service": "embedding", "backend": "embedding"}


async def test_a_slow_backend_is_deadline_exceeded_naming_it(serve: Callable[[str, Handler], Awaitable[str]]) -> None:
    async def slow(request: bytes, context: grpc.aio.ServicerContext[Any, Any]) -> bytes:
        await asyncio.sleep(5)
        return b""

    back = rpc_errors.from_rpc_error(await call(await serve("search", slow), timeout=0.2), backend="search")
    assert isinstance(back, errors.DeadlineExceeded) and back.message.startswith("search service did not answer")
    assert back.reason == "BACKEND_DEADLINE_EXCEEDED" and back.metadata["backend"] == "search"


async def test_unhandled_and_database_errors_carry_error_info(serve: Callable[[str, Handler], Awaitable[str]]) -> None:
    bug = rpc_errors.from_rpc_error(await call(await serve("t", raising(ZeroDivisionError("boom")))), backend="t")
    assert isinstance(bug, errors.Internal) and bug.reason == "INTERNAL" and "boom" not in bug.message
    down = rpc_errors.from_rpc_error(await call(await serve("t", raising(ConnectionRefusedError()))), backend="t")
    assert isinstance(down, errors.Unavailable) and down.reason == "DATABASE_UNAVAILABLE"


async def test_a_long_message_arrives_whole_and_the_details_stay_small(
    serve: Callable[[str, Handler], Awaitable[str]],
) -> None:
    # Message + a full copy in the trailer would pass gRPC's metadata limit: the caller would get only
    # RESOURCE_EXHAUSTED "received metadata size exceeds ...".
    err = errors.InvalidArgument("resume.content", "x" * 4000)
    exc = await call(await serve("search", raising(err)))
    assert exc.code() == grpc.StatusCode.INVALID_ARGUMENT and exc.details() == err.message
    back = rpc_errors.from_rpc_error(exc, backend="search")
    assert isinstance(back, errors.InvalidArgument) and back.field == "resume.content"
    assert back.message == err.message and len(back.description.encode()) <= rpc_errors.MAX_DETAIL_BYTES + 3


def test_clipping_never_cuts_a_character() -> None:
    status = rpc_errors.to_status(errors.InvalidArgument("name", "é" * 600))
    bad = error_details_pb2.BadRequest()
    assert status.details[0].Unpack(bad)
    description = bad.field_violations[0].description
    assert description == "é" * (rpc_errors.MAX_DETAIL_BYTES // 2) + "…"
    assert status.message.startswith("name: é") and status.message.endswith("…")


async def test_a_status_without_details_invents_no_field() -> None:
    # A plain grpc server (not ours) whose message only looks like "field: description".
    async def plain(request: bytes, context: grpc.aio.ServicerContext[Any, Any]) -> bytes:
        await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "job.title: must not be empty")

    server = grpc.aio.server()
    method = grpc.unary_unary_rpc_method_handler(plain)
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, {"Call": method}),))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        back = rpc_errors.from_rpc_error(await call(f"127.0.0.1:{port}"), backend="foreign")
    finally:
        await server.stop(0)
    assert isinstance(back, errors.InvalidArgument)
    assert back.field == "" and back.message == "job.title: must not be empty" and back.reason == "REQUEST_INVALID"
    assert [d.TypeName() for d in rpc_errors.to_status(back).details] == ["google.rpc.ErrorInfo"]


def test_reasons_are_upper_snake_case_and_catalogued() -> None:
    for reason in errors.REASONS:
        assert errors.valid_reason(reason), reason
    defaults = {cls.reason for cls in errors.ERROR_FOR_CODE.values()} | {"REQUEST_INVALID"}
    assert defaults <= set(errors.REASONS)
    assert set(errors.ERROR_FOR_CODE) == set(grpc.StatusCode) - {grpc.StatusCode.OK}
    with pytest.raises(ValueError, match="UPPER_SNAKE_CASE"):
        errors.NotFound("x", reason="not-found")


def test_every_reason_the_code_names_is_catalogued() -> None:
    named = set()
    for package in (
        "hiremesh",
        "embedding_svc",
        "search_svc",
        "screening_svc",
        "guardrail_svc",
        "analytics_svc",
        "gateway",
    ):
        for path in (REPO / package).rglob("*.py"):
            named |= set(re.findall(r'reason="([A-Z_]+)"', path.read_text()))
    assert named and named <= set(errors.REASONS), named - set(errors.REASONS)


@pytest.mark.parametrize(
    ("err", "retry"),
    [
        (errors.Unavailable("down"), True),
        (errors.DeadlineExceeded("slow"), True),
        (errors.ResourceExhausted("full"), True),
        (errors.Aborted("raced"), True),
        (TimeoutError(), True),
        (errors.InvalidArgument("f", "bad"), False),
        (errors.NotFound("gone"), False),
        (ValueError("bug"), False),
    ],
)
def test_is_retryable(err: BaseException, retry: bool) -> None:
    assert rpc_errors.is_retryable(err) is retry

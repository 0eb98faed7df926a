"""A message over the 32 MB limit is refused with RESOURCE_EXHAUSTED, and the service keeps serving."""

from __future__ import annotations

import grpc
import pytest
from grpc_health.v1 import health_pb2

from hiremesh.clients import interceptors
from hiremesh.server import MAX_MESSAGE_BYTES
from hiremesh.service_auth import load_token
from hiremesh.v1 import embedding_pb2, guardrail_pb2, screening_pb2, search_pb2
from hiremesh_ops.probe import check

pytestmark = pytest.mark.asyncio(loop_scope="session")

OVER = MAX_MESSAGE_BYTES + 1024 * 1024


def _big_requests() -> dict[str, list[tuple[str, bytes]]]:
    """Per service: (full method, serialized request just over the limit) — a real RPC and the health check."""
    big = "x" * OVER
    health = ("/grpc.health.v1.Health/Check", health_pb2.HealthCheckRequest(service=big).SerializeToString())
    return {
        "embedding": [
            health,
            ("/hiremesh.v1.EmbeddingService/Embed", embedding_pb2.EmbedRequest(texts=[big]).SerializeToString()),
        ],
        "search": [
            health,
            (
                "/hiremesh.v1.SearchService/CreateCandidate",
                search_pb2.CreateCandidateRequest(
                    resume=search_pb2.ResumeFile(file_name="big.txt", content=big.encode())
                ).SerializeToString(),
            ),
        ],
        "guardrail": [
            health,
            ("/hiremesh.v1.GuardrailService/Scan", guardrail_pb2.ScanRequest(text=big).SerializeToString()),
        ],
        "screening": [
            health,
            (
                "/hiremesh.v1.ScreeningService/SubmitScreening",
                screening_pb2.SubmitScreeningRequest(application_id=big).SerializeToString(),
            ),
        ],
        "analytics": [health],
    }


@pytest.fixture(scope="module")
def addrs(
    embedding_addr: str, search_addr: str, guardrail_addr: str, screening_addr: str, analytics_addr: str
) -> dict[str, str]:
    return {
        "embedding": embedding_addr,
        "search": search_addr,
        "guardrail": guardrail_addr,
        "screening": screening_addr,
        "analytics": analytics_addr,
    }


async def test_oversized_messages_are_resource_exhausted(addrs: dict[str, str]) -> None:
    outcomes = []
    for name, calls in _big_requests().items():
        # A raw channel that is itself willing to send the oversized message: the server must refuse it.
        async with grpc.aio.insecure_channel(
            addrs[name],
            options=[("grpc.max_send_message_length", 2 * OVER), ("grpc.max_receive_message_length", 2 * OVER)],
            interceptors=interceptors(load_token()),
        ) as ch:
            for method, payload in calls:
                rpc = ch.unary_unary(method, request_serializer=lambda b: b, response_deserializer=lambda b: b)
                with pytest.raises(grpc.aio.AioRpcError) as refused:
                    await rpc(payload, timeout=60)
                outcomes.append((name, method, refused.value.code()))
        assert await check(addrs[name], "", timeout=10) == "SERVING", f"{name} stopped serving after the big message"
    wrong = [o for o in outcomes if o[2] != grpc.StatusCode.RESOURCE_EXHAUSTED]
    assert not wrong, f"oversized messages not refused with RESOURCE_EXHAUSTED: {wrong}"


async def test_just_under_the_limit_is_a_domain_error_not_a_transport_one(search_addr: str) -> None:
    """11 MB of resume fits the transport but not the 10 MB resume limit: INVALID_ARGUMENT naming the field."""
    async with grpc.aio.insecure_channel(search_addr, interceptors=interceptors(load_token())) as ch:
        rpc = ch.unary_unary(
            "/hiremesh.v1.SearchService/CreateCandidate",
            request_serializer=search_pb2.CreateCandidateRequest.SerializeToString,
            response_deserializer=search_pb2.CreateCandidateResponse.FromString,
        )
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await rpc(
                search_pb2.CreateCandidateRequest(
                    resume=search_pb2.ResumeFile(file_name="big.txt", content=b"python " * (11 * 1024 * 1024 // 7))
                ),
                timeout=60,
            )
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "resume.content" in (refused.value.details() or "")

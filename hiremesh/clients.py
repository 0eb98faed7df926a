"""gRPC channels to other hiremesh services, configured the same way everywhere.

UNAVAILABLE is retried by gRPC itself (service config), but only for calls a retry cannot duplicate: reads
(Get/List/Search/Watch/..., pure functions such as Embed and Scan) and creates whose request carries an
AIP-155 `request_id`, which every channel from here fills in when the caller left it empty, so a retried
create is answered with the resource the first attempt made. Updates, deletes and long operations are
not retried. Every call carries the service credential (hiremesh.service_auth); keepalive matches the
server's ping policy in hiremesh.server.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import grpc
from google.protobuf.descriptor import FileDescriptor
from google.protobuf.message import Message

from hiremesh.config import service_addr
from hiremesh.server import MAX_MESSAGE_BYTES
from hiremesh.service_auth import SyncTokenInterceptor, load_token, with_token
from hiremesh.tls import TlsConfig
from hiremesh.v1 import (
    analytics_pb2,
    analytics_pb2_grpc,
    embedding_pb2,
    embedding_pb2_grpc,
    guardrail_pb2,
    guardrail_pb2_grpc,
    screening_pb2,
    screening_pb2_grpc,
    search_pb2,
    search_pb2_grpc,
)

__all__ = [
    "analytics_stub",
    "blocking_channel",
    "channel",
    "embedding_stub",
    "guardrail_stub",
    "interceptors",
    "screening_stub",
    "search_stub",
]

# Methods that only read (or compute without side effects): a retry cannot change anything.
READ_PREFIXES = ("Get", "List", "Search", "Watch", "Embed", "Scan", "Redact", "Validate", "Predict")
REQUEST_ID = "request_id"
_FILES: tuple[FileDescriptor, ...] = (
    search_pb2.DESCRIPTOR,
    screening_pb2.DESCRIPTOR,
    embedding_pb2.DESCRIPTOR,
    guardrail_pb2.DESCRIPTOR,
    analytics_pb2.DESCRIPTOR,
)


def retryable_methods() -> list[tuple[str, str]]:
    """(service, method) pairs gRPC may retry on UNAVAILABLE: reads, and creates keyed by a request id."""
    out = []
    for file in _FILES:
        for service in file.services_by_name.values():
            for method in service.methods:
                if method.client_streaming:
                    continue
                keyed = REQUEST_ID in method.input_type.fields_by_name
                if keyed or method.name.startswith(READ_PREFIXES):
                    out.append((service.full_name, method.name))
    out.append(("grpc.health.v1.Health", "Check"))
    return sorted(out)


_SERVICE_CONFIG = json.dumps(
    {
        "loadBalancingConfig": [{"round_robin": {}}],
        "methodConfig": [
            {
                "name": [{"service": service, "method": method} for service, method in retryable_methods()],
                "retryPolicy": {
                    "maxAttempts": 4,
                    "initialBackoff": "0.1s",
                    "maxBackoff": "2s",
                    "backoffMultiplier": 2,
                    "retryableStatusCodes": ["UNAVAILABLE"],
                },
            }
        ],
    }
)

CHANNEL_OPTIONS: list[tuple[str, Any]] = [
    ("grpc.service_config", _SERVICE_CONFIG),
    ("grpc.enable_retries", 1),
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.max_pings_without_data", 0),
    # Re-resolve and reconnect quickly after a replica restarts.
    ("grpc.initial_reconnect_backoff_ms", 200),
    ("grpc.max_reconnect_backoff_ms", 5_000),
]


def with_request_id(request: Any) -> Any:
    """`request`, or a copy with a fresh `request_id` when it has that field and the caller left it empty.

    The copy leaves the caller's message alone: one reused to create several things still creates several.
    """
    if not isinstance(request, Message) or REQUEST_ID not in request.DESCRIPTOR.fields_by_name:
        return request
    if getattr(request, REQUEST_ID):
        return request
    keyed = type(request)()
    keyed.CopyFrom(request)
    setattr(keyed, REQUEST_ID, str(uuid.uuid4()))
    return keyed


class _Outgoing:
    def __init__(self, token: str | None) -> None:
        self.token = token
        # The channel this interceptor serves. Stubs hold the interceptors but not the Python channel, and
        # an intercepted call is only created once its interceptor task runs: without this reference
        # `search_stub(addr).Method(...)` in one expression lets the channel be collected (and closed)
        # before the call exists.
        self.channel: grpc.aio.Channel | None = None

    def details(self, details: grpc.aio.ClientCallDetails) -> grpc.aio.ClientCallDetails:
        return with_token(details, self.token) if self.token else details


# grpc's interceptor classes are generic only in grpc-stubs (not subscriptable at run time): bare as a base.
class _UnaryUnary(_Outgoing, grpc.aio.UnaryUnaryClientInterceptor):  # type: ignore[type-arg]
    async def intercept_unary_unary(self, continuation: Any, client_call_details: Any, request: Any) -> Any:
        return await continuation(self.details(client_call_details), with_request_id(request))


class _UnaryStream(_Outgoing, grpc.aio.UnaryStreamClientInterceptor):  # type: ignore[type-arg]
    async def intercept_unary_stream(self, continuation: Any, client_call_details: Any, request: Any) -> Any:
        return await continuation(self.details(client_call_details), request)


class _StreamUnary(_Outgoing, grpc.aio.StreamUnaryClientInterceptor):  # type: ignore[type-arg]
    async def intercept_stream_unary(self, continuation: Any, client_call_details: Any, request_iterator: Any) -> Any:
        return await continuation(self.details(client_call_details), request_iterator)


class _StreamStream(_Outgoing, grpc.aio.StreamStreamClientInterceptor):  # type: ignore[type-arg]
    async def intercept_stream_stream(self, continuation: Any, client_call_details: Any, request_iterator: Any) -> Any:
        return await continuation(self.details(client_call_details), request_iterator)


def interceptors(token: str | None) -> list[Any]:
    # grpc-stubs types ClientInterceptor as "cast or ignore"; these are the four aio interceptor kinds.
    return [_UnaryUnary(token), _UnaryStream(token), _StreamUnary(token), _StreamStream(token)]


def channel(target: str) -> grpc.aio.Channel:
    """An aio channel to `target` (host:port, or dns:///host:port for round-robin); TLS when configured.

    Every call carries the service credential when one is configured, and creates get a request id."""
    tls = TlsConfig.from_env()
    chain = interceptors(load_token())
    creds = tls.channel_credentials()
    if creds is None:
        chan = grpc.aio.insecure_channel(target, options=CHANNEL_OPTIONS, interceptors=chain)
    else:
        options = list(CHANNEL_OPTIONS)
        if tls.server_name:
            options.append(("grpc.ssl_target_name_override", tls.server_name))
        chan = grpc.aio.secure_channel(target, creds, options=options, interceptors=chain)
    for interceptor in chain:
        interceptor.channel = chan
    return chan


def blocking_channel(target: str) -> grpc.Channel:
    """A blocking channel with the service credential (scripts, benchmarks, sync tests)."""
    tls = TlsConfig.from_env()
    creds = tls.channel_credentials()
    raw = (
        grpc.insecure_channel(target, options=CHANNEL_OPTIONS)
        if creds is None
        else grpc.secure_channel(target, creds, options=CHANNEL_OPTIONS)
    )
    token = load_token()
    return grpc.intercept_channel(raw, SyncTokenInterceptor(token)) if token else raw


def _as_async(stub: object) -> Any:
    return stub


# Typed constructors: mypy-protobuf's overloads pick the sync stub for grpc.aio.Channel under grpc-stubs,
# so these return the async stub types that the calls really have.
def embedding_stub(target: str | None = None) -> embedding_pb2_grpc.EmbeddingServiceAsyncStub:
    chan = channel(target or service_addr("embedding"))
    stub: embedding_pb2_grpc.EmbeddingServiceAsyncStub = _as_async(embedding_pb2_grpc.EmbeddingServiceStub(chan))
    return stub


def search_stub(target: str | None = None) -> search_pb2_grpc.SearchServiceAsyncStub:
    chan = channel(target or service_addr("search"))
    stub: search_pb2_grpc.SearchServiceAsyncStub = _as_async(search_pb2_grpc.SearchServiceStub(chan))
    return stub


def guardrail_stub(target: str | None = None) -> guardrail_pb2_grpc.GuardrailServiceAsyncStub:
    chan = channel(target or service_addr("guardrail"))
    stub: guardrail_pb2_grpc.GuardrailServiceAsyncStub = _as_async(guardrail_pb2_grpc.GuardrailServiceStub(chan))
    return stub


def screening_stub(target: str | None = None) -> screening_pb2_grpc.ScreeningServiceAsyncStub:
    chan = channel(target or service_addr("screening"))
    stub: screening_pb2_grpc.ScreeningServiceAsyncStub = _as_async(screening_pb2_grpc.ScreeningServiceStub(chan))
    return stub


def analytics_stub(target: str | None = None) -> analytics_pb2_grpc.AnalyticsServiceAsyncStub:
    chan = channel(target or service_addr("analytics"))
    stub: analytics_pb2_grpc.AnalyticsServiceAsyncStub = _as_async(analytics_pb2_grpc.AnalyticsServiceStub(chan))
    return stub

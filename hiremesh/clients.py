"""gRPC channels to other hiremesh services, configured the same way everywhere.

UNAVAILABLE is retried by gRPC itself (service config), so a restarting replica costs a caller a short
delay instead of an error; keepalive matches the server's ping policy in hiremesh.server.
"""

from __future__ import annotations

import json
from typing import Any

import grpc

from hiremesh.config import service_addr
from hiremesh.server import MAX_MESSAGE_BYTES
from hiremesh.tls import TlsConfig
from hiremesh.v1 import (
    analytics_pb2_grpc,
    embedding_pb2_grpc,
    guardrail_pb2_grpc,
    screening_pb2_grpc,
    search_pb2_grpc,
)

_SERVICE_CONFIG = json.dumps(
    {
        "loadBalancingConfig": [{"round_robin": {}}],
        "methodConfig": [
            {
                "name": [{}],
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


def channel(target: str) -> grpc.aio.Channel:
    """An aio channel to `target` (host:port, or dns:///host:port for round-robin); TLS when configured."""
    tls = TlsConfig.from_env()
    creds = tls.channel_credentials()
    if creds is None:
        return grpc.aio.insecure_channel(target, options=CHANNEL_OPTIONS)
    options = list(CHANNEL_OPTIONS)
    if tls.server_name:
        options.append(("grpc.ssl_target_name_override", tls.server_name))
    return grpc.aio.secure_channel(target, creds, options=options)


def _as_async(stub: object) -> Any:
    return stub


# Typed constructors: mypy-protobuf's overloads pick the sync stub for grpc.aio.Channel under grpc-stubs,
# so these return the async stub types that the calls really have.
def embedding_stub(target: str | None = None) -> embedding_pb2_grpc.EmbeddingServiceAsyncStub:
    chan = channel(target or service_addr("embedding"))
    return _as_async(embedding_pb2_grpc.EmbeddingServiceStub(chan))


def search_stub(target: str | None = None) -> search_pb2_grpc.SearchServiceAsyncStub:
    chan = channel(target or service_addr("search"))
    return _as_async(search_pb2_grpc.SearchServiceStub(chan))


def guardrail_stub(target: str | None = None) -> guardrail_pb2_grpc.GuardrailServiceAsyncStub:
    chan = channel(target or service_addr("guardrail"))
    return _as_async(guardrail_pb2_grpc.GuardrailServiceStub(chan))


def screening_stub(target: str | None = None) -> screening_pb2_grpc.ScreeningServiceAsyncStub:
    chan = channel(target or service_addr("screening"))
    return _as_async(screening_pb2_grpc.ScreeningServiceStub(chan))


def analytics_stub(target: str | None = None) -> analytics_pb2_grpc.AnalyticsServiceAsyncStub:
    chan = channel(target or service_addr("analytics"))
    return _as_async(analytics_pb2_grpc.AnalyticsServiceStub(chan))

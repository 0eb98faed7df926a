"""gRPC channels to other hiremesh services, configured the same way everywhere.

UNAVAILABLE is retried by gRPC itself (service config), so a restarting replica costs a caller a short
delay instead of an error; keepalive matches the server's ping policy in hiremesh.server.
"""

from __future__ import annotations

import json
from typing import Any

import grpc

from hiremesh.server import MAX_MESSAGE_BYTES
from hiremesh.tls import TlsConfig

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

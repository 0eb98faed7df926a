"""Gateway metrics (Prometheus default registry, served on the gateway's own /metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Counter(
    "hiremesh_gateway_http_requests_total",
    "HTTP requests answered, by method, route template and status.",
    ["method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "hiremesh_gateway_http_request_duration_seconds",
    "Time from request to response headers, by method and route template.",
    ["method", "route"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
HTTP_IN_FLIGHT = Gauge("hiremesh_gateway_http_in_flight", "HTTP requests being handled now.")
RATE_LIMITED = Counter("hiremesh_gateway_rate_limited_total", "Requests refused with 429 by the per-token limiter.")
AUTH_FAILURES = Counter("hiremesh_gateway_auth_failures_total", "Requests refused with 401 or 403.", ["status"])
WS_CONNECTIONS = Gauge("hiremesh_gateway_ws_connections", "Open WebSocket connections.")
WS_MESSAGES = Counter("hiremesh_gateway_ws_messages_total", "WebSocket messages sent to clients, by type.", ["type"])
WS_DROPPED = Counter(
    "hiremesh_gateway_ws_dropped_total", "Progress messages dropped because a client's send queue was full."
)
OPERATIONS = Counter(
    "hiremesh_gateway_operations_total", "Long-running operations started, by kind and outcome.", ["kind", "state"]
)

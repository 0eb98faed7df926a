"""Prometheus metrics shared by every gRPC server: requests, errors by code, latency, in-flight.

Services define their own domain metrics (`hiremesh_<service>_...`) in their package's `metrics.py`;
everything registers in prometheus_client's default registry, served on gRPC port + 1000.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram, start_http_server

__all__ = ["GRPC_ERRORS", "GRPC_IN_FLIGHT", "GRPC_LATENCY", "GRPC_REQUESTS", "GRPC_UNAUTHENTICATED", "serve_metrics"]

GRPC_REQUESTS = Counter(
    "hiremesh_grpc_requests_total",
    "gRPC calls handled, by method and final status code.",
    ["service", "method", "code"],
)
GRPC_ERRORS = Counter(
    "hiremesh_grpc_errors_total",
    "gRPC calls that ended with a status other than OK.",
    ["service", "method", "code"],
)
GRPC_LATENCY = Histogram(
    "hiremesh_grpc_request_duration_seconds",
    "Wall time of a gRPC call (for streams: until the last message).",
    ["service", "method"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
GRPC_IN_FLIGHT = Gauge(
    "hiremesh_grpc_in_flight",
    "gRPC calls being handled now.",
    ["service", "method"],
)

GRPC_UNAUTHENTICATED = Counter(
    "hiremesh_grpc_unauthenticated_total",
    "gRPC calls refused for a missing or wrong service credential.",
    ["method", "reason"],
)


def serve_metrics(port: int, host: str) -> int:
    """Start the /metrics HTTP endpoint in a daemon thread; returns the bound port."""
    server, _thread = start_http_server(port, addr=host)
    return int(server.server_port)

"""Service-to-service authentication: a per-deployment credential on every RPC, or mutual TLS.

Servers (hiremesh.server) refuse to start without one of the two: `HIREMESH_SERVICE_TOKEN` (or
`HIREMESH_SERVICE_TOKEN_FILE`, else `$HIREMESH_HOME/secrets/service-token` when it exists) or mTLS
(`HIREMESH_TLS_CLIENT_AUTH=true`, see hiremesh.tls). With a token, every call except the standard health
service must carry it in the `x-hiremesh-service-token` metadata key, compared in constant time; a call
without it, or with another value, ends UNAUTHENTICATED before its request is even parsed. Clients built by
hiremesh.clients read the same settings and attach the token to every call, so callers change nothing.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc

from hiremesh import metrics
from hiremesh.config import ConfigError
from hiremesh.credentials import SERVICE_TOKEN, read_secret, secrets_dir

__all__ = ["HEADER", "ServerAuth", "SyncTokenInterceptor", "default_token_file", "load_token", "with_token"]

HEADER = "x-hiremesh-service-token"
# Probes (kubelet's native gRPC probe, `hiremesh probe`, load balancers) carry no credential.
EXEMPT_PREFIXES = ("/grpc.health.v1.Health/",)
MISSING = (
    f"missing service credential: this RPC needs the deployment's service token in the {HEADER!r} "
    f"metadata (hiremesh clients send {SERVICE_TOKEN} / {SERVICE_TOKEN}_FILE automatically)"
)
WRONG = "invalid service credential: the token does not match this deployment's"


def default_token_file() -> Path:
    return secrets_dir() / "service-token"


def load_token() -> str | None:
    """The configured service token, or None when none is configured (validated: no placeholders)."""
    return read_secret(SERVICE_TOKEN, default_file=default_token_file())


@dataclass(frozen=True)
class ServerAuth:
    """How a server authenticates callers: a token, mTLS, or both."""

    token: str | None
    mtls: bool

    @classmethod
    def from_env(cls, *, mtls: bool) -> ServerAuth:
        token = load_token()
        if token is None and not mtls:
            raise ConfigError(
                SERVICE_TOKEN,
                "not set: every service needs the deployment's service credential "
                f"(or mTLS with HIREMESH_TLS_CLIENT_AUTH=true). `hiremesh up` creates "
                f"{default_token_file()}; `hiremesh secrets generate` makes one",
            )
        return cls(token, mtls)

    def interceptor(self) -> grpc.aio.ServerInterceptor[Any, Any] | None:
        return TokenInterceptor(self.token) if self.token is not None else None


def _digest(value: str | bytes) -> bytes:
    raw = value.encode() if isinstance(value, str) else value
    return hashlib.sha256(raw).digest()


# grpc's interceptor classes are generic only in grpc-stubs (not subscriptable at run time): bare as a base.
class TokenInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[type-arg]
    """Admits a call only with the right token; health is exempt. Runs before any other interceptor."""

    def __init__(self, token: str) -> None:
        # Comparing digests keeps the comparison constant-time even for a given token of another length.
        self._digest = _digest(token)

    def admits(self, metadata: Any) -> str | None:
        """None when `metadata` carries the token, else the reason to refuse."""
        given: str | bytes | None = None
        for key, value in metadata or ():
            if key == HEADER:
                given = value
                break
        if given is None:
            return MISSING
        return None if hmac.compare_digest(_digest(given), self._digest) else WRONG

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any]]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any]:
        method = handler_call_details.method
        if method.startswith(EXEMPT_PREFIXES):
            return await continuation(handler_call_details)
        reason = self.admits(handler_call_details.invocation_metadata)
        handler = await continuation(handler_call_details)
        if reason is None or handler is None:  # an unknown method stays UNIMPLEMENTED, and no metric label
            return handler
        metrics.GRPC_UNAUTHENTICATED.labels(method, "missing" if reason is MISSING else "invalid").inc()
        return _refusing(handler, reason)


def _refusing(handler: grpc.RpcMethodHandler[Any, Any], reason: str) -> grpc.RpcMethodHandler[Any, Any]:
    """A handler of the same shape that ends the call UNAUTHENTICATED; the request bytes are never parsed."""

    async def unary(_request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        await context.abort(grpc.StatusCode.UNAUTHENTICATED, reason)

    async def stream(_request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> AsyncIterator[Any]:
        await context.abort(grpc.StatusCode.UNAUTHENTICATED, reason)
        yield  # pragma: no cover - abort raises

    serialize = handler.response_serializer
    if handler.unary_unary:
        return grpc.unary_unary_rpc_method_handler(unary, response_serializer=serialize)
    if handler.stream_unary:
        return grpc.stream_unary_rpc_method_handler(unary, response_serializer=serialize)
    if handler.unary_stream:
        return grpc.unary_stream_rpc_method_handler(stream, response_serializer=serialize)
    return grpc.stream_stream_rpc_method_handler(stream, response_serializer=serialize)


# --- the client side ------------------------------------------------------------------------------------


def call_metadata(token: str | None) -> tuple[tuple[str, str], ...]:
    return ((HEADER, token),) if token else ()


def with_token(details: grpc.aio.ClientCallDetails, token: str) -> grpc.aio.ClientCallDetails:
    metadata = [(k, v) for k, v in (details.metadata or ()) if k != HEADER]
    metadata.append((HEADER, token))
    return grpc.aio.ClientCallDetails(
        details.method, details.timeout, grpc.aio.Metadata(*metadata), details.credentials, details.wait_for_ready
    )


class _SyncDetails(grpc.ClientCallDetails):
    def __init__(
        self,
        method: str,
        timeout: float | None,
        metadata: Any,
        credentials: Any,
        wait_for_ready: bool | None,
        compression: Any,
    ) -> None:
        self.method = method
        self.timeout = timeout
        self.metadata = metadata
        self.credentials = credentials
        self.wait_for_ready = wait_for_ready
        self.compression = compression


class SyncTokenInterceptor(
    grpc.UnaryUnaryClientInterceptor,  # type: ignore[type-arg]
    grpc.UnaryStreamClientInterceptor,  # type: ignore[type-arg]
    grpc.StreamUnaryClientInterceptor,  # type: ignore[type-arg]
    grpc.StreamStreamClientInterceptor,  # type: ignore[type-arg]
):
    """The token on every call of a blocking channel (scripts and tests that use `grpc.insecure_channel`)."""

    def __init__(self, token: str) -> None:
        self._token = token

    def _details(self, details: Any) -> grpc.ClientCallDetails:
        metadata = [(k, v) for k, v in (details.metadata or ()) if k != HEADER] + [(HEADER, self._token)]
        return _SyncDetails(
            details.method,
            details.timeout,
            metadata,
            details.credentials,
            getattr(details, "wait_for_ready", None),
            getattr(details, "compression", None),
        )

    def intercept_unary_unary(self, continuation: Any, client_call_details: Any, request: Any) -> Any:
        return continuation(self._details(client_call_details), request)

    def intercept_unary_stream(self, continuation: Any, client_call_details: Any, request: Any) -> Any:
        return continuation(self._details(client_call_details), request)

    def intercept_stream_unary(self, continuation: Any, client_call_details: Any, request_iterator: Any) -> Any:
        return continuation(self._details(client_call_details), request_iterator)

    def intercept_stream_stream(self, continuation: Any, client_call_details: Any, request_iterator: Any) -> Any:
        return continuation(self._details(client_call_details), request_iterator)

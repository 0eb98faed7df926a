"""gRPC status -> HTTP status and the JSON error body, the way grpc-gateway maps them.

Every error a caller sees is `{"code": <gRPC code number>, "status": <code name>, "message": ...,
"details": [...]}`; the HTTP status follows the table below (FAILED_PRECONDITION is 412 here, by the issue).
A backend's error is rebuilt by `hiremesh.rpc_errors.from_rpc_error` and its `details` are its google.rpc
details (BadRequest, ErrorInfo) in protobuf's JSON form with "@type"; the gateway's own errors name a field
with a BadRequest alone.
"""

from __future__ import annotations

from typing import Any

import grpc
from google.protobuf import json_format

from hiremesh import rpc_errors
from hiremesh.errors import HiremeshError

HTTP_STATUS: dict[grpc.StatusCode, int] = {
    grpc.StatusCode.OK: 200,
    grpc.StatusCode.CANCELLED: 499,
    grpc.StatusCode.UNKNOWN: 500,
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.FAILED_PRECONDITION: 412,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.UNIMPLEMENTED: 501,
    grpc.StatusCode.INTERNAL: 500,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DATA_LOSS: 500,
}

# Codes a gateway-side check produces for HTTP-only conditions that have no gRPC twin.
_CODE_FOR_HTTP: dict[int, grpc.StatusCode] = {
    400: grpc.StatusCode.INVALID_ARGUMENT,
    401: grpc.StatusCode.UNAUTHENTICATED,
    403: grpc.StatusCode.PERMISSION_DENIED,
    404: grpc.StatusCode.NOT_FOUND,
    405: grpc.StatusCode.UNIMPLEMENTED,
    409: grpc.StatusCode.ALREADY_EXISTS,
    412: grpc.StatusCode.FAILED_PRECONDITION,
    413: grpc.StatusCode.RESOURCE_EXHAUSTED,
    415: grpc.StatusCode.INVALID_ARGUMENT,
    429: grpc.StatusCode.RESOURCE_EXHAUSTED,
    503: grpc.StatusCode.UNAVAILABLE,
    504: grpc.StatusCode.DEADLINE_EXCEEDED,
}


class ApiError(Exception):
    """An error to send as the JSON error body with `http_status`."""

    def __init__(
        self,
        http_status: int,
        message: str,
        *,
        code: grpc.StatusCode | None = None,
        details: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.http_status = http_status
        self.code = code or _CODE_FOR_HTTP.get(http_status, grpc.StatusCode.UNKNOWN)
        self.message = message
        self.details = details or []
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"code": self.code.value[0], "status": self.code.name, "message": self.message, "details": self.details}


def bad_request(field: str, message: str) -> ApiError:
    """400 naming the offending field (a JSON path or a query parameter)."""
    return ApiError(
        400,
        f"{field}: {message}" if field else message,
        code=grpc.StatusCode.INVALID_ARGUMENT,
        details=[field_violation(field, message)] if field else [],
    )


def field_violation(field: str, description: str) -> dict[str, Any]:
    return {
        "@type": "type.googleapis.com/google.rpc.BadRequest",
        "field_violations": [{"field": field, "description": description}],
    }


def api_error(err: HiremeshError) -> ApiError:
    """A domain error as the JSON error body: its code, its message, its google.rpc details."""
    details = [
        json_format.MessageToDict(detail, preserving_proto_field_name=True)
        for detail in rpc_errors.to_status(err).details
    ]
    retry = err.code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED)
    return ApiError(
        HTTP_STATUS.get(err.code, 500),
        err.message,
        code=err.code,
        details=details,
        headers={"Retry-After": "1"} if retry else {},
    )


def backend_error(exc: grpc.aio.AioRpcError, backend: str) -> ApiError:
    """A failed call to `backend` ("search", "screening", ...) as the JSON error body."""
    return api_error(rpc_errors.from_rpc_error(exc, backend=backend))


def socket_error(exc: grpc.aio.AioRpcError, backend: str, **fields: Any) -> dict[str, Any]:
    """A failed call to `backend` as a WebSocket `error` message: the HTTP error body's fields, plus `fields`."""
    err = backend_error(exc, backend)
    return {
        "type": "error",
        **fields,
        "code": err.http_status,
        "status": err.code.name,
        "message": err.message,
        "details": err.details,
    }

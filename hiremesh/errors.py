"""Domain exceptions shared by every service, and the catalogue of their error reasons.

Domain code raises these; `hiremesh.rpc_errors` turns them into a `google.rpc.Status` with details (the
error interceptor of `hiremesh.server` sends it) and rebuilds them from a failed call, so a field name or a
reason survives any number of hops; the gateway maps the status to HTTP. The error policy is in
docs/ARCHITECTURE.md ("Errors").

Every error has a `reason`: an UPPER_SNAKE_CASE constant (AIP-193 `ErrorInfo.reason`, unique within the
one domain `hiremesh.dev`) that a program can branch on while the message stays for humans. Each class has a
default; a raiser may name a more specific one from `REASONS`, plus string `metadata`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import grpc

# The reason catalogue: every reason a hiremesh service sends, with what it means (docs/ARCHITECTURE.md).
REASONS: dict[str, str] = {
    "FIELD_INVALID": "a request field has a bad value; BadRequest names the field",
    "REQUEST_INVALID": "the request is wrong as a whole (no single field to blame)",
    "REQUEST_MALFORMED": "the request bytes are not a valid protobuf message",
    "NOT_FOUND": "the named resource does not exist",
    "ALREADY_EXISTS": "the resource to create exists already",
    "PRECONDITION_FAILED": "the system is not in a state that allows the operation (e.g. not configured)",
    "OUT_OF_RANGE": "a value is past the end of a valid range",
    "ABORTED": "a concurrent change got in the way; retry the whole operation",
    "RESOURCE_EXHAUSTED": "a queue or a limit is full; retry after a back-off",
    "UNAVAILABLE": "a dependency of the service (models, database, LLM) is down",
    "NOT_READY": "the service has started but what it needs (model, database) is not ready yet",
    "DATABASE_UNAVAILABLE": "the service's database is unreachable (driver text only in the service log)",
    "BACKEND_UNAVAILABLE": "a called hiremesh service is down, unreachable or went away mid-call",
    "DEADLINE_EXCEEDED": "the operation did not finish within its deadline",
    "BACKEND_DEADLINE_EXCEEDED": "a called hiremesh service did not answer within the deadline",
    "CANCELLED": "the operation was cancelled",
    "PERMISSION_DENIED": "the caller may not do this",
    "UNAUTHENTICATED": "the caller's credential is missing or invalid",
    "UNIMPLEMENTED": "the method or the option is not implemented",
    "INTERNAL": "a bug or an unexpected failure; details are in the service log",
    "UNKNOWN": "an error without a known cause (from outside hiremesh)",
    "DATA_LOSS": "data was lost or corrupted",
}
DOMAIN = "hiremesh.dev"  # ErrorInfo.domain of every hiremesh error: one catalogue, one domain
_REASON = re.compile(r"^[A-Z][A-Z0-9_]{0,61}[A-Z0-9]$")  # AIP-193: UPPER_SNAKE_CASE, at most 63 characters


def valid_reason(reason: str) -> bool:
    """True for an AIP-193 reason: UPPER_SNAKE_CASE, at most 63 characters."""
    return _REASON.match(reason) is not None


__all__ = [
    "DOMAIN",
    "ERROR_FOR_CODE",
    "REASONS",
    "Aborted",
    "AlreadyExists",
    "Cancelled",
    "DataLoss",
    "DeadlineExceeded",
    "FailedPrecondition",
    "HiremeshError",
    "Internal",
    "InvalidArgument",
    "NotFound",
    "OutOfRange",
    "PermissionDenied",
    "ResourceExhausted",
    "Unauthenticated",
    "Unavailable",
    "Unimplemented",
    "Unknown",
    "valid_reason",
]


class HiremeshError(Exception):
    """Base of every domain error: `code` is the gRPC status it maps to, `reason` its ErrorInfo reason."""

    code: grpc.StatusCode = grpc.StatusCode.INTERNAL
    reason: str = "INTERNAL"
    domain: str = DOMAIN  # another domain only on an error rebuilt from a foreign status

    def __init__(self, message: str, *, reason: str | None = None, metadata: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        if reason is not None:
            if not valid_reason(reason):
                raise ValueError(f"error reason {reason!r} is not an UPPER_SNAKE_CASE constant")
            self.reason = reason
        self.metadata: dict[str, str] = dict(metadata or {})


class InvalidArgument(HiremeshError):
    """The caller sent a bad value; `field` names it (dotted path, e.g. `options.top_k`).

    The message reads `field: description`; `description` alone is the BadRequest field violation's."""

    code = grpc.StatusCode.INVALID_ARGUMENT
    reason = "FIELD_INVALID"

    def __init__(
        self, field: str, message: str, *, reason: str | None = None, metadata: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(
            f"{field}: {message}" if field else message,
            reason=reason or (None if field else "REQUEST_INVALID"),
            metadata=metadata,
        )
        self.field = field
        self.description = message


class NotFound(HiremeshError):
    code = grpc.StatusCode.NOT_FOUND
    reason = "NOT_FOUND"


class AlreadyExists(HiremeshError):
    code = grpc.StatusCode.ALREADY_EXISTS
    reason = "ALREADY_EXISTS"


class FailedPrecondition(HiremeshError):
    code = grpc.StatusCode.FAILED_PRECONDITION
    reason = "PRECONDITION_FAILED"


class OutOfRange(HiremeshError):
    code = grpc.StatusCode.OUT_OF_RANGE
    reason = "OUT_OF_RANGE"


class Aborted(HiremeshError):
    code = grpc.StatusCode.ABORTED
    reason = "ABORTED"


class Unavailable(HiremeshError):
    """A dependency (database, another service, the LLM) is down or not ready."""

    code = grpc.StatusCode.UNAVAILABLE
    reason = "UNAVAILABLE"


class ResourceExhausted(HiremeshError):
    code = grpc.StatusCode.RESOURCE_EXHAUSTED
    reason = "RESOURCE_EXHAUSTED"


class DeadlineExceeded(HiremeshError):
    code = grpc.StatusCode.DEADLINE_EXCEEDED
    reason = "DEADLINE_EXCEEDED"


class Cancelled(HiremeshError):
    code = grpc.StatusCode.CANCELLED
    reason = "CANCELLED"


class PermissionDenied(HiremeshError):
    code = grpc.StatusCode.PERMISSION_DENIED
    reason = "PERMISSION_DENIED"


class Unauthenticated(HiremeshError):
    code = grpc.StatusCode.UNAUTHENTICATED
    reason = "UNAUTHENTICATED"


class Unimplemented(HiremeshError):
    code = grpc.StatusCode.UNIMPLEMENTED
    reason = "UNIMPLEMENTED"


class Internal(HiremeshError):
    code = grpc.StatusCode.INTERNAL
    reason = "INTERNAL"


class Unknown(HiremeshError):
    code = grpc.StatusCode.UNKNOWN
    reason = "UNKNOWN"


class DataLoss(HiremeshError):
    code = grpc.StatusCode.DATA_LOSS
    reason = "DATA_LOSS"


# One class per non-OK status code: a status from the wire becomes the matching domain error.
ERROR_FOR_CODE: dict[grpc.StatusCode, type[HiremeshError]] = {
    cls.code: cls
    for cls in (
        InvalidArgument,
        NotFound,
        AlreadyExists,
        FailedPrecondition,
        OutOfRange,
        Aborted,
        Unavailable,
        ResourceExhausted,
        DeadlineExceeded,
        Cancelled,
        PermissionDenied,
        Unauthenticated,
        Unimplemented,
        Internal,
        Unknown,
        DataLoss,
    )
}

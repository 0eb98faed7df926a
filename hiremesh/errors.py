"""Domain exceptions shared by every service.

Domain code raises these; `hiremesh.server`'s error interceptor maps them to gRPC status codes and the
gateway maps those to HTTP, so no handler repeats abort boilerplate.
"""

from __future__ import annotations

import grpc

__all__ = ["AlreadyExists", "Cancelled", "DeadlineExceeded", "FailedPrecondition", "HiremeshError", "InvalidArgument",
           "NotFound", "ResourceExhausted", "Unavailable"]


class HiremeshError(Exception):
    """Base of every domain error; `code` is the gRPC status it maps to."""

    code: grpc.StatusCode = grpc.StatusCode.INTERNAL

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidArgument(HiremeshError):
    """The caller sent a bad value; `field` names it (dotted path, e.g. `options.top_k`)."""

    code = grpc.StatusCode.INVALID_ARGUMENT

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field


class NotFound(HiremeshError):
    code = grpc.StatusCode.NOT_FOUND


class AlreadyExists(HiremeshError):
    code = grpc.StatusCode.ALREADY_EXISTS


class FailedPrecondition(HiremeshError):
    code = grpc.StatusCode.FAILED_PRECONDITION


class Unavailable(HiremeshError):
    """A dependency (database, another service, the LLM) is down or not ready."""

    code = grpc.StatusCode.UNAVAILABLE


class ResourceExhausted(HiremeshError):
    code = grpc.StatusCode.RESOURCE_EXHAUSTED


class DeadlineExceeded(HiremeshError):
    code = grpc.StatusCode.DEADLINE_EXCEEDED


class Cancelled(HiremeshError):
    code = grpc.StatusCode.CANCELLED

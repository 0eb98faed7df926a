"""The one mapping between domain errors and gRPC statuses, both ways, with `google.rpc` details (AIP-193).

Server side, `to_status` turns a `HiremeshError` into a `google.rpc.Status`: the code and the message as they
always were (the call's message stays whole; its copies in the details are clipped to 512 bytes), plus
details: a `BadRequest` field violation for an `InvalidArgument` with a field, and for every error an
`ErrorInfo` (reason, domain `hiremesh.dev`, string metadata; `service` names the service that raised it).
`hiremesh.server` ends a failed call with `ending_for` (the trailer made by `grpc_status.rpc_status.to_status`);
a dependency's failed call escaping a handler is forwarded with its own details.

Client side, `from_rpc_error` reads those details from the `grpc-status-details-bin` trailer (as
`rpc_status.from_call` does, without its message check: the copy in the details may be clipped) and rebuilds the
matching domain error with its field, reason and metadata, so an InvalidArgument raised two hops away still
names its field. A backend that is down, went away (UNAVAILABLE, CANCELLED) or is slow (DEADLINE_EXCEEDED)
becomes Unavailable / DeadlineExceeded naming the backend; every other code travels up unchanged.
`is_retryable` is the one answer to "may another attempt succeed?".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import cast

import grpc
from google.protobuf.message import DecodeError
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from hiremesh.errors import (
    DOMAIN,
    ERROR_FOR_CODE,
    DeadlineExceeded,
    HiremeshError,
    InvalidArgument,
    Unavailable,
    Unknown,
    valid_reason,
)

DETAILS_KEY = "grpc-status-details-bin"  # the trailer grpc_status.rpc_status reads and writes
# Codes after which the same call may succeed later: the dependency is down, slow, full or raced.
RETRYABLE = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.StatusCode.ABORTED,
    }
)
MAX_DETAIL_BYTES = 512  # a message's copy in the details (see _clipped)

__all__ = [
    "DETAILS_KEY",
    "DOMAIN",
    "MAX_DETAIL_BYTES",
    "RETRYABLE",
    "Ending",
    "code_of",
    "ending",
    "ending_for",
    "from_rpc_error",
    "is_retryable",
    "rich_status",
    "to_status",
]


def to_status(err: HiremeshError, *, service: str = "") -> status_pb2.Status:
    """`err` as a google.rpc.Status: its code and message, a BadRequest when it names a field, an ErrorInfo."""
    status = status_pb2.Status(code=err.code.value[0], message=_clipped(err.message))
    if isinstance(err, InvalidArgument) and err.field:
        violation = error_details_pb2.BadRequest.FieldViolation(field=err.field, description=_clipped(err.description))
        status.details.add().Pack(error_details_pb2.BadRequest(field_violations=[violation]))
    metadata = dict(err.metadata)
    if service:
        metadata.setdefault("service", service)  # the first service that raised it, kept across hops
    status.details.add().Pack(error_details_pb2.ErrorInfo(reason=err.reason, domain=err.domain, metadata=metadata))
    return status


def ending_for(exc: BaseException, *, service: str) -> Ending | None:
    """The status to end a call with for an exception escaping a handler; None when it is not an error we know.

    A domain error becomes `to_status(exc)`; a dependency's failed call is forwarded as the dependency sent it
    (its details included). The call's message is always the whole message (see `_clipped`)."""
    if isinstance(exc, HiremeshError):
        return ending(exc, service=service)
    if isinstance(exc, grpc.aio.AioRpcError):
        message = exc.details() or exc.code().name
        status = rich_status(exc) or to_status(_rebuilt(exc.code(), message, None))
        return _sent(status, message)
    return None


def ending(err: HiremeshError, *, service: str) -> Ending:
    """How a call that failed with `err` ends: `to_status(err)` in the trailer, the whole message."""
    return _sent(to_status(err, service=service), err.message)


@dataclass(frozen=True)
class Ending:
    """How a failed call ends: `context.abort(code, message, trailing_metadata)`."""

    code: grpc.StatusCode
    message: str
    trailing_metadata: tuple[tuple[str, str | bytes], ...]


def _sent(status: status_pb2.Status, message: str) -> Ending:
    sent = rpc_status.to_status(status)
    return Ending(sent.code, message, tuple(sent.trailing_metadata))


def _clipped(text: str) -> str:
    # The message already travels whole as the call's grpc-message; its copies in the details trailer are cut
    # so message + trailer stay well under gRPC's 8 KiB metadata limit (past it the client sees only
    # RESOURCE_EXHAUSTED "received metadata size exceeds ...", losing the error).
    data = text.encode()
    return text if len(data) <= MAX_DETAIL_BYTES else data[:MAX_DETAIL_BYTES].decode(errors="ignore") + "…"


def rich_status(exc: grpc.aio.AioRpcError) -> status_pb2.Status | None:
    """The google.rpc.Status a failed call carries in its trailers, or None (none sent, or not matching the call)."""
    # grpc-stubs types these as objects with .key/.value; at run time they are (key, value) pairs.
    pairs = cast("Iterable[tuple[str, str | bytes]]", exc.trailing_metadata() or ())
    for key, value in pairs:
        if key != DETAILS_KEY or not isinstance(value, bytes):
            continue
        try:
            status = status_pb2.Status.FromString(value)
        except DecodeError:
            return None
        # As grpc_status.rpc_status.from_call: details that disagree with the call's code belong to another call.
        # The message is not compared: the call's own message is the one callers read.
        return status if status.code == exc.code().value[0] else None
    return None


def from_rpc_error(exc: grpc.aio.AioRpcError, *, backend: str, during: str = "") -> HiremeshError:
    """The domain error a failed call to `backend` (a service name, e.g. "search") stands for.

    `during` ("fetching the job 42") goes into the message of an outage, whose backend message names nothing."""
    code = exc.code()
    message = exc.details() or code.name
    status = rich_status(exc)
    during = f" while {during}" if during else ""
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED):
        # Our clients never cancel a call through gRPC (task cancellation raises CancelledError instead):
        # CANCELLED here is the backend going away mid-call, an outage like UNAVAILABLE.
        return _outage(
            Unavailable, f"{backend} service unavailable{during}: {message}", "BACKEND_UNAVAILABLE", status, backend
        )
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        return _outage(
            DeadlineExceeded,
            f"{backend} service did not answer in time{during}: {message}",
            "BACKEND_DEADLINE_EXCEEDED",
            status,
            backend,
        )
    return _rebuilt(code, message, status)


def _outage(
    cls: type[HiremeshError], message: str, reason: str, status: status_pb2.Status | None, backend: str
) -> HiremeshError:
    # The backend's own reason stays when it answered (e.g. its database is down); without details nothing
    # answered at all and the reason says so.
    err = _rebuilt(cls.code, message, status, cls=cls)
    if status is None or not _error_info(status):
        err.reason = reason
    err.metadata.setdefault("backend", backend)
    return err


def _rebuilt(
    code: grpc.StatusCode, message: str, status: status_pb2.Status | None, cls: type[HiremeshError] | None = None
) -> HiremeshError:
    cls = cls or ERROR_FOR_CODE.get(code, Unknown)
    info = _error_info(status) if status is not None else None
    reason = info.reason if info is not None and valid_reason(info.reason) else None
    metadata = dict(info.metadata) if info is not None else {}
    err: HiremeshError
    if cls is InvalidArgument:
        violation = _first_violation(status) if status is not None else None
        err = InvalidArgument(
            violation.field if violation else "",
            violation.description if violation else message,
            reason=reason,
            metadata=metadata,
        )
    else:
        err = cls(message, reason=reason, metadata=metadata)
    if info is not None and info.domain:
        err.domain = info.domain
    err.message, err.args = message, (message,)  # verbatim: what the caller sees stays what the backend said
    return err


def _error_info(status: status_pb2.Status | None) -> error_details_pb2.ErrorInfo | None:
    for detail in status.details if status is not None else ():
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):  # False for another type
            return info
    return None


def _first_violation(status: status_pb2.Status) -> error_details_pb2.BadRequest.FieldViolation | None:
    for detail in status.details:
        bad = error_details_pb2.BadRequest()
        if detail.Unpack(bad) and bad.field_violations:
            return bad.field_violations[0]
    return None


def code_of(exc: BaseException) -> grpc.StatusCode | None:
    """The status code a failed call or a domain error stands for; None for any other exception."""
    if isinstance(exc, grpc.aio.AioRpcError):
        return exc.code()
    if isinstance(exc, HiremeshError):
        return exc.code
    return None


def is_retryable(exc: BaseException) -> bool:
    """True when another attempt may not hit the failure: a dependency down, slow, full or raced, a lost
    connection, a timeout."""
    if isinstance(exc, TimeoutError | ConnectionError):
        return True
    return code_of(exc) in RETRYABLE

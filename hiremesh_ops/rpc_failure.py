"""A failed call as one line for an operator, as the error policy (hiremesh.rpc_errors) reads it."""

from __future__ import annotations

import grpc

from hiremesh import rpc_errors

__all__ = ["describe"]


def describe(exc: grpc.aio.AioRpcError, backend: str) -> str:
    """`CODE (REASON): message`, as every other caller sees the error (an InvalidArgument's message names its field)."""
    err = rpc_errors.from_rpc_error(exc, backend=backend)
    return f"{err.code.name} ({err.reason}): {err.message}"

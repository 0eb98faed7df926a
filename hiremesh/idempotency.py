"""AIP-155 request ids: what a valid one looks like, shared by every service whose creates take one.

A create that carries a request id is answered, when the id comes again, with what the first request
created: the services store the id in the same transaction as the row (search_svc.request_ids,
screening_svc.tasks), under a transaction-scoped advisory lock so that two attempts racing each other
create one row. hiremesh.clients fills the id in when the caller leaves it empty.
"""

from __future__ import annotations

import re

from hiremesh.errors import InvalidArgument

__all__ = ["LOCK_NAMESPACE", "request_id"]

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# The namespace of pg_advisory_xact_lock(int, int) keys held while a request id is checked and stored.
LOCK_NAMESPACE = 0x6D657368  # "mesh"


def request_id(value: str, field: str = "request_id") -> str:
    """`value` when it is empty (no idempotency asked for) or a valid request id; InvalidArgument otherwise."""
    if value and not _REQUEST_ID.match(value):
        raise InvalidArgument(field, "1-64 letters, digits, '-', '_' or '.' (a UUID is the usual choice)")
    return value

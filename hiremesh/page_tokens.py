"""Opaque keyset page tokens, one codec for every service's listings: where the last page ended (a timestamp
and an id, the listing's order) and the filter the token was issued for, so a token is stable under concurrent
inserts and refused under another filter.

A token is URL-safe base64 (unpadded) of compact JSON: {"t": ISO 8601 timestamp, "i": UUID, "k": filter key}.
search_svc has always issued exactly that. screening_svc issued {"c": timestamp, "i": UUID} without a key
before it used this codec; such tokens still decode, as issued for the empty key screening passes (a screening
replica older than this codec would refuse the new form, so a rollback restarts its listings at page one).
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from datetime import datetime

from hiremesh.errors import InvalidArgument

__all__ = ["FIELD", "decode", "encode", "filter_key"]

FIELD = "page_token"


def filter_key(*parts: object) -> str:
    """A short digest of a listing's filter, for `encode` and `decode`."""
    return hashlib.sha256(json.dumps([str(p) for p in parts]).encode()).hexdigest()[:12]


def encode(after: datetime, row_id: str, key: str = "") -> str:
    """A token to continue after the row (`after`, `row_id`) under the filter `key`."""
    raw = json.dumps({"t": after.isoformat(), "i": row_id, "k": key}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(token: str, key: str = "") -> tuple[datetime, str] | None:
    """(timestamp, id) to continue after, or None for the first page (an empty token); InvalidArgument on
    `page_token` for a token this codec did not make or one issued for another filter."""
    if not token:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        # "c" without "k": screening_svc's tokens from before this codec.
        after = datetime.fromisoformat(data["t"] if "t" in data else data["c"])
        row_id = str(uuid.UUID(data["i"]))
        issued_for = data["k"] if "t" in data else data.get("k", "")
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
        # binascii.Error and UnicodeDecodeError are ValueErrors; a JSON list or number has no keys
        raise InvalidArgument(FIELD, "malformed page token") from None
    if issued_for != key:
        raise InvalidArgument(FIELD, "page token was issued for a different filter")
    return after, row_id

"""Opaque keyset page tokens: stable under concurrent inserts, bound to the filter they were issued for."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from datetime import datetime

from hiremesh.errors import InvalidArgument

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500


def page_size(requested: int) -> int:
    """AIP-158: 0 means the default, values above the maximum are coerced to it, negatives are errors."""
    if requested < 0:
        raise InvalidArgument("page_size", "must not be negative")
    if requested == 0:
        return DEFAULT_PAGE_SIZE
    return min(requested, MAX_PAGE_SIZE)


def filter_key(*parts: object) -> str:
    return hashlib.sha256(json.dumps([str(p) for p in parts]).encode()).hexdigest()[:12]


def encode(after: datetime, row_id: str, key: str) -> str:
    raw = json.dumps({"t": after.isoformat(), "i": row_id, "k": key}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(token: str, key: str) -> tuple[datetime, str] | None:
    """(created_at, id) to continue after, or None for the first page; InvalidArgument on a bad token."""
    if not token:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = json.loads(raw)
        after = datetime.fromisoformat(data["t"])
        row_id = str(uuid.UUID(data["i"]))
        issued_for = data["k"]
    except (ValueError, KeyError, TypeError):
        raise InvalidArgument("page_token", "malformed page token") from None
    if issued_for != key:
        raise InvalidArgument("page_token", "page token was issued for a different filter")
    return after, row_id


def parse_id(value: str, field: str = "id") -> str:
    """A canonical UUID string, or InvalidArgument naming `field`."""
    if not value:
        raise InvalidArgument(field, "required")
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise InvalidArgument(field, f"not a valid id: {value[:64]!r}") from None

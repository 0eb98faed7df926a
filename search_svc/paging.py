"""Page sizes (AIP-158) and ids of the search service's requests; the page tokens are hiremesh.page_tokens."""

from __future__ import annotations

import uuid

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


def parse_id(value: str, field: str = "id") -> str:
    """A canonical UUID string, or InvalidArgument naming `field`."""
    if not value:
        raise InvalidArgument(field, "required")
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise InvalidArgument(field, f"not a valid id: {value[:64]!r}") from None

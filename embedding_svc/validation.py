"""Input limits of the embedding API; violations raise InvalidArgument naming the offending index."""

from __future__ import annotations

from collections.abc import Sequence

from hiremesh.errors import InvalidArgument

MAX_TEXTS_PER_CALL = 256
MAX_TEXT_BYTES = 100 * 1024


def check_text(text: str, field: str) -> None:
    if not text.strip():
        raise InvalidArgument(field, "text is empty")
    # Cheap pre-check first: a str of n characters encodes to at least n bytes.
    if len(text) > MAX_TEXT_BYTES or len(text.encode("utf-8")) > MAX_TEXT_BYTES:
        size = len(text.encode("utf-8"))
        raise InvalidArgument(field, f"text is {size} bytes; the limit is {MAX_TEXT_BYTES} bytes (100 KB)")


def check_texts(texts: Sequence[str], field: str = "texts") -> None:
    """1..256 texts, each non-blank and at most 100 KB of UTF-8."""
    if not texts:
        raise InvalidArgument(field, "at least one text is required")
    if len(texts) > MAX_TEXTS_PER_CALL:
        raise InvalidArgument(
            f"{field}[{MAX_TEXTS_PER_CALL}]",
            f"{len(texts)} texts; at most {MAX_TEXTS_PER_CALL} per call (use EmbedStream for bulk)",
        )
    for index, text in enumerate(texts):
        check_text(text, f"{field}[{index}]")

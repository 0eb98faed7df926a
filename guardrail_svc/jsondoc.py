"""JSON documents as (path, string) pairs, so every string in an AI output can be scanned and located."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from hiremesh.errors import InvalidArgument

_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def parse_document(text: str, field: str = "json_document") -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidArgument(
            field, f"invalid JSON at line {exc.lineno} column {exc.colno} (char {exc.pos}): {exc.msg}"
        ) from None


def string_leaves(value: Any, path: str = "$") -> Iterator[tuple[str, str]]:
    """Every string in `value` with its JSONPath (`$.strengths[2]`, `$['odd key']`), in document order."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, child in value.items():
            key = str(key)
            child_path = f"{path}.{key}" if _PLAIN_KEY.match(key) else f"{path}[{json.dumps(key)}]"
            yield from string_leaves(child, child_path)
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from string_leaves(child, f"{path}[{i}]")

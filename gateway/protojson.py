"""Protobuf <-> JSON for the REST API (protobuf `json_format`, snake_case field names).

Inputs are lenient where it costs nothing: enum values may be given short and in any case
(`"open"` for `JOB_STATUS_OPEN`). Every failure is an `ApiError` 400 that names the field; a body over
the JSON size limit is 413 (counted as it arrives, so chunked bodies too) and one nested deeper than
`MAX_JSON_DEPTH` is 400 before anything recursive (protobuf's parser, enum fix-ups) walks it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from aiohttp import web
from google.protobuf import json_format
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from gateway.errors import ApiError, bad_request

M = TypeVar("M", bound=Message)

MAX_JSON_DEPTH = 32  # our deepest message is a handful of levels; Struct values get the rest
DEFAULT_JSON_LIMIT = 4 * 1024 * 1024

_INT_TYPES = {
    FieldDescriptor.TYPE_INT32,
    FieldDescriptor.TYPE_INT64,
    FieldDescriptor.TYPE_UINT32,
    FieldDescriptor.TYPE_UINT64,
    FieldDescriptor.TYPE_SINT32,
    FieldDescriptor.TYPE_SINT64,
    FieldDescriptor.TYPE_FIXED32,
    FieldDescriptor.TYPE_FIXED64,
    FieldDescriptor.TYPE_SFIXED32,
    FieldDescriptor.TYPE_SFIXED64,
}
_FLOAT_TYPES = {FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT}


def to_dict(message: Message) -> dict[str, Any]:
    return json_format.MessageToDict(
        message, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )


def json_response(
    message: Message | Mapping[str, Any], status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    body = to_dict(message) if isinstance(message, Message) else message
    return web.Response(
        text=json.dumps(body, separators=(",", ":")), status=status, content_type="application/json", headers=headers
    )


async def read_body(request: web.Request, limit: int) -> bytes:
    """The whole body, refused with 413 as soon as it passes `limit` bytes (Content-Length or chunked)."""
    if request.content_length is not None and request.content_length > limit:
        raise too_large_json(limit)
    body = bytearray()
    async for chunk in request.content.iter_chunked(64 * 1024):
        body += chunk
        if len(body) > limit:
            raise too_large_json(limit)
    return bytes(body)


def too_large_json(limit: int) -> ApiError:
    return ApiError(413, f"request body too large: at most {limit // (1024 * 1024)} MB of JSON")


async def read_json(request: web.Request) -> dict[str, Any]:
    """The request body as a JSON object ({} when empty); 400 naming the problem otherwise."""
    from gateway.state import GATEWAY

    gw = request.app.get(GATEWAY)
    # Never more than the app's own body limit (max upload + 1 MB), which bounded JSON bodies before.
    limit = (
        min(gw.config.max_json_bytes, gw.config.max_upload_bytes + 1024 * 1024)
        if gw is not None
        else DEFAULT_JSON_LIMIT
    )
    raw = await read_body(request, limit)
    if not raw.strip():
        return {}
    if request.content_type not in (
        "application/json",
        "application/octet-stream",
        "text/plain",
    ) and not request.content_type.endswith("+json"):
        raise ApiError(415, f"expected a JSON body (Content-Type: application/json), got {request.content_type}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise bad_request("", "request body is not UTF-8 text") from None
    data = loads_json(text, "", "request body")
    if not isinstance(data, dict):
        raise bad_request("", f"request body must be a JSON object, got {type(data).__name__}")
    return data


def loads_json(text: str, field: str, what: str) -> Any:
    """Parse caller JSON: 400 naming `field` when it is malformed or nested deeper than MAX_JSON_DEPTH."""
    try:
        data = json.loads(text)
    except RecursionError:
        raise bad_request(field, f"{what} is nested too deeply (at most {MAX_JSON_DEPTH} levels)") from None
    except json.JSONDecodeError as exc:
        raise bad_request(
            field, f"{what} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    if json_depth(data, MAX_JSON_DEPTH) > MAX_JSON_DEPTH:
        raise bad_request(field, f"{what} is nested too deeply (at most {MAX_JSON_DEPTH} levels)")
    return data


def json_depth(value: Any, stop: int) -> int:
    """Nesting depth of parsed JSON, walked without recursion; stops counting once past `stop`."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if not isinstance(item, dict | list):
            continue
        deepest = max(deepest, depth)
        if deepest > stop:
            return deepest
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return deepest


def parse(data: Mapping[str, Any], message: M, where: str = "") -> M:
    """Fill `message` from a JSON object; `where` prefixes field names in error messages."""
    fixed = normalize_enums(dict(data), message.DESCRIPTOR, where)
    try:
        json_format.ParseDict(fixed, message)
    except json_format.ParseError as exc:
        raise bad_request(where, str(exc)) from None
    return message


def enum_value(enum: Any, raw: object) -> object:
    """Map a short or lower-case enum name to the full one; other values pass through unchanged."""
    if not isinstance(raw, str) or raw in enum.values_by_name:
        return raw
    prefix = enum_prefix(enum)
    candidate = prefix + raw.strip().upper().replace("-", "_").replace(" ", "_")
    return candidate if candidate in enum.values_by_name else raw


def enum_prefix(enum: Any) -> str:
    first = enum.values[0].name
    return first[: -len("UNSPECIFIED")] if first.endswith("UNSPECIFIED") else ""


def short_enum_names(enum: Any) -> list[str]:
    prefix = enum_prefix(enum)
    return [v.name[len(prefix) :].lower() for v in enum.values if not v.name.endswith("UNSPECIFIED")]


def _field(descriptor: Any, key: str) -> FieldDescriptor | None:
    found: FieldDescriptor | None = descriptor.fields_by_name.get(key)
    if found is not None:
        return found
    for candidate in descriptor.fields:
        if candidate.json_name == key:
            return cast(FieldDescriptor, candidate)
    return None


def _is_map(field: Any) -> bool:
    return bool(field.type == FieldDescriptor.TYPE_MESSAGE and field.message_type.GetOptions().map_entry)


def _known_enum(field: Any, raw: object, path: str) -> object:
    """The full enum name for `raw`; a 400 naming `path` for a name the enum does not have."""
    value = enum_value(field.enum_type, raw)
    if isinstance(value, str) and value not in field.enum_type.values_by_name:
        raise bad_request(
            path, f"unknown value {value[:60]!r}; expected one of {', '.join(short_enum_names(field.enum_type))}"
        )
    return value


def normalize_enums(data: dict[str, Any], descriptor: Any, where: str = "") -> dict[str, Any]:
    """Enum names made canonical (short and any-case names accepted); an unknown name is a 400 naming it."""
    for key, value in list(data.items()):
        field: Any = _field(descriptor, key)
        if field is None or value is None:
            continue
        path = f"{where}.{field.name}" if where else field.name
        if field.type == FieldDescriptor.TYPE_ENUM:
            if isinstance(value, list):
                data[key] = [_known_enum(field, v, path) for v in value]
            else:
                data[key] = _known_enum(field, value, path)
        elif (
            field.type == FieldDescriptor.TYPE_MESSAGE
            and not _is_map(field)
            and not field.message_type.full_name.startswith("google.protobuf.")
        ):
            if isinstance(value, list):
                data[key] = [
                    normalize_enums(dict(v), field.message_type, path) if isinstance(v, dict) else v for v in value
                ]
            elif isinstance(value, dict):
                data[key] = normalize_enums(dict(value), field.message_type, path)
    return data


def apply_query(
    query: Mapping[str, str], message: Message, params: Mapping[str, str], multi: Mapping[str, list[str]] | None = None
) -> None:
    """Set fields of `message` from query parameters; `params` maps a parameter to a dotted field path.

    Repeated fields take a comma-separated value or the parameter repeated. Unknown parameters are
    ignored, as browsers and proxies add their own.
    """
    for name, path in params.items():
        values = (multi or {}).get(name) or ([query[name]] if name in query else [])
        if not values:
            continue
        target, field = _resolve(message, path)
        try:
            if field.is_repeated:
                items = [item.strip() for value in values for item in value.split(",") if item.strip()]
                getattr(target, field.name).extend(_scalar(field, item) for item in items)
            else:
                setattr(target, field.name, _scalar(field, values[-1]))
        except ValueError as exc:
            raise bad_request(name, str(exc)) from None


def _resolve(message: Message, path: str) -> tuple[Message, Any]:
    target = message
    parts = path.split(".")
    for part in parts[:-1]:
        target = getattr(target, part)
    return target, target.DESCRIPTOR.fields_by_name[parts[-1]]


def _scalar(field: Any, raw: str) -> Any:
    if field.type in _INT_TYPES:
        try:
            return int(raw)
        except ValueError:
            raise ValueError(f"expected an integer, got {raw!r}") from None
    if field.type in _FLOAT_TYPES:
        try:
            number = float(raw)
        except ValueError:
            raise ValueError(f"expected a number, got {raw!r}") from None
        if number != number or number in (float("inf"), float("-inf")):
            raise ValueError(f"expected a finite number, got {raw!r}")
        return number
    if field.type == FieldDescriptor.TYPE_BOOL:
        lowered = raw.lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"expected true or false, got {raw!r}")
    if field.type == FieldDescriptor.TYPE_ENUM:
        name = enum_value(field.enum_type, raw)
        value = field.enum_type.values_by_name.get(str(name))
        if value is None:
            raise ValueError(f"expected one of {', '.join(short_enum_names(field.enum_type))}, got {raw!r}")
        return value.number
    return raw


def query_param_type(message_cls: type[Message], path: str) -> dict[str, Any]:
    """The OpenAPI schema of the query parameter bound to `path` in `message_cls`."""
    descriptor: Any = message_cls.DESCRIPTOR
    parts = path.split(".")
    for part in parts[:-1]:
        descriptor = descriptor.fields_by_name[part].message_type
    field = descriptor.fields_by_name[parts[-1]]
    if field.type in _INT_TYPES:
        schema: dict[str, Any] = {"type": "integer"}
    elif field.type in _FLOAT_TYPES:
        schema = {"type": "number"}
    elif field.type == FieldDescriptor.TYPE_BOOL:
        schema = {"type": "boolean"}
    elif field.type == FieldDescriptor.TYPE_ENUM:
        schema = {"type": "string", "enum": short_enum_names(field.enum_type)}
    else:
        schema = {"type": "string"}
    if field.is_repeated:
        return {"type": "array", "items": schema}
    return schema

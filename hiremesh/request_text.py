"""Text a request carries must be storable: no NUL (U+0000), which PostgreSQL text cannot hold.

A NUL is valid UTF-8, so protobuf accepts it; left alone it reaches a query or a row and fails in the database
driver, which the caller would see as INTERNAL. `hiremesh.server` checks every decoded request with
`nul_field` and answers INVALID_ARGUMENT naming the field instead. Resume text extracted from files is cleaned
of NULs by search_svc.ingest; text a caller types is the caller's to fix.
"""

from __future__ import annotations

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

__all__ = ["nul_field"]


def nul_field(message: Message, prefix: str = "") -> str | None:
    """The dotted path of the first string field (at any depth, in lists and maps too) holding a NUL, else None."""
    for field, value in message.ListFields():
        path = prefix + field.name
        if field.type == FieldDescriptor.TYPE_STRING:
            if field.is_repeated:
                for index, text in enumerate(value):
                    if "\x00" in text:
                        return f"{path}[{index}]"
            elif "\x00" in value:
                return path
        elif field.type == FieldDescriptor.TYPE_MESSAGE and field.message_type is not None:
            if field.message_type.GetOptions().map_entry:
                found = _in_map(field, value, path)
            elif field.is_repeated:
                found = next((f for i, item in enumerate(value) if (f := nul_field(item, f"{path}[{i}]."))), None)
            else:
                found = nul_field(value, path + ".")
            if found:
                return found
    return None


def _in_map(field: FieldDescriptor, entries: object, path: str) -> str | None:
    entry = field.message_type
    assert entry is not None  # a map field's entry type
    key_type = entry.fields_by_name["key"].type
    value_field = entry.fields_by_name["value"]
    for key, value in entries.items():  # type: ignore[attr-defined]  # a protobuf map container
        if key_type == FieldDescriptor.TYPE_STRING and "\x00" in key:
            return f"{path}[{key!r}]"
        if value_field.type == FieldDescriptor.TYPE_STRING and "\x00" in value:
            return f"{path}[{key!r}]"
        if value_field.type == FieldDescriptor.TYPE_MESSAGE and (found := nul_field(value, f"{path}[{key!r}].")):
            return found
    return None

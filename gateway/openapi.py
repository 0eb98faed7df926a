"""The OpenAPI 3 document, generated from the route table and the proto descriptors.

Because the document and the router are built from the same `Route` list, they cannot drift; a test
still compares them, and schemas follow `json_format` (snake_case, enums as names, int64 as strings).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from gateway.protojson import enum_prefix, query_param_type
from gateway.state import Route
from hiremesh.task_vocabulary import UPDATE_STATUSES

_PARAM = re.compile(r"\{(\w+)\}")
_WKT: dict[str, dict[str, Any]] = {
    "google.protobuf.Timestamp": {"type": "string", "format": "date-time"},
    "google.protobuf.FieldMask": {"type": "string", "description": "comma-separated field paths"},
    "google.protobuf.Duration": {"type": "string", "example": "1.5s"},
}
_SCALARS: dict[int, dict[str, Any]] = {
    FieldDescriptor.TYPE_DOUBLE: {"type": "number"},
    FieldDescriptor.TYPE_FLOAT: {"type": "number"},
    FieldDescriptor.TYPE_INT32: {"type": "integer", "format": "int32"},
    FieldDescriptor.TYPE_SINT32: {"type": "integer", "format": "int32"},
    FieldDescriptor.TYPE_UINT32: {"type": "integer", "format": "int32"},
    FieldDescriptor.TYPE_INT64: {"type": "string", "format": "int64"},
    FieldDescriptor.TYPE_SINT64: {"type": "string", "format": "int64"},
    FieldDescriptor.TYPE_UINT64: {"type": "string", "format": "int64"},
    FieldDescriptor.TYPE_BOOL: {"type": "boolean"},
    FieldDescriptor.TYPE_STRING: {"type": "string"},
    FieldDescriptor.TYPE_BYTES: {"type": "string", "format": "byte"},
}

ERROR_SCHEMA = {
    "type": "object",
    "required": ["code", "status", "message", "details"],
    "properties": {
        "code": {"type": "integer", "description": "gRPC status code number"},
        "status": {"type": "string", "description": "gRPC status code name"},
        "message": {"type": "string"},
        "details": {"type": "array", "items": {"type": "object"}},
    },
}
OPERATION_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "task_id": {"type": "string"},
        "kind": {"type": "string"},
        "status": {"type": "string", "enum": list(UPDATE_STATUSES)},
        "progress": {"type": "number"},
        "stage": {"type": "string"},
        "message": {"type": "string"},
        "result": {"type": "object", "nullable": True},
        "error": {"type": "string", "nullable": True},
        "owner": {"type": "string"},
        "created_at": {"type": "string", "format": "date-time"},
        "timestamp": {"type": "string", "format": "date-time"},
    },
}
CUSTOM_SCHEMAS: dict[str, dict[str, Any]] = {
    "Error": ERROR_SCHEMA,
    "Operation": OPERATION_SCHEMA,
    "OperationList": {
        "type": "object",
        "properties": {"operations": {"type": "array", "items": {"$ref": "#/components/schemas/Operation"}}},
    },
    "Report": {
        "allOf": [
            {"$ref": "#/components/schemas/hiremesh.v1.GetReportResponse"},
            {
                "type": "object",
                "properties": {
                    "records": {
                        "type": "array",
                        "items": {"type": "object"},
                        "description": "rows keyed by column name",
                    }
                },
            },
        ]
    },
    "Me": {
        "type": "object",
        "properties": {
            "user": {"type": "string"},
            "role": {"type": "string", "enum": ["admin", "recruiter", "viewer"]},
            "token_kind": {"type": "string"},
            "expires_at": {"type": "number", "nullable": True},
        },
    },
    "SessionToken": {
        "type": "object",
        "properties": {
            "token": {"type": "string"},
            "token_type": {"type": "string"},
            "expires_in": {"type": "integer"},
            "role": {"type": "string", "enum": ["admin", "recruiter", "viewer"]},
        },
    },
}
_STATUS_TEXT = {200: "OK", 201: "created", 202: "accepted; follow the task on /ws/tasks/{id}", 204: "no content"}
_ERRORS = {
    "400": "invalid argument or malformed JSON",
    "401": "missing, wrong or expired token",
    "403": "role may not do this",
    "404": "not found",
    "429": "rate limited (see Retry-After)",
    "503": "backend unavailable",
    "504": "deadline exceeded",
}


_RESUME_FORMATS = "PDF, DOCX, DOC, ODT, RTF, HTML, text, PNG or JPEG (sniffed from the content), at most 10 MB"


class _Schemas:
    def __init__(self) -> None:
        self.components: dict[str, Any] = {}

    def ref(self, descriptor: Any) -> dict[str, Any]:
        if descriptor.full_name in _WKT:
            return dict(_WKT[descriptor.full_name])
        name = descriptor.full_name
        if name not in self.components:
            self.components[name] = {}  # placeholder first: messages may refer to themselves
            self.components[name] = self._message(descriptor)
        return {"$ref": f"#/components/schemas/{name}"}

    def _message(self, descriptor: Any) -> dict[str, Any]:
        properties = {field.name: self._field(field) for field in descriptor.fields}
        schema: dict[str, Any] = {"type": "object", "properties": properties}
        oneofs = [o for o in descriptor.oneofs if not o.name.startswith("_")]
        if oneofs:
            schema["description"] = "; ".join(f"at most one of {', '.join(f.name for f in o.fields)}" for o in oneofs)
        return schema

    def _field(self, field: Any) -> dict[str, Any]:
        if field.type == FieldDescriptor.TYPE_MESSAGE and field.message_type.GetOptions().map_entry:
            value = field.message_type.fields_by_name["value"]
            return {"type": "object", "additionalProperties": self._single(value)}
        single = self._single(field)
        if field.is_repeated:
            return {"type": "array", "items": single}
        return single

    def _single(self, field: Any) -> dict[str, Any]:
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            return self.ref(field.message_type)
        if field.type == FieldDescriptor.TYPE_ENUM:
            names = [v.name for v in field.enum_type.values]
            return {
                "type": "string",
                "enum": names,
                "description": f"also accepted without the {enum_prefix(field.enum_type)} prefix, any case",
            }
        return dict(_SCALARS[field.type])


def _schema_of(schemas: _Schemas, target: type[Message] | str) -> dict[str, Any]:
    if isinstance(target, str):
        return {"$ref": f"#/components/schemas/{target}"}
    return schemas.ref(target.DESCRIPTOR)


def document(routes: Iterable[Route], prefix: str = "/api/v1") -> dict[str, Any]:
    schemas = _Schemas()
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        op: dict[str, Any] = {
            "operationId": route.operation,
            "summary": route.summary,
            "tags": [route.tag],
            "x-required-role": route.min_role.label,
            "parameters": [
                {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                for name in _PARAM.findall(route.path)
            ],
        }
        if route.query_message is not None:
            op["parameters"] += [
                {"name": name, "in": "query", "required": False, "schema": query_param_type(route.query_message, path)}
                for name, path in route.query.items()
            ]
        op["parameters"] += [
            {"name": name, "in": "query", "required": False, "schema": {"type": "string"}, "description": text}
            for name, text in route.extra_query.items()
        ]
        content: dict[str, Any] = {}
        if route.body is not None:
            content["application/json"] = {"schema": _schema_of(schemas, route.body)}
        if route.multipart:
            content["multipart/form-data"] = {
                "schema": {
                    "type": "object",
                    "properties": {
                        "resume": {"type": "string", "format": "binary", "description": _RESUME_FORMATS},
                        "candidate": {"type": "string", "description": "Candidate fields as JSON"},
                    },
                }
            }
        if content:
            op["requestBody"] = {"required": route.method == "POST" and route.body is None, "content": content}
        ok: dict[str, Any] = {"description": _STATUS_TEXT.get(route.status, "OK")}
        if route.response is not None:
            ok["content"] = {"application/json": {"schema": _schema_of(schemas, route.response)}}
        responses: dict[str, Any] = {str(route.status): ok}
        for also, when in route.also.items():
            responses[str(also)] = {**ok, "description": when}
        for code, text in _ERRORS.items():
            responses[code] = {
                "description": text,
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            }
        if route.method != "GET":
            responses["409"] = {
                "description": "already exists (e.g. the same application twice)",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            }
        # FAILED_PRECONDITION: e.g. no model trained yet, a finished task cancelled, too little data.
        responses["412"] = {
            "description": "precondition failed",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
        if route.multipart:
            responses["413"] = {
                "description": "upload too large",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            }
        op["responses"] = responses
        paths.setdefault(prefix + route.path, {})[route.method.lower()] = op
    for name in CUSTOM_SCHEMAS:
        if name == "Report":
            schemas.ref(_report_descriptor())
    components = {**schemas.components, **CUSTOM_SCHEMAS}
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "hiremesh gateway",
            "version": "1.0.0",
            "description": "REST over the hiremesh gRPC services. Errors follow grpc-gateway's mapping. "
            "Task progress streams on the WebSocket /ws/tasks/{task_id}.",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "API key (hmk_...) or HS256 JWT"}
            },
        },
    }


def _report_descriptor() -> Any:
    from hiremesh.v1 import analytics_pb2

    return analytics_pb2.GetReportResponse.DESCRIPTOR

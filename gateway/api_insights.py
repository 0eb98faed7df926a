"""REST handlers for guardrail scans, analytics reports, predictions, and the operation triggers."""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web
from google.protobuf.timestamp_pb2 import Timestamp

from gateway.api_catalog import API
from gateway.backends import call
from gateway.errors import ApiError, bad_request
from gateway.operation_journal import JournalUnavailable
from gateway.protojson import json_response, parse, read_json, to_dict
from gateway.state import Route, gateway_of, principal_of
from gateway.tokens import Role, issue_jwt
from gateway.ws import may_see
from hiremesh.v1 import analytics_pb2 as apb
from hiremesh.v1 import guardrail_pb2 as gpb

SESSION_TTL = 8 * 3600

REPORTS = ("funnel", "ai_performance", "top_candidates", "safety_trends", "job_title_success", "summary", "schedules")


# --- guardrail ------------------------------------------------------------------------------------
async def scan(request: web.Request) -> web.Response:
    req = parse(await read_json(request), gpb.ScanRequest())
    if req.WhichOneof("content") is None:
        raise bad_request("text", "give text or json_document")
    return json_response(await call(request, "guardrail", gateway_of(request).backends.guardrail.Scan, req))


async def redact(request: web.Request) -> web.Response:
    req = parse(await read_json(request), gpb.RedactRequest())
    return json_response(await call(request, "guardrail", gateway_of(request).backends.guardrail.Redact, req))


async def validate(request: web.Request) -> web.Response:
    req = parse(await read_json(request), gpb.ValidateOutputRequest())
    return json_response(await call(request, "guardrail", gateway_of(request).backends.guardrail.ValidateOutput, req))


# --- analytics ------------------------------------------------------------------------------------
def _plain(value: apb.ReportValue) -> Any:
    kind = value.WhichOneof("kind")
    if kind is None or kind == "null_value":
        return None
    raw = getattr(value, kind)
    if isinstance(raw, Timestamp):
        return raw.ToJsonString()
    return raw


async def get_report(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    req = apb.GetReportRequest(name=name, params=dict(request.query))
    reply = await call(request, "analytics", gateway_of(request).backends.analytics.GetReport, req)
    body = to_dict(reply)
    # Rows as plain objects keyed by column name: what a chart wants, without ReportValue's oneof wrapper.
    names = [c.name for c in reply.columns]
    body["records"] = [dict(zip(names, (_plain(v) for v in row.values), strict=False)) for row in reply.rows]
    return json_response(body)


async def predict_hire(request: web.Request) -> web.Response:
    req = parse(await read_json(request), apb.PredictHireRequest())
    if req.WhichOneof("subject") is None:
        raise bad_request("application_id", "give an application_id or features")
    return json_response(await call(request, "analytics", gateway_of(request).backends.analytics.PredictHire, req))


async def predict_time_to_hire(request: web.Request) -> web.Response:
    req = parse(await read_json(request), apb.PredictTimeToHireRequest())
    if req.WhichOneof("subject") is None:
        raise bad_request("application_id", "give an application_id or features")
    return json_response(
        await call(request, "analytics", gateway_of(request).backends.analytics.PredictTimeToHire, req)
    )


async def sync(request: web.Request) -> web.Response:
    gw = gateway_of(request)
    req = parse(await read_json(request), apb.SyncRequest())
    timeout = gw.config.operation_timeout
    op = gw.operations.start(
        "sync", principal_of(request).user, lambda: gw.backends.analytics.Sync(req, timeout=timeout), "analytics"
    )
    return json_response(op.resource(), 202, {"Location": f"{API}/operations/{op.id}"})


async def train(request: web.Request) -> web.Response:
    gw = gateway_of(request)
    req = parse(await read_json(request), apb.TrainModelsRequest())
    timeout = gw.config.operation_timeout
    op = gw.operations.start(
        "train",
        principal_of(request).user,
        lambda: gw.backends.analytics.TrainModels(req, timeout=timeout),
        "analytics",
    )
    return json_response(op.resource(), 202, {"Location": f"{API}/operations/{op.id}"})


async def export(request: web.Request) -> web.Response:
    gw = gateway_of(request)
    req = parse(await read_json(request), apb.ExportParquetRequest())
    timeout = gw.config.operation_timeout
    op = gw.operations.start(
        "export",
        principal_of(request).user,
        lambda: gw.backends.analytics.ExportParquet(req, timeout=timeout),
        "analytics",
    )
    return json_response(op.resource(), 202, {"Location": f"{API}/operations/{op.id}"})


# --- operations and identity ----------------------------------------------------------------------
async def get_operation(request: web.Request) -> web.Response:
    gw = gateway_of(request)
    try:
        op = await gw.operations.get(request.match_info["id"])
    except JournalUnavailable as exc:
        raise ApiError(503, str(exc)) from None
    if op is not None and not may_see(principal_of(request), op.owner):
        op = None  # another user's operation (its result can name server paths): not yours to know of
    if op is None:
        where = "in this gateway's memory" if gw.operations.journal is None else "(finished ones are kept 1,000 deep)"
        raise ApiError(404, f"no operation {request.match_info['id']!r} {where}")
    return json_response(op.resource())


async def list_operations(request: web.Request) -> web.Response:
    who = principal_of(request)
    try:
        ops = await gateway_of(request).operations.recent(50 if who.role >= Role.ADMIN else 500)
    except JournalUnavailable as exc:
        raise ApiError(503, str(exc)) from None
    mine = [op for op in ops if may_see(who, op.owner)][:50]
    return json_response({"operations": [op.resource() for op in mine]})


async def me(request: web.Request) -> web.Response:
    who = principal_of(request)
    return json_response(
        {"user": who.user, "role": who.role.label, "token_kind": who.kind, "expires_at": who.expires_at}
    )


async def session_token(request: web.Request) -> web.Response:
    """A short-lived JWT for the caller, so a browser keeps that instead of a long-lived API key."""
    gw = gateway_of(request)
    who = principal_of(request)
    if not gw.auth.jwt_secret:
        raise ApiError(503, "this gateway has no JWT signing secret")
    data = await read_json(request)
    raw = data.get("ttl_seconds", SESSION_TTL)
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not 60 <= raw <= gw.config.max_jwt_ttl:
        raise bad_request("ttl_seconds", f"must be a number of seconds between 60 and {gw.config.max_jwt_ttl:g}")
    ttl = float(raw)
    if who.expires_at is not None:  # never outlive the token it was exchanged for
        ttl = min(ttl, who.expires_at - time.time())
    if ttl <= 0:
        raise ApiError(401, "token expired")
    token = issue_jwt(gw.auth.jwt_secret, who.user, who.role, ttl)
    return json_response({"token": token, "token_type": "Bearer", "expires_in": int(ttl), "role": who.role.label}, 201)


ROUTES = [
    Route(
        "POST",
        "/guardrail/scan",
        scan,
        "Scan a text or JSON document for PII, bias and toxicity",
        "guardrail",
        role=Role.VIEWER,
        body=gpb.ScanRequest,
        response=gpb.ScanResponse,
    ),
    Route(
        "POST",
        "/guardrail/redact",
        redact,
        "Redact PII from a text",
        "guardrail",
        role=Role.VIEWER,
        body=gpb.RedactRequest,
        response=gpb.RedactResponse,
    ),
    Route(
        "POST",
        "/guardrail/validate",
        validate,
        "Validate (and optionally repair) a screening result",
        "guardrail",
        role=Role.VIEWER,
        body=gpb.ValidateOutputRequest,
        response=gpb.ValidateOutputResponse,
    ),
    Route(
        "GET",
        "/analytics/reports/{name}",
        get_report,
        f"A warehouse report ({', '.join(REPORTS)}); other query parameters are report parameters",
        "analytics",
        extra_query={
            "days": "report window in days",
            "weeks": "report window in weeks",
            "limit": "row limit",
            "title": "job title filter",
        },
        response="Report",
    ),
    Route(
        "POST",
        "/analytics/predictions/hire",
        predict_hire,
        "Probability of a hire",
        "analytics",
        role=Role.VIEWER,
        body=apb.PredictHireRequest,
        response=apb.PredictHireResponse,
    ),
    Route(
        "POST",
        "/analytics/predictions/time-to-hire",
        predict_time_to_hire,
        "Days until a hire",
        "analytics",
        role=Role.VIEWER,
        body=apb.PredictTimeToHireRequest,
        response=apb.PredictTimeToHireResponse,
    ),
    Route(
        "POST",
        "/analytics/sync",
        sync,
        "Sync the warehouse from PostgreSQL (runs as an operation)",
        "analytics",
        body=apb.SyncRequest,
        response="Operation",
        status=202,
    ),
    Route(
        "POST",
        "/analytics/train",
        train,
        "Train the hire models (runs as an operation)",
        "analytics",
        role=Role.ADMIN,
        body=apb.TrainModelsRequest,
        response="Operation",
        status=202,
    ),
    Route(
        "POST",
        "/analytics/export",
        export,
        "Export the warehouse as Parquet (runs as an operation)",
        "analytics",
        role=Role.ADMIN,
        body=apb.ExportParquetRequest,
        response="Operation",
        status=202,
    ),
    Route("GET", "/operations", list_operations, "Recent operations", "operations", response="OperationList"),
    Route(
        "GET",
        "/operations/{id}",
        get_operation,
        "An operation's state and, once done, its result",
        "operations",
        response="Operation",
    ),
    Route("GET", "/me", me, "Who the token belongs to", "auth", response="Me"),
    Route(
        "POST",
        "/auth/token",
        session_token,
        "Exchange the caller's token for a short-lived JWT (the UI's session)",
        "auth",
        role=Role.VIEWER,
        response="SessionToken",
        status=201,
    ),
]

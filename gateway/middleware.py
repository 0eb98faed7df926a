"""Request pipeline: CORS, then errors/metrics/security headers, then auth, roles, rate limit, deadline."""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import time

import grpc
from aiohttp import web
from aiohttp.typedefs import Handler

from gateway import metrics
from gateway.backends import DEADLINE_KEY, REQUEST_ID_KEY, parse_timeout
from gateway.errors import ApiError
from gateway.protojson import json_response
from gateway.ratelimit import client_address, retry_after_header
from gateway.state import PRINCIPAL_KEY, gateway_of
from gateway.tokens import Role

log = logging.getLogger("hiremesh.gateway")

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self' ws: wss:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'"
)
SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": CSP,
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
_REQUEST_ID = re.compile(r"^[\w.:-]{1,64}$")
_PROTECTED = ("/api/", "/ws/", "/metrics")
# Routes outside the API table with their own least role.
_EXTRA_ROLES = {"/metrics": Role.ADMIN}


def error_response(exc: ApiError) -> web.Response:
    return json_response(exc.body(), exc.http_status, exc.headers)


def route_label(request: web.Request) -> str:
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


@web.middleware
async def cors(request: web.Request, handler: Handler) -> web.StreamResponse:
    origins = gateway_of(request).config.cors_origins
    origin = request.headers.get("Origin")
    allowed = origin is not None and ("*" in origins or origin in origins)
    if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
        if not allowed:
            return web.Response(status=403, text="CORS origin not allowed")
        return web.Response(
            status=204,
            headers={
                "Access-Control-Allow-Origin": origin or "",
                "Access-Control-Allow-Methods": "GET, POST, PATCH, PUT, DELETE, OPTIONS",
                "Access-Control-Allow-Headers": "Authorization, Content-Type, X-Request-Timeout, X-Request-ID, "
                "grpc-timeout",
                "Access-Control-Max-Age": "600",
                "Vary": "Origin",
            },
        )
    response = await handler(request)
    if allowed and not response.prepared:
        response.headers["Access-Control-Allow-Origin"] = origin or ""
        response.headers["Access-Control-Expose-Headers"] = "Location, Retry-After, X-Request-ID"
        response.headers["Vary"] = "Origin"
    return response


@web.middleware
async def edge(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Request id, Prometheus per route, security headers, and a JSON body for every error."""
    started = time.perf_counter()
    request_id = request.headers.get("X-Request-ID", "")
    if not _REQUEST_ID.match(request_id):
        request_id = secrets.token_hex(8)
    request[REQUEST_ID_KEY] = request_id
    metrics.HTTP_IN_FLIGHT.inc()
    try:
        try:
            response = await handler(request)
        except ApiError as exc:
            response = error_response(exc)
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            message = exc.text if exc.text and not exc.text.startswith(f"{exc.status}:") else exc.reason
            if exc.status == 413:
                limit = gateway_of(request).config.max_upload_bytes // (1024 * 1024)
                message = f"request body too large: at most {limit} MB"
            response = error_response(ApiError(exc.status, message))
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("unhandled error on %s %s (request id %s)", request.method, request.path, request_id)
            response = error_response(
                ApiError(500, f"internal error (request id {request_id})", code=grpc.StatusCode.INTERNAL)
            )
    finally:
        metrics.HTTP_IN_FLIGHT.dec()
    route = route_label(request)
    metrics.HTTP_REQUESTS.labels(request.method, route, str(response.status)).inc()
    metrics.HTTP_LATENCY.labels(request.method, route).observe(time.perf_counter() - started)
    if not response.prepared:
        response.headers.update(SECURITY_HEADERS)
        response.headers["X-Request-ID"] = request_id
    return response


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Bearer auth, the route's least role, the per-token rate limit and the request deadline."""
    if not request.path.startswith(_PROTECTED):
        return await handler(request)
    gw = gateway_of(request)
    # Before any token is looked at: a flood of made-up tokens from one address is throttled for free.
    address = client_address(request, gw.config.trusted_proxies)
    wait = gw.address_limiter.acquire(address)
    if wait > 0:
        metrics.RATE_LIMITED.inc()
        raise ApiError(
            429,
            f"too many requests from this address; retry in {wait:.2f}s",
            headers={"Retry-After": retry_after_header(wait)},
        )
    try:
        principal = await gw.auth.authenticate(request, address)
    except ApiError as exc:
        metrics.AUTH_FAILURES.labels(str(exc.http_status)).inc()
        raise
    needed = gw.roles.get((request.method, route_label(request))) or _EXTRA_ROLES.get(request.path)
    if needed is None:
        needed = Role.VIEWER if request.method in ("GET", "HEAD") else Role.RECRUITER
    if principal.role < needed:
        metrics.AUTH_FAILURES.labels("403").inc()
        raise ApiError(
            403, f"role {principal.role.label} may not {request.method} {request.path} (needs {needed.label})"
        )
    wait = gw.limiter.acquire(principal.token_id)
    if wait > 0:
        metrics.RATE_LIMITED.inc()
        raise ApiError(
            429,
            f"rate limit of {gw.limiter.rate:g} requests/s exceeded; retry in {wait:.2f}s",
            headers={"Retry-After": retry_after_header(wait)},
        )
    request[PRINCIPAL_KEY] = principal
    timeout = parse_timeout(request, gw.config.default_timeout, gw.config.max_timeout)
    request[DEADLINE_KEY] = asyncio.get_running_loop().time() + timeout
    return await handler(request)

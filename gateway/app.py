"""Builds the aiohttp application: REST routes, WebSockets, probes, metrics and the web UI."""

from __future__ import annotations

import json
import logging

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from gateway import api_catalog, api_insights, api_mail, api_screening, openapi, ui_vocabulary
from gateway.auth import Authenticator
from gateway.backends import Backends
from gateway.config import GatewayConfig
from gateway.middleware import cors, edge, guard
from gateway.operation_journal import OperationJournal
from gateway.operations import Operations
from gateway.ratelimit import RateLimiter
from gateway.state import GATEWAY, Gateway, Route, gateway_of
from gateway.users import UserStore
from gateway.ws import tasks_socket
from gateway.ws_queue import queue_socket
from hiremesh.credentials import check_secret

log = logging.getLogger("hiremesh.gateway")

API = "/api/v1"
_OPENAPI: web.AppKey[str] = web.AppKey("openapi", str)


async def openapi_json(request: web.Request) -> web.Response:
    return web.Response(text=request.app[_OPENAPI], content_type="application/json")


API_ROUTES: list[Route] = [
    *api_catalog.ROUTES,
    *api_screening.ROUTES,
    *api_insights.ROUTES,
    *api_mail.ROUTES,
    Route("GET", "/openapi.json", openapi_json, "This document", "meta"),
]


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    statuses = await gateway_of(request).backends.readiness()
    ready = all(s == "SERVING" for s in statuses.values())
    return web.json_response(
        {"status": "ready" if ready else "not ready", "backends": statuses}, status=200 if ready else 503
    )


async def prometheus(request: web.Request) -> web.Response:
    return web.Response(body=generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})


async def index(request: web.Request) -> web.FileResponse:
    response = web.FileResponse(gateway_of(request).config.static_dir / "index.html")
    response.headers["Cache-Control"] = "no-cache"
    return response


def build_app(gw: Gateway) -> web.Application:
    app = web.Application(middlewares=[cors, edge, guard], client_max_size=gw.config.max_upload_bytes + 1024 * 1024)
    app[GATEWAY] = gw
    for route in API_ROUTES:
        added = app.router.add_route(route.method, API + route.path, route.handler)
        assert added.resource is not None
        gw.roles[(route.method, added.resource.canonical)] = route.min_role
    app[_OPENAPI] = json.dumps(openapi.document(API_ROUTES, API))
    app.router.add_get("/ws/tasks", tasks_socket)
    app.router.add_get("/ws/tasks/{task_id}", tasks_socket)
    app.router.add_get("/ws/queue", queue_socket)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", prometheus)
    app.router.add_get("/", index)
    app.router.add_get(ui_vocabulary.PATH, ui_vocabulary.serve)  # before the static folder, which it is not in
    app.router.add_static("/static/", gw.config.static_dir, append_version=False)

    async def close(_app: web.Application) -> None:
        await gw.operations.close()
        await gw.backends.close()
        if gw.users is not None:
            await gw.users.close()

    app.on_cleanup.append(close)
    return app


async def create_gateway(config: GatewayConfig, users: UserStore | None = None) -> Gateway:
    """Open the user store (migrating schema `auth`) and the backend channels."""
    if users is None and config.database_url:
        users = await UserStore.open(config.database_url)
    secret = config.jwt_secret or (await users.jwt_secret() if users is not None else "")
    if secret:
        check_secret("HIREMESH_GATEWAY_JWT_SECRET", secret)
    assert config.backends is not None, "GatewayConfig.backends is required"
    operations = Operations()
    if users is not None:
        # Operations are shared through the database every replica already uses for its users.
        conninfo = users.pool.conninfo if isinstance(users.pool.conninfo, str) else config.database_url
        operations.journal = OperationJournal(users.pool, conninfo, running=operations.running)
        await operations.journal.start()
    return Gateway(
        config=config,
        backends=Backends(config.backends),
        auth=Authenticator(
            users,
            secret,
            config.auth_cache_seconds,
            max_jwt_ttl=config.max_jwt_ttl,
            failures=RateLimiter(config.auth_failure_rate, config.auth_failure_burst),
        ),
        limiter=RateLimiter(config.rate_limit, config.rate_burst),
        operations=operations,
        users=users,
        address_limiter=RateLimiter(config.address_rate_limit, config.address_rate_burst),
    )

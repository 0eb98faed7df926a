"""The gateway app itself: auth, roles, limits, errors, headers, OpenAPI; backends are unreachable here."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import aiohttp
from openapi_spec_validator import validate

from gateway.app import API_ROUTES
from gateway.tokens import Role, issue_jwt
from tests.gateway.conftest import SECRET, GatewayClient, auth, token


async def test_api_needs_a_bearer_token(client: GatewayClient) -> None:
    resp = await client.get("/api/v1/jobs")
    assert resp.status == 401
    body = await resp.json()
    assert body["status"] == "UNAUTHENTICATED" and "missing" in body["message"]
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")


async def test_wrong_malformed_and_expired_tokens_are_401(client: GatewayClient) -> None:
    bad = [
        "Bearer not-a-token",
        "Bearer hmk_dead_beef",
        "Basic dXNlcjpwdw==",
        f"Bearer {issue_jwt('another-secret-another-secret-xx', 'x', Role.ADMIN, 60)}",
        f"Bearer {issue_jwt(SECRET, 'x', Role.ADMIN, -10)}",
    ]
    for header in bad:
        resp = await client.get("/api/v1/jobs", headers={"Authorization": header})
        assert resp.status == 401, header
    expired = issue_jwt(SECRET, "x", Role.ADMIN, -10)
    resp = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {expired}"})
    assert "expired" in (await resp.json())["message"]


async def test_me_reports_the_principal(client: GatewayClient) -> None:
    resp = await client.get("/api/v1/me", headers=auth(Role.VIEWER))
    assert resp.status == 200
    assert await resp.json() == {
        "user": "tester",
        "role": "viewer",
        "token_kind": "jwt",
        "expires_at": (await resp.json())["expires_at"],
    }


async def test_viewer_cannot_write(client: GatewayClient) -> None:
    for method, path in [
        ("POST", "/api/v1/jobs"),
        ("PATCH", "/api/v1/jobs/1"),
        ("DELETE", "/api/v1/candidates/1"),
        ("POST", "/api/v1/screenings"),
        ("POST", "/api/v1/analytics/sync"),
    ]:
        resp = await client.request(method, path, headers=auth(Role.VIEWER), json={})
        assert resp.status == 403, (method, path)
        assert (await resp.json())["status"] == "PERMISSION_DENIED"


async def test_recruiter_cannot_do_admin_things(client: GatewayClient) -> None:
    resp = await client.post("/api/v1/analytics/train", headers=auth(Role.RECRUITER), json={})
    assert resp.status == 403
    resp = await client.post("/api/v1/search/reindex", headers=auth(Role.RECRUITER), json={})
    assert resp.status == 403


async def test_viewer_may_search_with_post(client: GatewayClient) -> None:
    resp = await client.post("/api/v1/search/candidates", headers=auth(Role.VIEWER), json={"text": "python"})
    assert resp.status == 503  # allowed through; the backend is down in this test


async def test_unreachable_backend_is_503_with_json(client: GatewayClient) -> None:
    resp = await client.get("/api/v1/jobs", headers=auth())
    assert resp.status == 503
    body = await resp.json()
    assert body["status"] == "UNAVAILABLE" and body["code"] == 14
    assert body["details"][0]["metadata"]["backend"] == "search"


async def test_malformed_json_is_400_naming_the_problem(client: GatewayClient) -> None:
    headers = {**auth(), "Content-Type": "application/json"}
    resp = await client.post("/api/v1/jobs", data=b'{"title": "SRE",', headers=headers)
    assert resp.status == 400
    assert "not valid JSON" in (await resp.json())["message"]
    resp = await client.post("/api/v1/jobs", data=b'["a"]', headers=headers)
    assert resp.status == 400 and "JSON object" in (await resp.json())["message"]
    resp = await client.post("/api/v1/jobs", json={"title": "SRE", "min_experience": "lots"}, headers=auth())
    body = await resp.json()
    assert resp.status == 400 and "min_experience" in body["message"]
    resp = await client.post("/api/v1/jobs", json={"status": "half-open"}, headers=auth())
    assert resp.status == 400 and "status" in (await resp.json())["message"]
    resp = await client.post("/api/v1/jobs", data=b"\xff\xfe", headers=headers)
    assert resp.status == 400


async def test_bad_query_and_timeout_headers_are_400(client: GatewayClient) -> None:
    resp = await client.get("/api/v1/candidates?page_size=lots", headers=auth())
    assert resp.status == 400 and "page_size" in (await resp.json())["message"]
    resp = await client.get("/api/v1/jobs", headers={**auth(), "X-Request-Timeout": "soon"})
    assert resp.status == 400 and "X-Request-Timeout" in (await resp.json())["message"]
    resp = await client.get("/api/v1/jobs", headers={**auth(), "grpc-timeout": "5 minutes"})
    assert resp.status == 400
    resp = await client.get("/api/v1/search/candidates", headers=auth())
    assert resp.status == 400 and (await resp.json())["message"].startswith("q:")


async def test_unknown_route_and_method_are_json_errors(client: GatewayClient) -> None:
    resp = await client.get("/api/v1/nowhere", headers=auth())
    assert resp.status == 404 and (await resp.json())["status"] == "NOT_FOUND"
    resp = await client.put("/api/v1/jobs", headers=auth())
    assert resp.status == 405 and "message" in await resp.json()


async def test_rate_limit_is_per_token_with_retry_after(make_client: Callable[..., Any]) -> None:
    client: GatewayClient = await make_client(rate_limit=0.5, rate_burst=3)
    alice = {"Authorization": f"Bearer {token(Role.VIEWER, 'alice')}"}
    statuses = [(await client.get("/api/v1/me", headers=alice)).status for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    resp = await client.get("/api/v1/me", headers=alice)
    assert resp.status == 429 and int(resp.headers["Retry-After"]) >= 1
    assert (await resp.json())["status"] == "RESOURCE_EXHAUSTED"
    bob = {"Authorization": f"Bearer {token(Role.VIEWER, 'bob')}"}
    assert (await client.get("/api/v1/me", headers=bob)).status == 200


async def test_upload_over_the_limit_is_413(make_client: Callable[..., Any]) -> None:
    client: GatewayClient = await make_client(max_upload_bytes=1024 * 1024)
    form = aiohttp.FormData()
    form.add_field("resume", b"x" * (1024 * 1024 + 10), filename="big.txt", content_type="text/plain")
    resp = await client.post("/api/v1/candidates", data=form, headers=auth())
    assert resp.status == 413
    assert "too large" in (await resp.json())["message"]
    resp = await client.post(
        "/api/v1/jobs",
        data=b"{" + b" " * (3 * 1024 * 1024) + b"}",
        headers={**auth(), "Content-Type": "application/json"},
    )
    assert resp.status == 413


async def test_security_headers_everywhere(client: GatewayClient) -> None:
    for path in ("/", "/healthz", "/api/v1/jobs"):
        resp = await client.get(path)
        assert resp.headers["X-Frame-Options"] == "DENY"
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert "default-src 'self'" in resp.headers["Content-Security-Policy"]
        assert resp.headers["X-Request-ID"]


async def test_cors_only_for_configured_origins(make_client: Callable[..., Any]) -> None:
    client: GatewayClient = await make_client(cors_origins=("https://ui.example",))
    pre = await client.options(
        "/api/v1/jobs", headers={"Origin": "https://ui.example", "Access-Control-Request-Method": "POST"}
    )
    assert pre.status == 204 and pre.headers["Access-Control-Allow-Origin"] == "https://ui.example"
    assert "Authorization" in pre.headers["Access-Control-Allow-Headers"]
    resp = await client.get("/api/v1/me", headers={**auth(), "Origin": "https://ui.example"})
    assert resp.headers["Access-Control-Allow-Origin"] == "https://ui.example"
    other = await client.get("/api/v1/me", headers={**auth(), "Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers
    denied = await client.options(
        "/api/v1/jobs", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    )
    assert denied.status == 403


async def test_probes_and_metrics(client: GatewayClient) -> None:
    assert (await client.get("/healthz")).status == 200
    resp = await client.get("/readyz")
    assert resp.status == 503
    assert set((await resp.json())["backends"]) == {"search", "screening", "guardrail", "analytics"}
    await client.get("/api/v1/jobs/abc", headers=auth())
    assert (await client.get("/metrics")).status == 401  # public port: an admin's token (Prometheus: port+1000)
    text = await (await client.get("/metrics", headers=auth())).text()
    assert 'hiremesh_gateway_http_requests_total{method="GET",route="/api/v1/jobs/{id}",status="503"}' in text


async def test_openapi_matches_the_router(client: GatewayClient) -> None:
    resp = await client.get("/api/v1/openapi.json", headers=auth(Role.VIEWER))
    assert resp.status == 200
    doc = await resp.json()
    documented = {(method.upper(), path) for path, ops in doc["paths"].items() for method in ops}
    routed = set()
    assert client.app is not None
    for resource in client.app.router.resources():
        info = resource.get_info()
        path = info.get("path") or info.get("formatter")
        if not path or not path.startswith("/api/"):
            continue
        for route in resource:
            if route.method != "HEAD":
                routed.add((route.method, path))
    assert documented == routed
    assert len(documented) == len(API_ROUTES)
    # A create that finds the same resume answers 200 with the same body (deduplicated: true): documented.
    create = doc["paths"]["/api/v1/candidates"]["post"]["responses"]
    assert create["200"]["content"] == create["201"]["content"] and "deduplicated" in create["200"]["description"]
    for path, ops in doc["paths"].items():
        for op in ops.values():
            declared = {p["name"] for p in op["parameters"] if p["in"] == "path"}
            assert declared == set(re.findall(r"\{(\w+)\}", path))
    # Every $ref resolves.
    refs = set(re.findall(r'"#/components/schemas/([^"]+)"', await resp.text()))
    assert refs <= set(doc["components"]["schemas"])


async def test_websocket_needs_auth_and_speaks_the_protocol(client: GatewayClient) -> None:
    try:
        await client.ws_connect("/ws/tasks/op_x")
        raise AssertionError("expected a 401")
    except aiohttp.WSServerHandshakeError as exc:
        assert exc.status == 401
    ws = await client.ws_connect("/ws/tasks/op_missing", protocols=("hiremesh.v1", f"bearer.{token(Role.VIEWER)}"))
    assert ws.protocol == "hiremesh.v1"
    hello = await ws.receive_json()
    assert hello["type"] == "connection" and hello["status"] == "connected" and hello["task_id"] == "op_missing"
    err = await ws.receive_json()
    assert err["type"] == "error" and err["code"] == 404 and err["task_id"] == "op_missing"
    await ws.send_json({"action": "ping"})
    assert (await ws.receive_json())["type"] == "pong"
    await ws.send_str("nonsense")
    assert (await ws.receive_json())["code"] == 400
    await ws.close()
    ws = await client.ws_connect(f"/ws/tasks?access_token={token(Role.VIEWER)}")
    assert (await ws.receive_json())["type"] == "connection"
    await ws.close()


async def test_openapi_document_passes_a_third_party_validator(client: GatewayClient) -> None:
    # A client generator needs a valid OpenAPI 3 document: unique operationIds, resolvable refs, valid schemas.
    resp = await client.get("/api/v1/openapi.json", headers=auth(Role.VIEWER))
    doc = await resp.json()
    validate(doc)
    ids = [op["operationId"] for ops in doc["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids))

"""Every REST route demands a bearer token, and every write demands more than the viewer role.

The route list comes from the gateway's own OpenAPI document, so a route added later is covered without
touching this file.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import aiohttp
import pytest

from tests.fixtures.mesh import Mesh

pytestmark = pytest.mark.asyncio(loop_scope="session")

_PARAM = re.compile(r"\{(\w+)\}")
_ROLE_RANK = {"viewer": 0, "recruiter": 1, "admin": 2}


async def _document(mesh: Mesh) -> dict[str, Any]:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{mesh.url}/api/v1/openapi.json", headers=mesh.headers("viewer")) as resp,
    ):
        assert resp.status == 200
        return dict(await resp.json())


def _operations(doc: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(METHOD, concrete path, required role) for every operation, path parameters filled with a UUID."""
    out = []
    for template, item in doc["paths"].items():
        path = _PARAM.sub(lambda _m: str(uuid.uuid4()), template)
        for method, op in item.items():
            out.append((method.upper(), path, op.get("x-required-role", "viewer")))
    return out


async def _status(http: aiohttp.ClientSession, method: str, url: str, headers: dict[str, str]) -> tuple[int, str]:
    body: dict[str, Any] | None = {} if method in ("POST", "PATCH", "PUT") else None
    async with http.request(method, url, json=body, headers=headers) as resp:
        return resp.status, await resp.text()


async def test_every_route_without_a_token_is_401(mesh: Mesh) -> None:
    doc = await _document(mesh)
    ops = _operations(doc)
    assert len(ops) >= 30, f"the OpenAPI document lists only {len(ops)} operations"
    wrong: list[str] = []
    async with aiohttp.ClientSession() as http:
        for method, path, _role in ops:
            for label, headers in (
                ("none", {}),
                ("garbage", {"Authorization": "Bearer hmk_not-a-real-key"}),
                ("basic", {"Authorization": "Basic YWRtaW46YWRtaW4="}),
                ("forged-jwt", {"Authorization": "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."}),
            ):
                status, text = await _status(http, method, mesh.url + path, headers)
                if status != 401:
                    wrong.append(f"{method} {path} [{label}] -> {status} {text[:120]}")
    assert not wrong, "routes answering without a valid token:\n" + "\n".join(wrong)


async def test_websocket_without_a_token_is_refused(mesh: Mesh) -> None:
    async with aiohttp.ClientSession() as http:
        for path in ("/ws/tasks", f"/ws/tasks/{uuid.uuid4()}"):
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                async with http.ws_connect(mesh.url + path):
                    pass
            assert refused.value.status == 401


async def test_roles_below_the_route_minimum_get_403(mesh: Mesh) -> None:
    """A viewer may not write; a recruiter may not run admin routes (x-required-role in the document)."""
    doc = await _document(mesh)
    checked = 0
    wrong: list[str] = []
    async with aiohttp.ClientSession() as http:
        for method, path, needed in _operations(doc):
            for role in ("viewer", "recruiter"):
                if _ROLE_RANK[role] >= _ROLE_RANK[needed]:
                    continue
                checked += 1
                status, text = await _status(http, method, mesh.url + path, mesh.headers(role))
                if status != 403:
                    wrong.append(f"{method} {path} as {role} (needs {needed}) -> {status} {text[:120]}")
    assert checked >= 15, f"only {checked} role checks: does the document still carry x-required-role?"
    assert not wrong, "routes that let a lesser role through:\n" + "\n".join(wrong)


async def test_every_non_get_route_needs_more_than_viewer(mesh: Mesh) -> None:
    """Read-only searches posted as JSON (and the exchange of one's own token for a session JWT) are the only
    writes-by-verb a viewer may call."""
    doc = await _document(mesh)
    read_only_posts = {
        "/api/v1/search/candidates",
        "/api/v1/search/jobs",
        "/api/v1/guardrail/redact",
        "/api/v1/guardrail/scan",
        "/api/v1/guardrail/validate",
        "/api/v1/analytics/predictions/hire",
        "/api/v1/analytics/predictions/time-to-hire",
        "/api/v1/auth/token",
    }
    loose = [
        f"{m.upper()} {p}"
        for p, item in doc["paths"].items()
        for m, op in item.items()
        if m != "get" and op.get("x-required-role") == "viewer" and p not in read_only_posts
    ]
    assert not loose, f"state-changing routes open to viewers: {loose}"

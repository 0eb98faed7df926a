"""Issue 17 item 9: the smaller leaks.

An unusable LLM answer is never logged; database driver text never reaches a caller; /metrics on the
public port needs an admin; operations are their owner's (and admins'); viewers do not receive e-mail,
phone or resume text (docs/SECURITY.md); the admin-token file is 0600 at every start; the UI keeps a
short-lived session JWT in sessionStorage, never an API key in localStorage.
"""

from __future__ import annotations

import asyncio
import logging
import stat
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp
import grpc
import psycopg
import pytest
import pytest_asyncio

from gateway.__main__ import write_bootstrap_token
from gateway.tokens import verify_jwt
from gateway.users import UserStore
from hiremesh.clients import embedding_stub
from hiremesh.server import MeshServer
from hiremesh.v1 import embedding_pb2, embedding_pb2_grpc
from screening_svc.engines.auto import AutoEngine
from screening_svc.engines.base import ScreeningInput
from screening_svc.engines.client import ChatClient, LLMSettings
from screening_svc.engines.evidence import EvidenceEngine
from screening_svc.engines.llm import LLMEngine
from tests.fixtures.llm import FakeOpenAI, Reply
from tests.fixtures.mesh import Mesh, gateway_database, users_cli
from tests.fixtures.procs import REPO
from tests.screening_svc.test_engines_evidence import JOB, MATCHING

if TYPE_CHECKING:
    from playwright.async_api import Browser

PII_NAME, PII_EMAIL, PII_PHONE = "Zelda Quillfeather", "zelda.quillfeather@example.org", "+44 20 7946 0958"


async def test_an_unusable_llm_answer_is_not_logged(fake_llm: FakeOpenAI, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    fake_llm.default = Reply(f"Sure! {PII_NAME} ({PII_EMAIL}, {PII_PHONE}) looks like a great fit overall.")
    client = ChatClient(LLMSettings(base_url=fake_llm.base_url, model="fake-model", max_retries=1))
    result = await AutoEngine(LLMEngine(client), EvidenceEngine()).analyze(ScreeningInput(MATCHING, JOB))
    await client.close()
    assert result.degraded and "invalid_output" in result.reason
    for value in (PII_NAME, PII_EMAIL, PII_PHONE, "great fit"):
        assert value not in caplog.text and value not in result.reason


class _DatabaseDown(embedding_pb2_grpc.EmbeddingServiceServicer):
    async def GetModelInfo(
        self, request: embedding_pb2.GetModelInfoRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> embedding_pb2.GetModelInfoResponse:
        raise psycopg.OperationalError(
            'connection to server at "10.20.30.40", port 5432 failed: FATAL:  '
            'password authentication failed for user "svc_catalog_rw"'
        )


async def test_database_error_text_stays_in_the_service_log(caplog: pytest.LogCaptureFixture) -> None:
    server = MeshServer("leaky", 0, ["hiremesh.v1.EmbeddingService"], metrics_port=-1)
    # Embed and EmbedStream are left out on purpose (abstract in the stubs): the generated base answers UNIMPLEMENTED.
    embedding_pb2_grpc.add_EmbeddingServiceServicer_to_server(_DatabaseDown(), server.grpc)  # type: ignore[abstract]
    port = await server.start()
    try:
        with pytest.raises(grpc.aio.AioRpcError) as down:
            await embedding_stub(f"127.0.0.1:{port}").GetModelInfo(embedding_pb2.GetModelInfoRequest(), timeout=10)
    finally:
        await server.stop(0)
    assert down.value.code() == grpc.StatusCode.UNAVAILABLE
    details = down.value.details() or ""
    assert "database unavailable" in details
    assert "10.20.30.40" not in details and "svc_catalog_rw" not in details and "password" not in details
    assert "10.20.30.40" in caplog.text  # the operator still learns what happened


async def test_metrics_on_the_public_port_need_an_admin(mesh: Mesh) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{mesh.url}/metrics") as resp:
            assert resp.status == 401
        async with http.get(f"{mesh.url}/metrics", headers=mesh.headers("viewer")) as resp:
            assert resp.status == 403
        async with http.get(f"{mesh.url}/metrics", headers=mesh.headers("admin")) as resp:
            assert resp.status == 200 and "hiremesh_gateway_http_requests_total" in await resp.text()
        # Prometheus scrapes the metrics port, which the network policy fences, without a token.
        async with http.get(f"http://127.0.0.1:{mesh.gateway.metrics_port}/metrics") as resp:
            assert resp.status == 200 and "hiremesh_gateway_http_requests_total" in await resp.text()


async def test_operations_are_their_owners_and_admins(mesh: Mesh) -> None:
    async with aiohttp.ClientSession(mesh.url) as http:
        async with http.post(
            "/api/v1/analytics/sync", json={"mode": "incremental"}, headers=mesh.headers("recruiter")
        ) as resp:
            assert resp.status == 202, await resp.text()
            op_id = (await resp.json())["id"]
        async with http.get("/api/v1/operations", headers=mesh.headers("viewer")) as resp:
            assert op_id not in [o["id"] for o in (await resp.json())["operations"]]
        async with http.get(f"/api/v1/operations/{op_id}", headers=mesh.headers("viewer")) as resp:
            assert resp.status == 404
        async with http.ws_connect(f"/ws/tasks/{op_id}", headers=mesh.headers("viewer")) as ws:
            messages = [await ws.receive_json(timeout=10), await ws.receive_json(timeout=10)]
        assert messages[1]["type"] == "error" and messages[1]["code"] == 404
        for role in ("recruiter", "admin"):
            async with http.get(f"/api/v1/operations/{op_id}", headers=mesh.headers(role)) as resp:
                assert resp.status == 200, role
            async with http.get("/api/v1/operations", headers=mesh.headers(role)) as resp:
                assert op_id in [o["id"] for o in (await resp.json())["operations"]], role


async def test_viewers_do_not_receive_contact_details_or_resume_text(mesh: Mesh) -> None:
    tag = uuid.uuid4().hex[:8]
    resume = f"{PII_NAME}\n{PII_EMAIL} | {PII_PHONE}\nViewer test {tag}: Rust and Go systems engineer, 6 years.\n"
    form = aiohttp.FormData()
    form.add_field("email", PII_EMAIL)
    form.add_field("phone", PII_PHONE)
    form.add_field("resume", resume.encode(), filename=f"zelda-{tag}.txt", content_type="text/plain")
    async with aiohttp.ClientSession(mesh.url) as http:
        async with http.post("/api/v1/candidates", data=form, headers=mesh.headers("recruiter")) as resp:
            assert resp.status in (200, 201), await resp.text()
            cid = (await resp.json())["candidate"]["id"]
        seen: dict[str, list[dict[str, Any]]] = {}
        for role in ("viewer", "recruiter"):
            got = []
            async with http.get(f"/api/v1/candidates/{cid}", headers=mesh.headers(role)) as resp:
                got.append((await resp.json())["candidate"])
            async with http.get("/api/v1/candidates?page_size=500", headers=mesh.headers(role)) as resp:
                got += [c for c in (await resp.json())["candidates"] if c["id"] == cid]
            async with http.get(f"/api/v1/search/candidates?q={tag}&mode=keyword", headers=mesh.headers(role)) as resp:
                got += [h["candidate"] for h in (await resp.json())["hits"] if h["candidate"]["id"] == cid]
            assert len(got) == 3, (role, got)
            seen[role] = got
    for candidate in seen["viewer"]:
        assert candidate["name"]  # who they are professionally stays visible
        assert candidate["email"] == candidate["phone"] == candidate["resume_text"] == ""
        assert candidate["resume_file_name"] == ""
    for candidate in seen["recruiter"]:
        assert candidate["email"] == PII_EMAIL and tag in candidate["resume_text"]


async def test_the_admin_token_file_is_private_at_every_start(pg_url: str, tmp_path: Path) -> None:
    store = await UserStore.open(await gateway_database(pg_url), max_size=2)
    token_file = tmp_path / "admin-token"
    try:
        assert await write_bootstrap_token(store, token_file) is not None
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
        token_file.chmod(0o644)  # a copy, an editor or a careless chmod
        await write_bootstrap_token(store, token_file)  # the next start
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    finally:
        await store.close()


async def test_the_ui_keeps_a_session_jwt_not_an_api_key(mesh: Mesh) -> None:
    app = (REPO / "gateway" / "static" / "app.js").read_text()
    assert "localStorage.setItem" not in app and "sessionStorage.setItem" in app and "/auth/token" in app
    name = f"ui{uuid.uuid4().hex[:8]}"
    key = await asyncio.to_thread(users_cli, mesh.env, "add", name, "--role", "viewer")
    async with aiohttp.ClientSession(mesh.url) as http:
        async with http.post("/api/v1/auth/token", json={}, headers={"Authorization": f"Bearer {key}"}) as resp:
            assert resp.status == 201, await resp.text()
            session = await resp.json()
        assert session["token"] != key and session["token"].count(".") == 2
        assert 0 < session["expires_in"] <= 8 * 3600 and session["role"] == "viewer"
        async with http.post(
            "/api/v1/auth/token", json={"ttl_seconds": 10 * 86400}, headers={"Authorization": f"Bearer {key}"}
        ) as resp:
            assert resp.status == 400  # no session outlives the lifetime cap
        jwt_headers = {"Authorization": f"Bearer {session['token']}"}
        async with http.get("/api/v1/me", headers=jwt_headers) as resp:
            assert (await resp.json())["token_kind"] == "jwt"
        async with http.post("/api/v1/jobs", json={"title": "x"}, headers=jwt_headers) as resp:
            assert resp.status == 403  # the session has the key's role, not more
    with psycopg.connect(mesh.database_url) as conn:
        row = conn.execute("SELECT value FROM auth.settings WHERE name = 'jwt_secret'").fetchone()
    assert row is not None and verify_jwt(row[0], session["token"]).user == name


# --- the same in a real browser (`pytest -m browser`) ------------------------------------------------------


@pytest_asyncio.fixture(loop_scope="session")
async def chromium() -> AsyncIterator[Browser]:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=["--no-sandbox", "--headless", "--disable-gpu"]
        )
        try:
            yield browser
        finally:
            await browser.close()


@pytest.mark.browser
async def test_the_browser_stores_no_api_key(chromium: Browser, mesh: Mesh) -> None:
    from playwright.async_api import expect

    page = await chromium.new_page()
    await page.goto(mesh.url + "/")
    await page.evaluate("localStorage.setItem('hiremesh.token', 'hmk_left_by_an_old_version')")
    await page.reload()
    await page.fill("#token", mesh.recruiter_token)
    await page.click("#signin-form button[type=submit]")
    await expect(page.locator("#who-name")).to_be_visible()
    stored = await page.evaluate("[localStorage.getItem('hiremesh.token'), sessionStorage.getItem('hiremesh.session')]")
    assert stored[0] is None, "an API key is (still) in localStorage"
    assert stored[1] and stored[1] != mesh.recruiter_token and stored[1].count(".") == 2
    await page.close()

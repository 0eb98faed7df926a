"""The gateway against the real mesh: every route's happy path, each error mapping, auth, limits, WebSocket."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer

from gateway.app import build_app, create_gateway
from gateway.config import GatewayConfig
from gateway.tokens import Role, issue_jwt
from gateway.users import UserStore
from tests import real_resumes
from tests.fixtures.mesh import Mesh, users_cli
from tests.gateway.conftest import GatewayClient

pytestmark = pytest.mark.timeout(900)

RESUME_ADA = """Ada Lovelace
ada.lovelace@example.com | +44 20 7946 0958 | London
Senior Data Engineer with 8 years of experience building data pipelines in Python and SQL.
Skills: Python, SQL, Apache Airflow, Spark, PostgreSQL, Docker, Kubernetes, AWS
Experience: Lead data engineer at Analytical Engines Ltd (2017-2025): designed Airflow DAGs, Spark jobs,
PostgreSQL warehouses; mentored four engineers.
"""
RESUME_GRACE = """Grace Hopper
grace.hopper@example.com | New York
Backend engineer, 5 years of experience with Go, Kubernetes, gRPC and distributed systems.
Skills: Go, Kubernetes, gRPC, Docker, Prometheus, Linux
"""
JOB = {
    "title": "Data Engineer",
    "company": "Hiremesh Test Co",
    "location": "London",
    "min_experience": 3,
    "required_skills": ["python", "sql", "airflow"],
    "status": "open",
    "description": "Build batch and streaming pipelines in Python and SQL with Airflow and Spark on AWS.",
}


@pytest_asyncio.fixture(loop_scope="session")
async def http(mesh: Mesh) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=mesh.url, timeout=aiohttp.ClientTimeout(total=120)) as session:
        yield session


async def ok(resp: aiohttp.ClientResponse, status: int = 200) -> Any:
    text = await resp.text()
    assert resp.status == status, f"{resp.method} {resp.url} -> {resp.status}: {text}"
    return json.loads(text) if text else None


async def error(resp: aiohttp.ClientResponse, status: int, grpc_status: str) -> dict[str, Any]:
    body: dict[str, Any] = await resp.json()
    assert resp.status == status, body
    assert body["status"] == grpc_status and isinstance(body["message"], str) and "details" in body, body
    return body


async def upload(http: aiohttp.ClientSession, mesh: Mesh, name: str, text: str) -> dict[str, Any]:
    form = aiohttp.FormData()
    form.add_field("resume", text.encode(), filename=name, content_type="text/plain")
    async with http.post("/api/v1/candidates", data=form, headers=mesh.headers("recruiter")) as resp:
        assert resp.status in (200, 201), await resp.text()
        body: dict[str, Any] = await resp.json()
        return body


@pytest_asyncio.fixture(loop_scope="session")
async def job(http: aiohttp.ClientSession, mesh: Mesh) -> dict[str, Any]:
    async with http.post(
        "/api/v1/jobs",
        json={**JOB, "title": f"Data Engineer {uuid.uuid4().hex[:6]}"},
        headers=mesh.headers("recruiter"),
    ) as resp:
        body = await ok(resp, 201)
        assert resp.headers["Location"] == f"/api/v1/jobs/{body['job']['id']}"
        return dict(body["job"])


# --- probes -----------------------------------------------------------------------------------------
async def test_ready_and_healthy(http: aiohttp.ClientSession, mesh: Mesh) -> None:
    body = await ok(await http.get("/readyz"))
    assert set(body["backends"].values()) == {"SERVING"}
    assert (await http.get("/healthz")).status == 200
    metrics = await (await http.get("/metrics", headers=mesh.headers())).text()
    assert "hiremesh_gateway_http_requests_total" in metrics


# --- jobs -------------------------------------------------------------------------------------------
async def test_job_crud_and_errors(http: aiohttp.ClientSession, mesh: Mesh, job: dict[str, Any]) -> None:
    got = await ok(await http.get(f"/api/v1/jobs/{job['id']}", headers=mesh.headers("viewer")))
    assert got["job"]["title"] == job["title"] and got["job"]["status"] == "JOB_STATUS_OPEN"
    listed = await ok(await http.get("/api/v1/jobs?status=open&page_size=200", headers=mesh.headers("viewer")))
    assert job["id"] in {j["id"] for j in listed["jobs"]}
    patched = await ok(
        await http.patch(f"/api/v1/jobs/{job['id']}", json={"location": "Remote"}, headers=mesh.headers("recruiter"))
    )
    assert patched["job"]["location"] == "Remote" and patched["job"]["title"] == job["title"]
    await error(await http.get(f"/api/v1/jobs/{uuid.uuid4()}", headers=mesh.headers()), 404, "NOT_FOUND")
    await error(
        await http.post("/api/v1/jobs", json={"title": "", "description": ""}, headers=mesh.headers()),
        400,
        "INVALID_ARGUMENT",
    )
    doomed = await ok(await http.post("/api/v1/jobs", json={**JOB, "title": "Doomed"}, headers=mesh.headers()), 201)
    assert (await http.delete(f"/api/v1/jobs/{doomed['job']['id']}", headers=mesh.headers())).status == 204
    await error(await http.get(f"/api/v1/jobs/{doomed['job']['id']}", headers=mesh.headers()), 404, "NOT_FOUND")


# --- candidates -------------------------------------------------------------------------------------
async def test_candidate_upload_json_list_update_delete(http: aiohttp.ClientSession, mesh: Mesh) -> None:
    created = await upload(http, mesh, "ada.txt", RESUME_ADA)
    cand = created["candidate"]
    assert "python" in [s.lower() for s in cand["skills"]]
    again = await upload(http, mesh, "ada-copy.txt", RESUME_ADA)
    assert again["deduplicated"] is True and again["candidate"]["id"] == cand["id"]
    made = await ok(
        await http.post(
            "/api/v1/candidates",
            json={
                "name": "Json Person",
                "email": "json@example.com",
                "location": "Paris",
                "years_experience": 2,
                "skills": ["rust"],
                "resume_text": "Json Person, Rust developer with 2 years of experience.",
            },
            headers=mesh.headers("recruiter"),
        ),
        201,
    )
    page = await ok(await http.get("/api/v1/candidates?page_size=1", headers=mesh.headers("viewer")))
    assert len(page["candidates"]) == 1 and page["next_page_token"]
    filtered = await ok(
        await http.get("/api/v1/candidates?location=Paris&page_size=100", headers=mesh.headers("viewer"))
    )
    assert made["candidate"]["id"] in {c["id"] for c in filtered["candidates"]}
    cid = made["candidate"]["id"]
    patched = await ok(
        await http.patch(f"/api/v1/candidates/{cid}", json={"headline": "Rustacean"}, headers=mesh.headers("recruiter"))
    )
    assert patched["candidate"]["headline"] == "Rustacean" and patched["candidate"]["name"] == "Json Person"
    await error(
        await http.patch(f"/api/v1/candidates/{cid}", json={"nonsense": 1}, headers=mesh.headers()),
        400,
        "INVALID_ARGUMENT",
    )
    assert (await http.delete(f"/api/v1/candidates/{cid}", headers=mesh.headers("recruiter"))).status == 204
    await error(await http.get(f"/api/v1/candidates/{cid}", headers=mesh.headers()), 404, "NOT_FOUND")


async def test_resume_over_10_mb_is_413(http: aiohttp.ClientSession, mesh: Mesh) -> None:
    form = aiohttp.FormData()
    form.add_field("resume", b"a" * (10 * 1024 * 1024 + 1), filename="huge.txt", content_type="text/plain")
    await error(await http.post("/api/v1/candidates", data=form, headers=mesh.headers()), 413, "RESOURCE_EXHAUSTED")


async def test_bulk_import_runs_as_an_operation(http: aiohttp.ClientSession, mesh: Mesh) -> None:
    form = aiohttp.FormData()
    for i in range(3):
        form.add_field(
            "files",
            f"Person {i} Import\nPython developer, {i + 1} years, SQL, Docker.\n".encode(),
            filename=f"import-{i}-{uuid.uuid4().hex[:6]}.txt",
            content_type="text/plain",
        )
    resp = await http.post("/api/v1/imports", data=form, headers=mesh.headers("recruiter"))
    op = await ok(resp, 202)
    assert resp.headers["Location"] == f"/api/v1/operations/{op['id']}"
    final = await follow(mesh, op["id"])
    assert final["status"] == "completed", final
    assert int(final["result"]["summary"]["created"]) + int(final["result"]["summary"]["duplicates"]) == 3
    got = await ok(await http.get(f"/api/v1/operations/{op['id']}", headers=mesh.headers("recruiter")))
    assert got["status"] == "completed"
    # Operations are their owner's (and admins'): another user's is as good as absent.
    await error(await http.get(f"/api/v1/operations/{op['id']}", headers=mesh.headers("viewer")), 404, "NOT_FOUND")


# --- applications and search ------------------------------------------------------------------------
async def test_applications_and_search_both_ways(http: aiohttp.ClientSession, mesh: Mesh, job: dict[str, Any]) -> None:
    ada = (await upload(http, mesh, "ada.txt", RESUME_ADA))["candidate"]
    grace = (await upload(http, mesh, "grace.txt", RESUME_GRACE))["candidate"]
    app = await ok(
        await http.post(
            "/api/v1/applications",
            json={"candidate_id": ada["id"], "job_id": job["id"]},
            headers=mesh.headers("recruiter"),
        ),
        201,
    )
    app_id = app["application"]["id"]
    await error(
        await http.post(
            "/api/v1/applications",
            json={"candidate_id": ada["id"], "job_id": job["id"]},
            headers=mesh.headers("recruiter"),
        ),
        409,
        "ALREADY_EXISTS",
    )
    moved = await ok(
        await http.patch(
            f"/api/v1/applications/{app_id}", json={"status": "reviewing"}, headers=mesh.headers("recruiter")
        )
    )
    assert moved["application"]["status"] == "APPLICATION_STATUS_REVIEWING"
    listed = await ok(await http.get(f"/api/v1/applications?job_id={job['id']}", headers=mesh.headers("viewer")))
    assert [a["id"] for a in listed["applications"]] == [app_id]
    assert (await ok(await http.get(f"/api/v1/applications/{app_id}", headers=mesh.headers())))["application"]

    matches = await ok(
        await http.get(f"/api/v1/jobs/{job['id']}/candidates?mode=hybrid&top_k=5", headers=mesh.headers("viewer"))
    )
    ids = [hit["candidate"]["id"] for hit in matches["hits"]]
    assert ada["id"] in ids and (grace["id"] not in ids or ids.index(ada["id"]) < ids.index(grace["id"]))
    top = next(hit for hit in matches["hits"] if hit["candidate"]["id"] == ada["id"])
    assert top["match"]["cosine_similarity"] > 0 and "python" in [s.lower() for s in top["match"]["matched_skills"]]
    vector = await ok(
        await http.get(
            "/api/v1/search/candidates?q=go+kubernetes+grpc&mode=vector&top_k=3", headers=mesh.headers("viewer")
        )
    )
    assert vector["mode"] == "SEARCH_MODE_VECTOR" and vector["hits"][0]["candidate"]["id"] == grace["id"]
    strict = await ok(
        await http.get(
            "/api/v1/search/candidates?q=go+kubernetes&mode=vector&min_similarity=0.99", headers=mesh.headers("viewer")
        )
    )
    assert strict["hits"] == []
    jobs = await ok(
        await http.post(
            "/api/v1/search/jobs",
            json={"candidate_id": ada["id"], "options": {"mode": "hybrid", "top_k": 50}},
            headers=mesh.headers("viewer"),
        )
    )
    assert job["id"] in [hit["job"]["id"] for hit in jobs["hits"]]
    by_path = await ok(await http.get(f"/api/v1/candidates/{ada['id']}/jobs?top_k=50", headers=mesh.headers()))
    assert job["id"] in [hit["job"]["id"] for hit in by_path["hits"]]
    await error(
        await http.get("/api/v1/search/candidates?q=python&mode=fuzzy", headers=mesh.headers()), 400, "INVALID_ARGUMENT"
    )
    await error(await http.get(f"/api/v1/jobs/{uuid.uuid4()}/candidates", headers=mesh.headers()), 404, "NOT_FOUND")


async def test_request_deadline_reaches_the_grpc_call(http: aiohttp.ClientSession, mesh: Mesh) -> None:
    body = await error(
        await http.get(
            "/api/v1/search/candidates?q=python+sql+airflow", headers={**mesh.headers(), "X-Request-Timeout": "1ms"}
        ),
        504,
        "DEADLINE_EXCEEDED",
    )
    assert body["code"] == 4
    fine = await http.get("/api/v1/search/candidates?q=python", headers={**mesh.headers(), "grpc-timeout": "20S"})
    assert fine.status == 200


# --- screening over REST and WebSocket --------------------------------------------------------------
async def follow(mesh: Mesh, task_id: str, timeout: float = 300) -> dict[str, Any]:
    """Watch `task_id` on the WebSocket until it ends; returns the last update (all are checked)."""
    updates = await watch(mesh, task_id, timeout)
    return updates[-1]


async def watch(mesh: Mesh, task_id: str, timeout: float = 300) -> list[dict[str, Any]]:
    updates: list[dict[str, Any]] = []
    # Operations are their owner's and admins' only; screening tasks any viewer may follow.
    token = mesh.admin_token if task_id.startswith("op_") else mesh.viewer_token
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(f"{mesh.url}/ws/tasks/{task_id}", protocols=("hiremesh.v1", f"bearer.{token}")) as ws,
    ):
        hello = await ws.receive_json(timeout=30)
        assert hello["type"] == "connection" and hello["status"] == "connected"
        async with asyncio.timeout(timeout):
            while True:
                msg = await ws.receive_json()
                assert msg["type"] == "task_update", msg
                assert msg["task_id"] == task_id and msg["timestamp"]
                updates.append(msg)
                if msg["status"] in ("completed", "failed"):
                    return updates


async def test_screening_task_over_rest_and_websocket(
    http: aiohttp.ClientSession, mesh: Mesh, job: dict[str, Any]
) -> None:
    ada = (await upload(http, mesh, "ada.txt", RESUME_ADA))["candidate"]
    resp = await http.post(
        "/api/v1/screenings",
        json={"candidate_id": ada["id"], "job_id": job["id"], "engine": "evidence"},
        headers=mesh.headers("recruiter"),
    )
    submitted = await ok(resp, 202)
    task_id = submitted["task"]["id"]
    assert resp.headers["Location"] == f"/api/v1/screenings/{task_id}"
    updates = await watch(mesh, task_id)
    statuses = [u["status"] for u in updates]
    assert statuses[-1] == "completed", updates[-1]
    assert set(statuses) <= {"started", "progress", "completed"}
    progress = [u["progress"] for u in updates]
    assert progress == sorted(progress) and progress[-1] == 100
    result = updates[-1]["result"]
    assert 0 <= result["analysis"]["match_score"] <= 100 and result["analysis"]["interview_questions"]
    assert "safety" in result and result["candidate_id"] == ada["id"]
    # A client that reconnects gets the current (final) state first.
    again = await watch(mesh, task_id, timeout=60)
    assert again[0]["status"] == "completed" and again[0]["progress"] == 100

    task = await ok(await http.get(resp.headers["Location"], headers=mesh.headers("viewer")))
    assert task["task"]["state"] == "TASK_STATE_SUCCEEDED" and task["result"]["id"] == result["id"]
    results = await ok(await http.get(f"/api/v1/screening-results?job_id={job['id']}", headers=mesh.headers()))
    assert result["id"] in [r["id"] for r in results["results"]]
    one = await ok(await http.get(f"/api/v1/screening-results/{result['id']}", headers=mesh.headers()))
    assert one["result"]["task_id"] == task_id
    await error(
        await http.post(f"/api/v1/screenings/{task_id}/cancel", headers=mesh.headers("recruiter")),
        412,
        "FAILED_PRECONDITION",
    )
    await error(await http.get(f"/api/v1/screenings/{uuid.uuid4()}", headers=mesh.headers()), 404, "NOT_FOUND")
    await error(
        await http.post("/api/v1/screenings", json={"job_id": job["id"]}, headers=mesh.headers()),
        400,
        "INVALID_ARGUMENT",
    )


async def test_one_socket_watches_several_tasks(http: aiohttp.ClientSession, mesh: Mesh, job: dict[str, Any]) -> None:
    ada = (await upload(http, mesh, "ada.txt", RESUME_ADA))["candidate"]
    grace = (await upload(http, mesh, "grace.txt", RESUME_GRACE))["candidate"]
    ids = []
    for cand in (ada, grace):
        body = await ok(
            await http.post(
                "/api/v1/screenings",
                json={"candidate_id": cand["id"], "job_id": job["id"]},
                headers=mesh.headers("recruiter"),
            ),
            202,
        )
        ids.append(body["task"]["id"])
    done: dict[str, str] = {}
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(f"{mesh.url}/ws/tasks", headers=mesh.headers("viewer")) as ws,
    ):
        assert (await ws.receive_json(timeout=30))["type"] == "connection"
        for task_id in ids:
            await ws.send_json({"action": "watch", "task_id": task_id})
        await ws.send_json({"action": "watch", "task_id": str(uuid.uuid4())})
        missing = 0
        async with asyncio.timeout(300):
            while len(done) < 2 or missing < 1:
                msg = await ws.receive_json()
                if msg["type"] == "error":
                    assert msg["code"] == 404 and msg["status"] == "NOT_FOUND"
                    # The socket's error carries screening's google.rpc details, as an HTTP error body would.
                    info = [d for d in msg["details"] if d["@type"].endswith("google.rpc.ErrorInfo")]
                    assert info and info[0]["domain"] == "hiremesh.dev" and info[0]["reason"], msg
                    missing += 1
                elif msg["status"] in ("completed", "failed"):
                    done[msg["task_id"]] = msg["status"]
    assert done == dict.fromkeys(ids, "completed")


# --- guardrail and analytics ------------------------------------------------------------------------
async def test_guardrail_scan(http: aiohttp.ClientSession, mesh: Mesh) -> None:
    body = await ok(
        await http.post(
            "/api/v1/guardrail/scan",
            json={"text": "Reach me at jane.doe@example.com", "options": {"checks": ["pii"]}},
            headers=mesh.headers("viewer"),
        )
    )
    assert "EMAIL_ADDRESS" in [f["entity_type"] for f in body["report"]["pii"]]
    await error(await http.post("/api/v1/guardrail/scan", json={}, headers=mesh.headers()), 400, "INVALID_ARGUMENT")


async def test_analytics_sync_reports_training_and_predictions(http: aiohttp.ClientSession, mesh: Mesh) -> None:
    features = {
        "match_score": 80,
        "skills_score": 75,
        "experience_score": 70,
        "semantic_score": 60,
        "years_experience": 6,
        "required_experience": 3,
        "skills_count": 8,
        "missing_skills_count": 1,
        "ai_confidence": 0.8,
    }
    resp = await http.post("/api/v1/analytics/sync", json={"mode": "full"}, headers=mesh.headers("recruiter"))
    op = await ok(resp, 202)
    assert (await follow(mesh, op["id"]))["status"] == "completed"
    funnel = await ok(await http.get("/api/v1/analytics/reports/funnel", headers=mesh.headers("viewer")))
    assert funnel["records"] and {"stage", "applications"} <= set(funnel["records"][0])
    trends = await ok(await http.get("/api/v1/analytics/reports/safety_trends?weeks=52", headers=mesh.headers()))
    assert [c["name"] for c in trends["columns"]][:2] == ["week", "screened"]
    await error(await http.get("/api/v1/analytics/reports/nope", headers=mesh.headers()), 400, "INVALID_ARGUMENT")
    await error(
        await http.post("/api/v1/analytics/train", json={}, headers=mesh.headers("recruiter")), 403, "PERMISSION_DENIED"
    )
    op = await ok(
        await http.post(
            "/api/v1/analytics/train", json={"models": ["hire", "time_to_hire"]}, headers=mesh.headers("admin")
        ),
        202,
    )
    trained = await follow(mesh, op["id"])
    assert trained["status"] == "completed", trained
    hire = await ok(
        await http.post(
            "/api/v1/analytics/predictions/hire", json={"features": features}, headers=mesh.headers("viewer")
        )
    )
    assert 0 <= hire["probability"] <= 1 and hire["model_version"]
    days = await ok(
        await http.post(
            "/api/v1/analytics/predictions/time-to-hire", json={"features": features}, headers=mesh.headers("viewer")
        )
    )
    assert days["days"] > 0
    await error(
        await http.post(
            "/api/v1/analytics/predictions/hire", json={"application_id": str(uuid.uuid4())}, headers=mesh.headers()
        ),
        404,
        "NOT_FOUND",
    )


# --- auth and limits --------------------------------------------------------------------------------
async def test_auth_failures(http: aiohttp.ClientSession, mesh: Mesh) -> None:
    await error(await http.get("/api/v1/jobs"), 401, "UNAUTHENTICATED")
    await error(
        await http.get("/api/v1/jobs", headers={"Authorization": "Bearer hmk_00000000_wrong"}), 401, "UNAUTHENTICATED"
    )
    store = await UserStore.open(mesh.database_url, max_size=1)
    try:
        secret = await store.jwt_secret()
    finally:
        await store.close()
    expired = issue_jwt(secret, "admin", Role.ADMIN, -5)
    body = await error(
        await http.get("/api/v1/jobs", headers={"Authorization": f"Bearer {expired}"}), 401, "UNAUTHENTICATED"
    )
    assert "expired" in body["message"]
    fresh = await asyncio.to_thread(users_cli, mesh.env, "token", "victor", "--ttl", "600")
    assert (await http.get("/api/v1/me", headers={"Authorization": f"Bearer {fresh}"})).status == 200
    await error(
        await http.post("/api/v1/jobs", json=JOB, headers={"Authorization": f"Bearer {fresh}"}),
        403,
        "PERMISSION_DENIED",
    )
    await error(await http.post("/api/v1/jobs", json=JOB, headers=mesh.headers("viewer")), 403, "PERMISSION_DENIED")
    me = await ok(await http.get("/api/v1/me", headers=mesh.headers("admin")))
    assert me == {"user": "admin", "role": "admin", "token_kind": "api_key", "expires_at": None}
    with pytest.raises(aiohttp.WSServerHandshakeError) as exc:
        async with aiohttp.ClientSession() as session:
            await session.ws_connect(f"{mesh.url}/ws/tasks")
    assert exc.value.status == 401


@pytest_asyncio.fixture(loop_scope="session")
async def strict_gateway(mesh: Mesh) -> AsyncIterator[GatewayClient]:
    """An in-process gateway on the same mesh with a tiny rate limit and no auth cache."""
    config = replace(
        GatewayConfig(),
        database_url=mesh.database_url,
        backends=mesh.backends,
        rate_limit=0.2,
        rate_burst=3,
        auth_cache_seconds=0,
    )
    gw = await create_gateway(config)
    client = TestClient(TestServer(build_app(gw)))
    await client.start_server()
    try:
        yield client
    finally:
        await client.close()


async def test_rate_limit_429_and_revocation(strict_gateway: GatewayClient, mesh: Mesh) -> None:
    name = f"burst{uuid.uuid4().hex[:6]}"
    key = await asyncio.to_thread(users_cli, mesh.env, "add", name, "--role", "viewer")
    headers = {"Authorization": f"Bearer {key}"}
    statuses = [(await strict_gateway.get("/api/v1/jobs", headers=headers)).status for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    resp = await strict_gateway.get("/api/v1/jobs", headers=headers)
    await error(resp, 429, "RESOURCE_EXHAUSTED")
    assert int(resp.headers["Retry-After"]) >= 1
    # Another token is not throttled by this one.
    assert (await strict_gateway.get("/api/v1/me", headers=mesh.headers("recruiter"))).status == 200
    listed = await asyncio.to_thread(users_cli, mesh.env, "list")
    assert name in listed and "viewer" in listed
    await asyncio.to_thread(users_cli, mesh.env, "revoke", name)
    await error(await strict_gateway.get("/api/v1/me", headers=headers), 401, "UNAUTHENTICATED")


async def test_search_with_a_pasted_job_description_and_its_bad_inputs(http: aiohttp.ClientSession, mesh: Mesh) -> None:
    ada = (await upload(http, mesh, "ada-search.txt", RESUME_ADA))["candidate"]
    pasted = (
        "We are hiring a senior data engineer to design Airflow DAGs and Spark jobs, own our PostgreSQL "
        "warehouse and mentor the team; you know Python and SQL well and have shipped on AWS."
    )
    for mode in ("keyword", "hybrid"):
        body = await ok(
            await http.post(
                "/api/v1/search/candidates",
                json={"text": pasted, "options": {"mode": mode, "top_k": 5}},
                headers=mesh.headers("viewer"),
            )
        )
        hit = next(h for h in body["hits"] if h["candidate"]["id"] == ada["id"])  # a bag of words, not an AND
        match = hit["match"]
        assert match["lexical_similarity"] > 0 and match["keyword_rank"] == match["lexical_similarity"]
        scores = [h["match"]["score"] for h in body["hits"]]
        assert scores == sorted(scores, reverse=True)  # the score shown is the one the list is ordered by
        assert {h["match"]["fusion"] for h in body["hits"]} == {"lexical" if mode == "keyword" else "weighted_z"}
    # Bad input: a clear 400 naming the field, never a 500 or an empty 200.
    stop = await error(
        await http.get("/api/v1/search/candidates?q=the+and+of&mode=keyword", headers=mesh.headers()),
        400,
        "INVALID_ARGUMENT",
    )
    assert "stop words" in stop["message"]
    huge = await http.post("/api/v1/search/candidates", json={"text": "python " * 30_000}, headers=mesh.headers())
    assert huge.status == 400 and "text" in (await huge.json())["message"]
    weight = await error(
        await http.get("/api/v1/search/candidates?q=python&lexical_weight=2", headers=mesh.headers()),
        400,
        "INVALID_ARGUMENT",
    )
    assert "lexical_weight" in weight["message"]


async def test_profile_of_a_real_resume_over_rest(http: aiohttp.ClientSession, mesh: Mesh) -> None:
    # Unique text so an earlier run's row (deduplicated by sha256) is not returned instead.
    text = real_resumes.INDEED_ABHISHEK + f"\nref {uuid.uuid4().hex}\n"
    cand = (await upload(http, mesh, "resume-0001.txt", text))["candidate"]
    assert cand["name"] == "Abhishek Jha" and cand["name_source"] == "NAME_SOURCE_RESUME"
    assert cand["location"] == "Bengaluru, Karnataka" and cand["headline"] == "Application Development Associate"
    assert cand["education"][0] == {
        "degree": "B.E in Information science and engineering",
        "institution": "B.v.b college of engineering and technology",
        "year": 2017,
    }
    unnamed = (await upload(http, mesh, "scan.txt", real_resumes.CATEGORY_HR + uuid.uuid4().hex))["candidate"]
    assert unnamed["name"] == ""
    assert unnamed["name_source"] == "NAME_SOURCE_UNNAMED"
    from_file = (
        await upload(http, mesh, "React Developer_Vinay Reddy.txt", real_resumes.CATEGORY_HR + uuid.uuid4().hex)
    )["candidate"]
    assert from_file["name"] == "Vinay Reddy" and from_file["name_source"] == "NAME_SOURCE_FILE_NAME"
    patched = await ok(
        await http.patch(
            f"/api/v1/candidates/{unnamed['id']}",
            json={
                "name": "Asha Rao",
                "education": [{"degree": "BA", "institution": "Mumbai University", "year": 2015}],
            },
            headers=mesh.headers("recruiter"),
        )
    )
    assert patched["candidate"]["name_source"] == "NAME_SOURCE_GIVEN"
    assert patched["candidate"]["education"] == [{"degree": "BA", "institution": "Mumbai University", "year": 2015}]
    await error(
        await http.patch(
            f"/api/v1/candidates/{unnamed['id']}",
            json={"education": [{"year": 1200}]},
            headers=mesh.headers("recruiter"),
        ),
        400,
        "INVALID_ARGUMENT",
    )


async def test_guardrail_scan_finds_the_city_and_not_the_skills(http: aiohttp.ClientSession, mesh: Mesh) -> None:
    text = real_resumes.INDEED_JITENDRA + "\nTools: Jenkins, Teradata, Hibernate\n"
    body = await ok(
        await http.post(
            "/api/v1/guardrail/scan",
            json={"text": text, "options": {"checks": ["pii"]}},
            headers=mesh.headers("viewer"),
        )
    )
    found = {(f["entity_type"], text[f.get("start", 0) : f["end"]]) for f in body["report"]["pii"]}
    assert ("LOCATION", "Chennai, Tamil Nadu") in found and ("PERSON", "Jitendra Babu") in found
    assert not {v for k, v in found if k in ("PERSON", "LOCATION")} & {"Jenkins", "Teradata", "Hibernate"}

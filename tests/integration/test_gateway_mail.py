"""Candidate e-mails and the task queue through the gateway's REST API and /ws/queue, against the real mesh.

The session screening service delivers to the session SMTP server (which refuses `refused.example`
recipients with 550, as a real server refuses unknown users).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import aiohttp
import pytest
import pytest_asyncio

from hiremesh_ops.mailsink import MailSink, messages
from tests.fixtures.mail import REFUSED_DOMAIN
from tests.fixtures.mesh import Mesh

pytestmark = pytest.mark.timeout(600)
API = "/api/v1"
_V = TypeVar("_V")


@pytest_asyncio.fixture(loop_scope="session")
async def http(mesh: Mesh) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=mesh.url, timeout=aiohttp.ClientTimeout(total=60)) as session:
        yield session


async def call(
    http: aiohttp.ClientSession,
    method: str,
    path: str,
    mesh: Mesh,
    role: str = "admin",
    status: int = 200,
    **kwargs: Any,
) -> Any:
    async with http.request(method, API + path, headers=mesh.headers(role), **kwargs) as resp:
        text = await resp.text()
        assert resp.status == status, f"{method} {path} -> {resp.status}: {text}"
        return json.loads(text) if text else None


async def field_error(
    http: aiohttp.ClientSession, method: str, path: str, mesh: Mesh, field: str, **kwargs: Any
) -> dict[str, Any]:
    """A 400 whose body names `field` (the message starts with it and the BadRequest detail carries it)."""
    body: dict[str, Any] = await call(http, method, path, mesh, "admin", 400, **kwargs)
    assert body["status"] == "INVALID_ARGUMENT" and body["message"].startswith(field), body
    violations = [v for d in body["details"] for v in d.get("field_violations", [])]
    assert [v["field"] for v in violations] == [field], body
    return body


async def eventually(check: Callable[[], Awaitable[_V | None]], what: str, timeout: float = 60) -> _V:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = await check()
        if value:
            return value
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.2)


async def setup_application(http: aiohttp.ClientSession, mesh: Mesh, email: str) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:6]
    job = (
        await call(
            http,
            "POST",
            "/jobs",
            mesh,
            status=201,
            json={"title": f"Pipeline Engineer {tag}", "company": "Gateway Mail Co", "description": "Python and SQL."},
        )
    )["job"]
    cand = await call(
        http,
        "POST",
        "/candidates",
        mesh,
        status=201,
        json={"name": f"Lin {tag}", "email": email, "resume_text": f"Lin {tag}, data engineer with Python, {tag}."},
    )
    app = (
        await call(
            http,
            "POST",
            "/applications",
            mesh,
            status=201,
            json={"candidate_id": cand["candidate"]["id"], "job_id": job["id"]},
        )
    )["application"]
    return {"job": job, "candidate": cand["candidate"], "application": app}


async def mails_of(
    http: aiohttp.ClientSession, mesh: Mesh, application_id: str, state: str = "", count: int = 1
) -> list[dict[str, Any]]:
    query = f"?application_id={application_id}" + (f"&status={state}" if state else "")

    async def check() -> list[dict[str, Any]] | None:
        rows = (await call(http, "GET", "/notifications" + query, mesh, "viewer"))["notifications"]
        return rows if len(rows) >= count else None

    return await eventually(check, f"{count} {state or 'any'} e-mail(s) of {application_id}")


async def test_status_mails_are_listed_filtered_and_sent(
    http: aiohttp.ClientSession, mesh: Mesh, smtp_sink: MailSink
) -> None:
    address = f"lin.{uuid.uuid4().hex[:6]}@example.com"
    made = await setup_application(http, mesh, address)
    app_id = made["application"]["id"]
    await call(http, "PATCH", f"/applications/{app_id}", mesh, "recruiter", json={"status": "reviewing"})
    await call(http, "PATCH", f"/applications/{app_id}", mesh, "recruiter", json={"status": "reviewing"})
    sent = await mails_of(http, mesh, app_id, "sent", 2)
    assert len(sent) == 2 and {m["application_status"] for m in sent} == {
        "APPLICATION_STATUS_PENDING",
        "APPLICATION_STATUS_REVIEWING",
    }
    assert all(
        m["recipient"] == address and m["state"] == "NOTIFICATION_STATE_SENT" and m["attempts"] == 1 for m in sent
    )
    arrived = [m for m in messages(smtp_sink.folder) if m["To"] == address]
    assert sorted(m["Subject"] for m in arrived) == [f"Application update: {made['job']['title']}"] * 2
    by_candidate = await call(http, "GET", f"/notifications?candidate_id={made['candidate']['id']}", mesh, "viewer")
    assert by_candidate["total_size"] == "2"
    one = await call(http, "GET", f"/notifications/{sent[0]['id']}", mesh, "viewer")
    assert one["notification"]["id"] == sent[0]["id"]
    await call(http, "GET", f"/notifications/{uuid.uuid4()}", mesh, "viewer", 404)


async def test_bad_input_is_a_400_naming_the_field(http: aiohttp.ClientSession, mesh: Mesh) -> None:
    await field_error(http, "GET", "/notifications?status=lost", mesh, "status")
    await field_error(http, "GET", "/notifications?application_id=nope", mesh, "application_id")
    await field_error(http, "POST", "/candidates", mesh, "candidate.email", json={"name": "X", "email": "not-an-email"})
    made = await setup_application(http, mesh, f"kim.{uuid.uuid4().hex[:6]}@example.com")
    await field_error(
        http, "PATCH", f"/applications/{made['application']['id']}", mesh, "status", json={"status": "promoted"}
    )
    await field_error(
        http,
        "POST",
        "/notifications/preview",
        mesh,
        "body_template",
        json={"application_status": "rejected", "body_template": "Dear {candidate_name}, your {salary} offer"},
    )
    await field_error(http, "POST", "/notifications/preview", mesh, "application_status", json={})
    preview = await call(
        http,
        "POST",
        "/notifications/preview",
        mesh,
        "recruiter",
        json={
            "application_status": "accepted",
            "application_id": made["application"]["id"],
            "subject_template": "{job_title}: {status}",
        },
    )
    assert preview["subject"] == f"{made['job']['title']}: accepted"
    assert preview["recipient"] == made["candidate"]["email"] and "{candidate_name}" not in preview["body"]
    await field_error(http, "GET", "/task-queue?state=sleeping", mesh, "state")
    await field_error(http, "GET", "/task-queue?limit=9999", mesh, "limit")
    await field_error(http, "POST", "/task-queue/jobs/abc/cancel", mesh, "id")
    await field_error(http, "POST", "/task-queue/jobs/0/retry", mesh, "id")


async def test_a_refused_mail_fails_and_only_an_admin_resends_it(http: aiohttp.ClientSession, mesh: Mesh) -> None:
    made = await setup_application(http, mesh, f"ghost.{uuid.uuid4().hex[:6]}@{REFUSED_DOMAIN}")
    [failed] = await mails_of(http, mesh, made["application"]["id"], "failed")
    # The server refused the recipient: a lasting failure, no pointless retries.
    assert failed["attempts"] == 1 and "refused" in failed["error"] and "550" in failed["error"]
    path = f"/notifications/{failed['id']}/resend"
    await call(http, "POST", path, mesh, "recruiter", 403)
    resent = (await call(http, "POST", path, mesh, "admin"))["notification"]
    assert resent["state"] == "NOTIFICATION_STATE_QUEUED" and resent["attempts"] == 0

    async def failed_again() -> dict[str, Any] | None:
        row = (await call(http, "GET", f"/notifications/{failed['id']}", mesh))["notification"]
        return row if row["state"] == "NOTIFICATION_STATE_FAILED" else None

    again = await eventually(failed_again, "the resent mail to fail again")
    assert again["attempts"] == 1

    # The task monitor shows its delivery jobs failed, with the e-mail's error; retrying one is a resend.
    snap = (await call(http, "GET", "/task-queue?queue=mail&state=failed&limit=500", mesh, "viewer"))["snapshot"]
    jobs = [j for j in snap["jobs"] if j["reference_id"] == failed["id"]]
    assert len(jobs) == 2 and all(j["task_name"] == "mail.deliver" and "550" in j["error"] for j in jobs)
    await call(http, "POST", f"/task-queue/jobs/{jobs[0]['id']}/retry", mesh, "recruiter", 403)
    retried = await call(http, "POST", f"/task-queue/jobs/{jobs[0]['id']}/retry", mesh)
    assert "queued again" in retried["message"]
    await eventually(failed_again, "the retried mail to fail again")
    sent_row = (
        await mails_of(
            http,
            mesh,
            (await setup_application(http, mesh, f"ok.{uuid.uuid4().hex[:6]}@example.com"))["application"]["id"],
            "sent",
        )
    )[0]
    await call(http, "POST", f"/notifications/{sent_row['id']}/resend", mesh, "admin", 412)


async def test_task_queue_snapshot_and_live_socket(http: aiohttp.ClientSession, mesh: Mesh) -> None:
    made = await setup_application(http, mesh, f"ivy.{uuid.uuid4().hex[:6]}@example.com")
    task = (
        await call(
            http,
            "POST",
            "/screenings",
            mesh,
            "recruiter",
            202,
            json={"candidate_id": made["candidate"]["id"], "job_id": made["job"]["id"], "engine": "evidence"},
        )
    )["task"]
    async with http.ws_connect("/ws/queue?limit=20", protocols=("hiremesh.v1", f"bearer.{mesh.viewer_token}")) as ws:
        first = await ws.receive_json(timeout=30)
        assert first["type"] == "connection"
        seen: set[str] = set()
        while True:
            msg = await ws.receive_json(timeout=60)
            assert msg["type"] == "queue_snapshot", msg
            snap = msg["snapshot"]
            roles = {w["name"].rsplit(":", 1)[-1] for w in snap["workers"]}
            assert {"screening", "mail"} <= roles, snap["workers"]
            mine = [j for j in snap["jobs"] if j["reference_id"] == task["id"]]
            seen.update(j["state"] for j in mine)
            if "QUEUE_JOB_STATE_SUCCEEDED" in seen:
                break
    [job] = mine
    assert job["task_name"] == "screening.run" and job["attempts"] == 1 and job["duration_ms"] > 0
    done = await call(http, "GET", "/task-queue?queue=screening&throughput_minutes=5", mesh, "viewer")
    assert sum(int(t["succeeded"]) for t in done["snapshot"]["throughput"] if t["queue"] == "screening") >= 1
    await call(http, "POST", f"/task-queue/jobs/{job['id']}/cancel", mesh, "admin", 412)
    await call(http, "POST", f"/task-queue/jobs/{2**62}/cancel", mesh, "admin", 404)
    await call(http, "POST", f"/task-queue/jobs/{job['id']}/cancel", mesh, "viewer", 403)


async def test_a_screening_by_ids_opens_the_application_without_mailing(
    http: aiohttp.ClientSession, mesh: Mesh
) -> None:
    tag = uuid.uuid4().hex[:6]
    job = (
        await call(
            http,
            "POST",
            "/jobs",
            mesh,
            status=201,
            json={"title": f"Analyst {tag}", "description": "SQL and dashboards."},
        )
    )["job"]
    cand = await call(
        http,
        "POST",
        "/candidates",
        mesh,
        status=201,
        json={"name": f"Noor {tag}", "email": f"noor.{tag}@example.com", "resume_text": f"Noor {tag}: SQL analyst."},
    )
    cid = cand["candidate"]["id"]
    first = (
        await call(
            http,
            "POST",
            "/screenings",
            mesh,
            "recruiter",
            202,
            json={"candidate_id": cid, "job_id": job["id"], "engine": "evidence"},
        )
    )["task"]
    second = (
        await call(
            http,
            "POST",
            "/screenings",
            mesh,
            "recruiter",
            202,
            json={"candidate_id": cid, "job_id": job["id"], "engine": "evidence"},
        )
    )["task"]
    apps = (await call(http, "GET", f"/applications?candidate_id={cid}", mesh, "viewer"))["applications"]
    assert len(apps) == 1 and first["application_id"] == second["application_id"] == apps[0]["id"]
    [mail] = await mails_of(http, mesh, apps[0]["id"])
    assert mail["state"] == "NOTIFICATION_STATE_SKIPPED" and "opened for the candidate" in mail["error"]

"""Secrets and personal data stay out of the logs.

A full flow runs through the gateway with planted, unique values (an e-mail, a phone number, a name in the
resumes, and a search for the e-mail); afterwards every service's log file is scanned for them and for
every bearer token used (including a wrong one).
"""

from __future__ import annotations

import asyncio
import json
import secrets
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.fixtures.mesh import Mesh
from tests.fixtures.procs import LOG_DIR

pytestmark = pytest.mark.asyncio(loop_scope="session")


def _planted(n: int) -> list[dict[str, str]]:
    out = []
    for _ in range(n):
        tag = secrets.token_hex(4)
        digits = f"{secrets.randbelow(9000) + 1000}"
        out.append(
            {
                "name": f"Quillon Vanderpfister{tag.upper()[:3]}x",
                "email": f"pii.{tag}@plantedmail.example",
                "phone": f"+1 415 555 {digits}",
                "phone_digits": f"415555{digits}",
            }
        )
    return out


def _resume(p: dict[str, str]) -> str:
    return (
        f"{p['name']}\n{p['email']} | {p['phone']}\nSenior Python developer\n\n"
        "Experience: 7 years building Django and PostgreSQL services, Kubernetes, AWS, Docker.\n"
        "Led a team of 4 engineers; built REST APIs and data pipelines with Airflow.\n"
    )


def _log_files() -> list[Path]:
    return [p for p in LOG_DIR.rglob("*") if p.is_file()]


async def _create(http: aiohttp.ClientSession, mesh: Mesh, p: dict[str, str]) -> str:
    form = aiohttp.FormData()
    form.add_field("resume", _resume(p).encode(), filename="resume.txt", content_type="text/plain")
    async with http.post(f"{mesh.url}/api/v1/candidates", data=form, headers=mesh.headers("recruiter")) as resp:
        body = await resp.json()
        assert resp.status in (200, 201), body
        return str(body["candidate"]["id"])


async def _screen(http: aiohttp.ClientSession, mesh: Mesh, application_id: str) -> dict[str, Any]:
    async with http.post(
        f"{mesh.url}/api/v1/screenings",
        json={"application_id": application_id, "engine": "ENGINE_EVIDENCE"},
        headers=mesh.headers("recruiter"),
    ) as resp:
        body = await resp.json()
        assert resp.status == 202, body
    task_id = body["task"]["id"]
    for _ in range(600):
        async with http.get(f"{mesh.url}/api/v1/screenings/{task_id}", headers=mesh.headers("viewer")) as resp:
            body = await resp.json()
        if body["task"]["state"] in ("TASK_STATE_SUCCEEDED", "TASK_STATE_FAILED", "TASK_STATE_CANCELLED"):
            return dict(body)
        await asyncio.sleep(0.2)
    raise AssertionError(f"screening {task_id} did not finish: {body}")


async def test_no_pii_and_no_token_in_any_service_log(mesh: Mesh) -> None:
    planted = _planted(3)
    wrong_token = "hmk_" + secrets.token_urlsafe(24)
    async with aiohttp.ClientSession() as http:
        ids = [await _create(http, mesh, p) for p in planted]
        async with http.post(
            f"{mesh.url}/api/v1/jobs",
            headers=mesh.headers("recruiter"),
            json={
                "title": "Senior Python Developer",
                "description": "Django, PostgreSQL, Kubernetes, AWS.",
                "required_skills": ["Python", "Django", "Kubernetes"],
                "location": "Remote",
                "status": "JOB_STATUS_OPEN",
            },
        ) as resp:
            job = await resp.json()
            assert resp.status == 201, job
        async with http.post(
            f"{mesh.url}/api/v1/applications",
            headers=mesh.headers("recruiter"),
            json={"candidate_id": ids[0], "job_id": job["job"]["id"]},
        ) as resp:
            application = await resp.json()
            assert resp.status == 201, application
        # Searches carrying PII in the query (a recruiter pasting an e-mail) must not echo it to a log either.
        for q in (planted[1]["email"], f"python django {planted[2]['name']}"):
            async with http.get(
                f"{mesh.url}/api/v1/search/candidates", params={"q": q}, headers=mesh.headers("viewer")
            ) as resp:
                assert resp.status == 200, await resp.text()
        async with http.get(f"{mesh.url}/api/v1/candidates/{ids[1]}", headers=mesh.headers("admin")) as resp:
            assert resp.status == 200
        async with http.get(f"{mesh.url}/api/v1/me", headers={"Authorization": f"Bearer {wrong_token}"}) as resp:
            assert resp.status == 401
        done = await _screen(http, mesh, application["application"]["id"])
        assert done["task"]["state"] == "TASK_STATE_SUCCEEDED", done
    await asyncio.sleep(1.0)  # let buffered log lines reach the files

    secrets_to_find = {
        "admin token": mesh.admin_token,
        "recruiter token": mesh.recruiter_token,
        "viewer token": mesh.viewer_token,
        "rejected token": wrong_token,
    }
    for i, p in enumerate(planted):
        for kind in ("name", "email", "phone", "phone_digits"):
            secrets_to_find[f"resume {i} {kind}"] = p[kind]
    files = _log_files()
    assert any(f.name.startswith("gateway") for f in files), f"no gateway log in {LOG_DIR}: {files}"
    assert any(f.name.startswith("screening_svc") for f in files), f"no screening log in {LOG_DIR}"
    leaks = []
    for path in files:
        text = path.read_text(errors="replace")
        # JSON-escaped and lower-cased copies catch values logged inside a repr or a JSON payload.
        haystacks = (text, text.lower(), json.dumps(text))
        for label, value in secrets_to_find.items():
            if any(value.lower() in h.lower() for h in haystacks):
                line = next((ln for ln in text.splitlines() if value.lower() in ln.lower()), "")
                leaks.append(f"{label} in {path.name}: {line[:200]}")
    assert not leaks, "secrets or PII written to logs:\n" + "\n".join(leaks)

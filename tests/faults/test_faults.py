"""Fault injection with real processes: SIGKILL each service in turn and restart PostgreSQL, mid-work.

1. A 1,000-resume JSONL import while embedding_svc and search_svc are SIGKILLed and PostgreSQL restarts:
   the client sees UNAVAILABLE (never a hang) and re-runs the import; afterwards every record exists exactly
   once and every vector is fresh again.
2. 50 queued screenings while a worker, the gateway and search_svc are SIGKILLed and PostgreSQL restarts:
   REST clients see 503 or a refused connection and retry; every task succeeds exactly once.
3. The LLM endpoint refusing connections or hanging: screenings finish via the evidence engine within
   their deadline, marked degraded.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import grpc
import psycopg
import pytest
import pytest_asyncio

from hiremesh.clients import screening_stub, search_stub
from hiremesh.v1 import common_pb2, screening_pb2, search_pb2
from tests.faults.stack import Observed, Stack, build_stack, destroy_stack, kill_and_restart, probe
from tests.fixtures.llm import FakeOpenAI, Reply
from tests.fixtures.procs import free_port, spawn_service
from tests.fixtures.screening import FAST_QUEUE, SCREENING_HEALTH

pytestmark = pytest.mark.asyncio(loop_scope="session")

RECORDS = 1000
TASKS = 50
SKILLS = ["Python", "Go", "Rust", "SQL", "Django", "Kubernetes", "AWS", "React", "Airflow", "Spark"]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def stack(guardrail_addr: str, embedding_models: Path) -> AsyncIterator[Stack]:
    built = await build_stack(guardrail_addr, embedding_models)
    try:
        yield built
    finally:
        await destroy_stack(built)


def _records(tag: str) -> list[str]:
    out = []
    for i in range(RECORDS):
        skills = [SKILLS[(i + k) % len(SKILLS)] for k in range(3)]
        out.append(
            json.dumps(
                {
                    "name": f"Fault Person {i}",
                    "email": f"f{i}.{tag}@faults.example",
                    "resume_text": f"Engineer {i} ({tag}): {', '.join(skills)}; {i % 15} years.",
                    "years_experience": i % 15,
                    "skills": skills,
                }
            )
        )
    return out


def _scalar(url: str, query: str, params: tuple[object, ...] = ()) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(query, params).fetchone()
    assert row is not None
    return int(row[0])


async def _import_until_done(
    addr: str, records: list[str], progress: asyncio.Queue[int], errors: list[str]
) -> search_pb2.ImportSummary:
    """Run the import, retrying on UNAVAILABLE as a client should, until one attempt ends with a summary."""
    while True:
        stub = search_stub(addr)
        try:
            async for reply in stub.ImportCandidates(
                search_pb2.ImportCandidatesRequest(jsonl_records=records, batch_size=20), timeout=120
            ):
                progress.put_nowait(reply.progress.done)
                if reply.HasField("summary"):
                    return reply.summary
        except grpc.aio.AioRpcError as exc:
            errors.append(exc.code().name)
            await asyncio.sleep(0.3)


async def _wait_progress(progress: asyncio.Queue[int], at_least: int, done: asyncio.Event) -> None:
    while not done.is_set():
        try:
            if await asyncio.wait_for(progress.get(), 1.0) >= at_least:
                return
        except TimeoutError:
            continue


async def test_import_survives_killed_services_and_a_database_restart(stack: Stack) -> None:
    tag = secrets.token_hex(3)
    records = _records(tag)
    progress: asyncio.Queue[int] = asyncio.Queue()
    errors: list[str] = []
    observed = {"embedding": Observed(), "search": Observed()}
    faults_done = asyncio.Event()
    import_done = asyncio.Event()

    async def inject() -> None:
        await _wait_progress(progress, 100, import_done)
        await kill_and_restart(stack, "embedding", observed["embedding"], downtime=1.0)
        await _wait_progress(progress, 200, import_done)
        await kill_and_restart(stack, "search", observed["search"])
        await _wait_progress(progress, 200, import_done)
        await stack.restart_database()
        faults_done.set()

    async def client() -> list[search_pb2.ImportSummary]:
        # Re-run after success until every fault has landed: a re-run must create nothing.
        summaries = []
        while True:
            summaries.append(await _import_until_done(stack.procs["search"].addr, records, progress, errors))
            if faults_done.is_set():
                import_done.set()
                summaries.append(await _import_until_done(stack.procs["search"].addr, records, progress, errors))
                return summaries

    injector = asyncio.create_task(inject())
    summaries = await asyncio.wait_for(client(), 300)
    await asyncio.wait_for(injector, 60)

    assert errors, "no client ever saw the faults"
    assert set(errors) <= {"UNAVAILABLE"}, f"clients saw {errors}, expected UNAVAILABLE only"
    for name, seen in observed.items():
        assert seen.went_down_and_back(), f"{name} health: {seen.health}"
    final = summaries[-1]
    assert (final.created, final.duplicates, final.failed, final.total) == (0, RECORDS, 0, RECORDS)
    pattern = (f"%.{tag}@faults.example",)
    rows = _scalar(stack.catalog_url, "SELECT count(*) FROM catalog.candidates WHERE email LIKE %s", pattern)
    distinct = _scalar(
        stack.catalog_url, "SELECT count(DISTINCT email) FROM catalog.candidates WHERE email LIKE %s", pattern
    )
    assert (rows, distinct) == (RECORDS, RECORDS), "records lost or duplicated"
    # Rows written while embedding_svc was down heal through the catch-up loop.
    stale = -1
    for _ in range(240):
        stale = _scalar(
            stack.catalog_url,
            "SELECT count(*) FROM catalog.candidates WHERE embedded_at IS NULL OR embedded_at < updated_at",
        )
        if stale == 0:
            break
        await asyncio.sleep(0.5)
    assert stale == 0, f"{stale} candidates still without a fresh vector"


async def _rest(
    http: aiohttp.ClientSession, stack: Stack, method: str, path: str, seen: list[str], **kwargs: Any
) -> dict[str, Any]:
    """A REST call that retries on 503 / refused connections (the gateway restarting), recording each."""
    for _ in range(600):
        url = f"http://127.0.0.1:{stack.procs['gateway'].port}/api/v1{path}"
        try:
            async with http.request(
                method,
                url,
                headers={"Authorization": f"Bearer {stack.admin_token}"},
                timeout=aiohttp.ClientTimeout(total=30),
                **kwargs,
            ) as resp:
                if resp.status in (502, 503, 504):
                    seen.append(str(resp.status))
                else:
                    body = await resp.json()
                    assert resp.status < 300, (resp.status, body)
                    return dict(body)
        except aiohttp.ClientConnectionError:
            seen.append("refused")
        await asyncio.sleep(0.2)
    raise AssertionError(f"{method} {path} never succeeded: {seen[-5:]}")


async def test_screenings_finish_exactly_once_through_faults(stack: Stack) -> None:
    search = search_stub(stack.procs["search"].addr)
    job = (
        await search.CreateJob(
            search_pb2.CreateJobRequest(
                job=search_pb2.Job(
                    title="Backend engineer",
                    description="Python, SQL and Kubernetes services.",
                    required_skills=["Python", "SQL", "Kubernetes"],
                    status=common_pb2.JOB_STATUS_OPEN,
                )
            ),
            timeout=30,
        )
    ).job
    listed = await search.ListCandidates(search_pb2.ListCandidatesRequest(page_size=TASKS), timeout=30)
    assert len(listed.candidates) == TASKS
    apps = [
        (
            await search.CreateApplication(
                search_pb2.CreateApplicationRequest(
                    application=search_pb2.Application(candidate_id=c.id, job_id=job.id)
                ),
                timeout=30,
            )
        ).application.id
        for c in listed.candidates
    ]

    seen: list[str] = []
    observed = {name: Observed() for name in ("worker1", "gateway", "search")}
    async with aiohttp.ClientSession() as http:
        tasks = [
            str(
                (
                    await _rest(
                        http,
                        stack,
                        "POST",
                        "/screenings",
                        seen,
                        json={"application_id": a, "engine": "ENGINE_EVIDENCE"},
                    )
                )["task"]["id"]
            )
            for a in apps
        ]

        async def finished() -> int:
            return _scalar(stack.screening_url, "SELECT count(*) FROM screening.tasks WHERE state = 'succeeded'")

        async def wait_finished(at_least: int) -> None:
            for _ in range(600):
                if await finished() >= at_least:
                    return
                await asyncio.sleep(0.1)

        async def poll_all() -> dict[str, str]:
            states: dict[str, str] = {}
            for task_id in tasks:
                body = await _rest(http, stack, "GET", f"/screenings/{task_id}", seen)
                states[task_id] = str(body["task"]["state"])
            return states

        await wait_finished(3)
        await kill_and_restart(stack, "worker1", observed["worker1"])
        await wait_finished(10)
        poller = asyncio.create_task(poll_all())  # clients read through the gateway while it dies
        await kill_and_restart(stack, "gateway", observed["gateway"])
        await poller
        await wait_finished(18)
        # A client request while search_svc is down: the gateway answers 503 at once, no hang.
        stack.sigkill("search")
        url = f"http://127.0.0.1:{stack.procs['gateway'].port}/api/v1/jobs/{job.id}"
        async with http.get(
            url, headers={"Authorization": f"Bearer {stack.admin_token}"}, timeout=aiohttp.ClientTimeout(total=30)
        ) as resp:
            assert resp.status == 503, await resp.text()
            assert resp.headers.get("Retry-After")
        observed["search"].health += ["SERVING", await probe(stack, "search")]
        await asyncio.sleep(1.0)
        await stack.restart("search")
        observed["search"].health.append(await probe(stack, "search"))
        await stack.restart_database()

        states: dict[str, str] = {}
        for _ in range(240):
            states = await poll_all()
            if all(s in ("TASK_STATE_SUCCEEDED", "TASK_STATE_FAILED", "TASK_STATE_CANCELLED") for s in states.values()):
                break
            await asyncio.sleep(1.0)
    assert set(states.values()) == {"TASK_STATE_SUCCEEDED"}, states
    assert "refused" in seen or "503" in seen, f"clients never saw the gateway or a backend down: {seen}"
    for name, obs in observed.items():
        assert obs.went_down_and_back(), f"{name} health: {obs.health}"
    ids = (tasks,)
    assert (
        _scalar(stack.screening_url, "SELECT count(*) FROM screening.results WHERE task_id = ANY(%s::uuid[])", ids)
        == TASKS
    )
    assert (
        _scalar(
            stack.screening_url,
            "SELECT count(DISTINCT task_id) FROM screening.results WHERE task_id = ANY(%s::uuid[])",
            ids,
        )
        == TASKS
    )
    assert _scalar(stack.screening_url, "SELECT count(*) FROM screening.tasks WHERE state <> 'succeeded'") == 0


@pytest.mark.parametrize("failure", ["refused", "hanging"])
async def test_llm_down_or_hanging_degrades_to_evidence(stack: Stack, fake_llm: FakeOpenAI, failure: str) -> None:
    if failure == "refused":
        base_url = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    else:
        fake_llm.default = Reply(delay=3600)  # accepts the request and never answers
        base_url = fake_llm.base_url
    env = {
        **FAST_QUEUE,
        "HIREMESH_DATABASE_URL": stack.screening_url,
        "HIREMESH_SEARCH_ADDR": stack.procs["search"].addr,
        "HIREMESH_GUARDRAIL_ADDR": stack.guardrail_addr,
        "HIREMESH_EMBEDDING_ADDR": stack.procs["embedding"].addr,
        "HIREMESH_SCREENING_ENGINE": "auto",
        "HIREMESH_SCREENING_WORKERS": "1",
        "HIREMESH_LLM_BASE_URL": base_url,
        "HIREMESH_LLM_MODEL": "fake-model",
        "HIREMESH_LLM_DEADLINE_S": "4",
        "HIREMESH_LLM_ATTEMPT_TIMEOUT_S": "2",
        "HIREMESH_LLM_MAX_RETRIES": "1",
    }
    proc = await spawn_service("screening_svc", free_port(), env, SCREENING_HEALTH)
    try:
        search = search_stub(stack.procs["search"].addr)
        job = (
            await search.CreateJob(
                search_pb2.CreateJobRequest(
                    job=search_pb2.Job(
                        title=f"LLM {failure} role",
                        description="Go and Rust",
                        required_skills=["Go", "Rust"],
                        status=common_pb2.JOB_STATUS_OPEN,
                    )
                ),
                timeout=30,
            )
        ).job
        listed = await search.ListCandidates(search_pb2.ListCandidatesRequest(page_size=1), timeout=30)
        candidate = listed.candidates[0]
        screening = screening_stub(proc.addr)
        result = None
        # The deadline a caller would set; the screening must finish inside it, not hang on the LLM.
        async for reply in screening.Screen(
            screening_pb2.ScreenRequest(candidate_id=candidate.id, job_id=job.id, engine=screening_pb2.ENGINE_AUTO),
            timeout=60,
        ):
            if reply.event.HasField("result"):
                result = reply.event.result
        assert result is not None, "no result"
        assert result.engine == "evidence" and result.degraded, (result.engine, result.degraded)
        assert result.degraded_reason
        assert 0 <= result.analysis.match_score <= 100
    finally:
        await proc.stop()

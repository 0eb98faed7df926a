"""ScreeningService end to end: real screening_svc processes, search/guardrail/embedding, PostgreSQL.

Uses the evidence engine (HIREMESH_SCREENING_ENGINE=evidence) so no LLM is needed. To kill a worker while
it is provably inside a stage, worker processes get HIREMESH_SCREENING_TEST_STAGE_DELAY_MS, a test-only
hook (patched in by tests/fixtures/service_hooks.py) that holds the "analyzing" stage for that long.
"""

from __future__ import annotations

import asyncio
import math
import signal
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Awaitable
from dataclasses import dataclass

import grpc
import pytest
import pytest_asyncio
from google.protobuf import json_format

from hiremesh.clients import screening_stub, search_stub
from hiremesh.v1 import screening_pb2 as pb
from hiremesh.v1 import screening_pb2_grpc, search_pb2
from hiremesh_ops.probe import check
from tests.fixtures.procs import ServiceProcess, free_port, spawn_service, start_process
from tests.fixtures.screening import SCREENING_HEALTH, new_database, screening_env

T = 60  # per-call deadline; generous, the machine has two cores
STAGES = ["retrieving", "analyzing", "interviewing", "guarding", "done"]


def stage_name(value: pb.ScreeningStage.ValueType) -> str:
    return pb.ScreeningStage.Name(value).removeprefix("SCREENING_STAGE_").lower()


def state_name(value: pb.TaskState.ValueType) -> str:
    return pb.TaskState.Name(value).removeprefix("TASK_STATE_").lower()


@dataclass(frozen=True)
class Pair:
    candidate_id: str
    job_id: str
    application_id: str


async def _make_pairs(search_addr: str, count: int) -> list[Pair]:
    """One job and `count` candidates who applied to it, created through search_svc."""
    search = search_stub(search_addr)
    tag = uuid.uuid4().hex[:6]
    job = (
        await search.CreateJob(
            search_pb2.CreateJobRequest(
                job=search_pb2.Job(
                    title=f"Backend Engineer {tag}",
                    company="Acme",
                    location="Berlin",
                    min_experience=3,
                    description="Build Python services with PostgreSQL, Docker and Kubernetes; gRPC APIs; on-call.",
                    required_skills=["Python", "PostgreSQL", "Docker", "Kubernetes"],
                )
            ),
            timeout=T,
        )
    ).job
    pairs = []
    for i in range(count):
        resume = (
            f"Dev {tag}{i}\nSenior backend engineer, {4 + i} years of Python, PostgreSQL and Docker. "
            "Built gRPC microservices, CI pipelines and observability with Prometheus."
        )
        cand = (
            await search.CreateCandidate(
                search_pb2.CreateCandidateRequest(
                    candidate=search_pb2.Candidate(
                        name=f"Dev {tag}{i}",
                        email=f"dev{tag}{i}@example.com",
                        years_experience=4 + i,
                        skills=["Python", "PostgreSQL", "Docker"],
                    ),
                    resume=search_pb2.ResumeFile(
                        file_name=f"dev{i}.txt", media_type="text/plain", content=resume.encode()
                    ),
                ),
                timeout=T,
            )
        ).candidate
        app = (
            await search.CreateApplication(
                search_pb2.CreateApplicationRequest(
                    application=search_pb2.Application(candidate_id=cand.id, job_id=job.id)
                ),
                timeout=T,
            )
        ).application
        pairs.append(Pair(cand.id, job.id, app.id))
    return pairs


async def _collect(call: AsyncIterable[pb.WatchScreeningTaskResponse]) -> list[pb.ScreeningEvent]:
    return [reply.event async for reply in call]


async def _wait_stage(
    stub: screening_pb2_grpc.ScreeningServiceAsyncStub, task_id: str, stage: str, timeout: float = 90
) -> pb.ScreeningTask:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        task = (await stub.GetScreeningTask(pb.GetScreeningTaskRequest(id=task_id), timeout=T)).task
        if stage_name(task.stage) == stage and state_name(task.state) == "running":
            return task
        assert loop.time() < deadline, f"task never reached {stage}: {task}"
        await asyncio.sleep(0.1)


# --- the shared session service ---------------------------------------------------------------------------


async def test_screen_streams_every_stage_then_the_stored_result(screening_addr: str, search_addr: str) -> None:
    [pair] = await _make_pairs(search_addr, 1)
    stub = screening_stub(screening_addr)
    events = [
        reply.event
        async for reply in stub.Screen(
            pb.ScreenRequest(candidate_id=pair.candidate_id, job_id=pair.job_id, engine=pb.ENGINE_EVIDENCE), timeout=T
        )
    ]

    stages = [stage_name(e.stage) for e in events]
    assert [s for s in STAGES if s in stages] == STAGES
    assert stages[-1] == "done" and stages.index("retrieving") < stages.index("guarding")
    percents = [e.percent for e in events]
    assert percents == sorted(percents) and percents[-1] == 100
    final = events[-1]
    assert state_name(final.state) == "succeeded" and final.HasField("result")
    result = final.result
    assert result.engine == "evidence" and 0 <= result.analysis.match_score <= 100
    assert result.analysis.summary and result.safety.summary
    assert any(t.agent == "guardrail" for t in result.traces)
    # The retriever's hybrid-search context is gathered alongside the analysis and kept with the result.
    retriever = result.traces[0]
    assert retriever.agent == "retriever" and "SearchService.SearchCandidates" in retriever.tool_calls
    context = json_format.MessageToDict(retriever.context)
    peers = context["similar_candidates"]
    # Peer scores are hybrid search's fused z-scores: relative to the catalog, so any sign (0 for a lone row).
    assert len(peers) >= 1 and all(p["candidate_id"] and math.isfinite(p["score"]) for p in peers)
    assert context["search_rank"] >= 0
    stored = (await stub.GetScreeningResult(pb.GetScreeningResultRequest(id=result.id), timeout=T)).result
    assert stored.analysis == result.analysis and stored.candidate_id == pair.candidate_id
    assert stored.traces[0].context == retriever.context


async def test_batch_screening_runs_every_application_once(screening_addr: str, search_addr: str) -> None:
    pairs = await _make_pairs(search_addr, 3)
    stub = screening_stub(screening_addr)
    reply = await stub.SubmitBatchScreening(
        pb.SubmitBatchScreeningRequest(job_id=pairs[0].job_id, priority=10, engine=pb.ENGINE_EVIDENCE), timeout=T
    )
    assert sorted(t.application_id for t in reply.tasks) == sorted(p.application_id for p in pairs)
    assert all(state_name(t.state) == "queued" and t.priority == 10 for t in reply.tasks)
    finals = await asyncio.gather(
        *[_collect(stub.WatchScreeningTask(pb.WatchScreeningTaskRequest(id=t.id), timeout=120)) for t in reply.tasks]
    )
    assert all(state_name(events[-1].state) == "succeeded" for events in finals)
    listed = await stub.ListScreeningResults(pb.ListScreeningResultsRequest(job_id=pairs[0].job_id), timeout=T)
    assert sorted(r.application_id for r in listed.results) == sorted(p.application_id for p in pairs)
    # Watching a finished task yields its final state (with the result) and ends.
    late = await _collect(stub.WatchScreeningTask(pb.WatchScreeningTaskRequest(id=reply.tasks[0].id), timeout=T))
    assert len(late) == 1 and state_name(late[0].state) == "succeeded" and late[0].result.id


async def test_bad_input_is_rejected_with_the_right_code(screening_addr: str, search_addr: str) -> None:
    [pair] = await _make_pairs(search_addr, 1)
    stub = screening_stub(screening_addr)
    missing = str(uuid.uuid4())
    cases: list[tuple[Awaitable[object], grpc.StatusCode, str]] = [
        (
            stub.SubmitScreening(pb.SubmitScreeningRequest(), timeout=T),
            grpc.StatusCode.INVALID_ARGUMENT,
            "application_id",
        ),
        (
            stub.SubmitScreening(pb.SubmitScreeningRequest(candidate_id=pair.candidate_id), timeout=T),
            grpc.StatusCode.INVALID_ARGUMENT,
            "job_id",
        ),
        (
            stub.SubmitScreening(
                pb.SubmitScreeningRequest(application_id=pair.application_id, priority=101), timeout=T
            ),
            grpc.StatusCode.INVALID_ARGUMENT,
            "priority",
        ),
        (
            stub.SubmitScreening(pb.SubmitScreeningRequest(application_id="nope"), timeout=T),
            grpc.StatusCode.INVALID_ARGUMENT,
            "application_id",
        ),
        (
            stub.SubmitScreening(pb.SubmitScreeningRequest(application_id=missing), timeout=T),
            grpc.StatusCode.NOT_FOUND,
            missing,
        ),
        (
            stub.SubmitScreening(pb.SubmitScreeningRequest(candidate_id=missing, job_id=pair.job_id), timeout=T),
            grpc.StatusCode.NOT_FOUND,
            missing,
        ),
        (
            stub.SubmitBatchScreening(pb.SubmitBatchScreeningRequest(job_id=missing), timeout=T),
            grpc.StatusCode.NOT_FOUND,
            missing,
        ),
        (stub.GetScreeningTask(pb.GetScreeningTaskRequest(id=missing), timeout=T), grpc.StatusCode.NOT_FOUND, missing),
        (
            stub.CancelScreeningTask(pb.CancelScreeningTaskRequest(id=""), timeout=T),
            grpc.StatusCode.INVALID_ARGUMENT,
            "id",
        ),
    ]
    for call, code, mentioned in cases:
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await call
        assert info.value.code() == code, info.value.details()
        assert mentioned in (info.value.details() or "")
    with pytest.raises(grpc.aio.AioRpcError) as streamed:
        async for _ in stub.Screen(pb.ScreenRequest(job_id=pair.job_id), timeout=T):
            pass
    assert streamed.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "candidate_id" in (
        streamed.value.details() or ""
    )


# --- replicas and workers on one database -------------------------------------------------------------------


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def shared_db(pg_url: str) -> str:
    return await new_database(pg_url, "screening_replicas")


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def replicas(shared_db: str, search_addr: str, guardrail_addr: str) -> AsyncIterator[list[ServiceProcess]]:
    """Two ScreeningService replicas on one database, running no workers themselves."""
    env = screening_env(shared_db, search_addr, guardrail_addr, HIREMESH_SCREENING_WORKERS="0")
    procs = [await spawn_service("screening_svc", free_port(), env, SCREENING_HEALTH) for _ in range(2)]
    try:
        yield procs
    finally:
        for proc in procs:
            await proc.stop()


async def _worker(shared_db: str, search_addr: str, guardrail_addr: str, delay_ms: int) -> ServiceProcess:
    env = screening_env(
        shared_db,
        search_addr,
        guardrail_addr,
        HIREMESH_SCREENING_WORKERS="1",
        HIREMESH_SCREENING_TEST_STAGE_DELAY_MS=str(delay_ms),
    )
    return await spawn_service("screening_svc", free_port(), env, "", args=["--worker-only"])


async def test_killed_worker_task_finishes_once_and_watchers_on_both_replicas_see_every_stage(
    replicas: list[ServiceProcess], shared_db: str, search_addr: str, guardrail_addr: str
) -> None:
    [pair] = await _make_pairs(search_addr, 1)
    stub_a, stub_b = (screening_stub(p.addr) for p in replicas)
    doomed = await _worker(shared_db, search_addr, guardrail_addr, delay_ms=600_000)
    rescuer: ServiceProcess | None = None
    try:
        task = (
            await stub_a.SubmitScreening(
                pb.SubmitScreeningRequest(application_id=pair.application_id, engine=pb.ENGINE_EVIDENCE), timeout=T
            )
        ).task
        watchers = [
            asyncio.create_task(
                _collect(stub.WatchScreeningTask(pb.WatchScreeningTaskRequest(id=task.id), timeout=300))
            )
            for stub in (stub_a, stub_b)
        ]
        held = await _wait_stage(stub_b, task.id, "analyzing")
        assert held.attempts == 1

        # A watcher arriving mid-task first gets the current state.
        late_call = stub_b.WatchScreeningTask(pb.WatchScreeningTaskRequest(id=task.id), timeout=300)
        first = await late_call.read()
        assert isinstance(first, pb.WatchScreeningTaskResponse)
        assert (state_name(first.event.state), stage_name(first.event.stage)) == ("running", "analyzing")
        assert first.event.percent > 0

        doomed.proc.send_signal(signal.SIGKILL)
        await asyncio.to_thread(doomed.proc.wait)
        rescuer = await _worker(shared_db, search_addr, guardrail_addr, delay_ms=0)
        seen_a, seen_b = await asyncio.wait_for(asyncio.gather(*watchers), 240)
        late_rest = []
        # grpc-stubs declares read()'s EOFType but not the grpc.aio.EOF sentinel itself
        while (reply := await late_call.read()) != grpc.aio.EOF:  # type: ignore[attr-defined]
            assert isinstance(reply, pb.WatchScreeningTaskResponse)
            late_rest.append(reply.event)
    finally:
        doomed.kill()
        if rescuer is not None:
            await rescuer.stop()

    for events in (seen_a, seen_b):
        stages = [stage_name(e.stage) for e in events]
        assert all(s in stages for s in STAGES), stages
        # The killed attempt's stages, then the requeue, then every stage of the rescuing attempt.
        requeued = stages.index("queued", stages.index("analyzing"))
        assert [s for s in STAGES if s in stages[requeued:]] == STAGES
        assert state_name(events[-1].state) == "succeeded" and events[-1].result.id
    assert seen_a[-1].result == seen_b[-1].result
    assert state_name(late_rest[-1].state) == "succeeded"

    final = await stub_a.GetScreeningTask(pb.GetScreeningTaskRequest(id=task.id), timeout=T)
    assert state_name(final.task.state) == "succeeded" and final.task.attempts == 2
    assert final.result.id == seen_a[-1].result.id
    listed = await stub_b.ListScreeningResults(
        pb.ListScreeningResultsRequest(candidate_id=pair.candidate_id, job_id=pair.job_id), timeout=T
    )
    assert [r.id for r in listed.results] == [final.result.id]


async def test_cancel_running_task_then_cancel_again_fails(
    replicas: list[ServiceProcess], shared_db: str, search_addr: str, guardrail_addr: str
) -> None:
    [pair] = await _make_pairs(search_addr, 1)
    stub = screening_stub(replicas[0].addr)
    worker = await _worker(shared_db, search_addr, guardrail_addr, delay_ms=600_000)
    try:
        task = (
            await stub.SubmitScreening(
                pb.SubmitScreeningRequest(candidate_id=pair.candidate_id, job_id=pair.job_id, priority=100), timeout=T
            )
        ).task
        watcher = asyncio.create_task(
            _collect(stub.WatchScreeningTask(pb.WatchScreeningTaskRequest(id=task.id), timeout=120))
        )
        await _wait_stage(stub, task.id, "analyzing")
        cancelled = (await stub.CancelScreeningTask(pb.CancelScreeningTaskRequest(id=task.id), timeout=T)).task
        assert state_name(cancelled.state) == "cancelled"
        events = await asyncio.wait_for(watcher, 60)
        assert state_name(events[-1].state) == "cancelled" and not events[-1].HasField("result")
        with pytest.raises(grpc.aio.AioRpcError) as again:
            await stub.CancelScreeningTask(pb.CancelScreeningTaskRequest(id=task.id), timeout=T)
        assert again.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        got = await stub.GetScreeningTask(pb.GetScreeningTaskRequest(id=task.id), timeout=T)
        assert state_name(got.task.state) == "cancelled" and not got.HasField("result")
    finally:
        await worker.stop()


# --- degraded dependencies ----------------------------------------------------------------------------------


async def test_guardrail_down_keeps_the_result_marked_unchecked(pg_url: str, search_addr: str) -> None:
    [pair] = await _make_pairs(search_addr, 1)
    url = await new_database(pg_url, "screening_noguard")
    dead = f"127.0.0.1:{free_port()}"
    proc = await spawn_service("screening_svc", free_port(), screening_env(url, search_addr, dead), SCREENING_HEALTH)
    try:
        stub = screening_stub(proc.addr)
        events = [
            r.event
            async for r in stub.Screen(
                pb.ScreenRequest(application_id=pair.application_id, engine=pb.ENGINE_EVIDENCE), timeout=T
            )
        ]
    finally:
        await proc.stop()
    result = events[-1].result
    assert "could not run" in result.safety.summary
    assert result.safety.has_issues
    assert [v.code for v in result.safety.validation] == ["GUARDRAIL_UNAVAILABLE"]
    assert 0 <= result.analysis.match_score <= 100


async def test_search_down_is_unavailable_and_no_database_is_not_serving(pg_url: str, guardrail_addr: str) -> None:
    url = await new_database(pg_url, "screening_nosearch")
    dead = f"127.0.0.1:{free_port()}"
    proc = await spawn_service("screening_svc", free_port(), screening_env(url, dead, guardrail_addr), SCREENING_HEALTH)
    try:
        stub = screening_stub(proc.addr)
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await stub.SubmitScreening(pb.SubmitScreeningRequest(application_id=str(uuid.uuid4())), timeout=T)
        assert info.value.code() == grpc.StatusCode.UNAVAILABLE and "search" in (info.value.details() or "")
    finally:
        await proc.stop()

    no_db = f"postgresql://postgres@127.0.0.1:{free_port()}/nowhere"
    port = free_port()
    starting = start_process("screening_svc", port, screening_env(no_db, dead, guardrail_addr))
    try:
        for _ in range(20):
            status = await check(starting.addr, SCREENING_HEALTH)
            if status != "UNREACHABLE":
                break
            await asyncio.sleep(0.5)
        assert status == "NOT_SERVING"
        with pytest.raises(grpc.aio.AioRpcError) as unready:
            await screening_stub(starting.addr).GetScreeningTask(
                pb.GetScreeningTaskRequest(id=str(uuid.uuid4())), timeout=T
            )
        assert unready.value.code() == grpc.StatusCode.UNAVAILABLE
        assert starting.alive()
    finally:
        await starting.stop()

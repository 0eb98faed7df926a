"""The task monitor over gRPC with real workers, and screenings that count in the warehouse.

One module stack (search + screening on one database, one screening worker whose analyzing stage takes
3 s, so a task is reliably running while a second one waits) and an analytics_svc reading that database.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import grpc
import pytest
import pytest_asyncio

from hiremesh.clients import analytics_stub, screening_stub, search_stub
from hiremesh.credentials import SERVICE_TOKEN
from hiremesh.v1 import analytics_pb2, screening_pb2, screening_pb2_grpc, search_pb2, search_pb2_grpc
from tests.fixtures.analytics import ANALYTICS_HEALTH, analytics_env
from tests.fixtures.mail import MailStack, start_mail_stack, start_sink
from tests.fixtures.procs import REPO, free_port, spawn_service

pytestmark = pytest.mark.timeout(600)
T = 30.0
pb = screening_pb2
_V = TypeVar("_V")
# The CLI is an operator's client: like every hiremesh client it sends the deployment's service credential
# (issue 17), read from the environment as an operator's shell would have it.
_TOKEN = {SERVICE_TOKEN: os.environ[SERVICE_TOKEN]}


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def slow_stack(pg_url: str, embedding_addr: str, guardrail_addr: str) -> AsyncIterator[MailStack]:
    folder = Path(tempfile.mkdtemp(prefix="hiremesh-monitor-"))
    port = free_port()
    sink = start_sink(folder / "mail", port)
    stack = await start_mail_stack(
        pg_url,
        embedding_addr,
        guardrail_addr,
        port,
        sink,
        HIREMESH_SCREENING_WORKERS="1",
        HIREMESH_SCREENING_TEST_STAGE_DELAY_MS="3000",
        HIREMESH_SCREENING_TEST_DELAY_STAGE="analyzing",
    )
    try:
        yield stack
    finally:
        await stack.screening.stop()
        await stack.search.stop()
        sink.stop()
        shutil.rmtree(folder, ignore_errors=True)


async def candidates_for_a_job(search: search_pb2_grpc.SearchServiceAsyncStub, count: int) -> tuple[str, list[str]]:
    tag = uuid.uuid4().hex[:6]
    job = (
        await search.CreateJob(
            search_pb2.CreateJobRequest(
                job=search_pb2.Job(
                    title=f"Welder {tag}", description="TIG and MIG welding, blueprints.", required_skills=["welding"]
                )
            ),
            timeout=T,
        )
    ).job
    ids = []
    for i in range(count):
        cand = (
            await search.CreateCandidate(
                search_pb2.CreateCandidateRequest(
                    candidate=search_pb2.Candidate(
                        name=f"Welder {tag} {i}",
                        skills=["welding"],
                        years_experience=3 + i,
                        resume_text=f"Welder {tag} {i}: {3 + i} years of TIG welding.",
                    )
                ),
                timeout=T,
            )
        ).candidate
        ids.append(cand.id)
    return job.id, ids


async def snapshot(stub: screening_pb2_grpc.ScreeningServiceAsyncStub, **filters: Any) -> pb.TaskQueueSnapshot:
    return (await stub.GetTaskQueue(pb.GetTaskQueueRequest(**filters), timeout=T)).snapshot


# `...`: called with no arguments, but callers' lambdas bind their loop variable as a default argument.
async def until(check: Callable[..., Awaitable[_V | None]], what: str, timeout: float = 90.0) -> _V:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = await check()
        if value:
            return value
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)


async def task_state(stub: screening_pb2_grpc.ScreeningServiceAsyncStub, task_id: str) -> int:
    return (await stub.GetScreeningTask(pb.GetScreeningTaskRequest(id=task_id), timeout=T)).task.state


async def test_monitor_shows_depth_workers_jobs_and_cancels_and_retries(slow_stack: MailStack) -> None:
    search = search_stub(slow_stack.search_addr)
    stub = screening_stub(slow_stack.screening_addr)
    job_id, [first, second] = await candidates_for_a_job(search, 2)
    tasks = [
        (
            await stub.SubmitScreening(
                pb.SubmitScreeningRequest(candidate_id=c, job_id=job_id, priority=7, engine=pb.ENGINE_EVIDENCE),
                timeout=T,
            )
        ).task
        for c in (first, second)
    ]
    watch = stub.WatchTaskQueue(pb.WatchTaskQueueRequest(queue="screening", interval_s=0.5))
    stream = watch.__aiter__()
    initial = (await asyncio.wait_for(stream.__anext__(), T)).snapshot
    assert initial.HasField("time")

    # One task runs on the only screening worker; the other waits at its priority.
    async def busy() -> pb.TaskQueueSnapshot | None:
        snap = await snapshot(stub, queue="screening")
        workers = [w for w in snap.workers if "screening" in list(w.queues)]
        running = [j for w in workers for j in w.current_jobs]
        waiting = [d for d in snap.depth if d.queue == "screening" and d.priority == 7 and d.ready == 1]
        return snap if running and waiting else None

    snap = await until(busy, "one running and one waiting task")
    worker = next(w for w in snap.workers if w.current_jobs)
    assert worker.name.endswith(":screening") and not worker.stalled and worker.concurrency == 1
    running = worker.current_jobs[0]
    assert running.task_name == "screening.run" and running.kind == "screening"
    assert running.state == pb.QUEUE_JOB_STATE_DOING and running.attempts == 1
    assert running.reference_id in {t.id for t in tasks}
    assert {w.name.rsplit(":", 1)[-1] for w in snap.workers} >= {"screening", "mail"}

    # Cancel the running one: its screening task is cancelled with it.
    cancelled = (await stub.CancelQueueJob(pb.CancelQueueJobRequest(id=running.id), timeout=T)).job
    assert cancelled.id == running.id and cancelled.abort_requested
    await until(lambda: _is(task_state(stub, running.reference_id), pb.TASK_STATE_CANCELLED), "the task cancelled")

    async def job_finished() -> pb.QueueJob | None:
        jobs = (await snapshot(stub, queue="screening", limit=50)).jobs
        found = [
            j for j in jobs if j.id == running.id and j.state in (pb.QUEUE_JOB_STATE_FAILED, pb.QUEUE_JOB_STATE_ABORTED)
        ]
        return found[0] if found else None

    stopped = await until(job_finished, "the cancelled job to stop")
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.CancelQueueJob(pb.CancelQueueJobRequest(id=stopped.id), timeout=T)
    assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION

    # Retry it: the same task runs again as a new job and succeeds, as does the other one.
    retried = await stub.RetryQueueJob(pb.RetryQueueJobRequest(id=stopped.id), timeout=T)
    assert retried.job.id != stopped.id and retried.job.reference_id == running.reference_id
    assert "queued again" in retried.message
    for task in tasks:
        await until(
            lambda t=task: _is(task_state(stub, t.id), pb.TASK_STATE_SUCCEEDED), "both tasks to succeed", timeout=120
        )

    done = await snapshot(stub, queue="screening", state=pb.QUEUE_JOB_STATE_SUCCEEDED, throughput_minutes=10)
    mine = [j for j in done.jobs if j.reference_id in {t.id for t in tasks}]
    assert len(mine) == 2 and all(j.duration_ms >= 3000 and j.finished_at.seconds for j in mine), mine
    assert sum(b.succeeded for b in done.throughput if b.queue == "screening") >= 2

    # The watch stream saw the change without being asked again.
    async def changed() -> bool:
        latest = (await asyncio.wait_for(stream.__anext__(), T)).snapshot
        return any(j.id == retried.job.id for j in latest.jobs)

    await until(changed, "the watch stream to show the retried job")
    watch.cancel()


async def _is(state: Awaitable[int], want: int) -> bool:
    return await state == want


async def test_monitor_rejects_bad_input_naming_the_field(slow_stack: MailStack) -> None:
    stub = screening_stub(slow_stack.screening_addr)
    cases: list[tuple[Awaitable[object], grpc.StatusCode, str]] = [
        # state 42 is no QueueJobState, on purpose
        (stub.GetTaskQueue(pb.GetTaskQueueRequest(state=42), timeout=T), grpc.StatusCode.INVALID_ARGUMENT, "state"),  # type: ignore[arg-type]
        (stub.GetTaskQueue(pb.GetTaskQueueRequest(limit=501), timeout=T), grpc.StatusCode.INVALID_ARGUMENT, "limit"),
        (
            stub.GetTaskQueue(pb.GetTaskQueueRequest(throughput_minutes=-1), timeout=T),
            grpc.StatusCode.INVALID_ARGUMENT,
            "throughput_minutes",
        ),
        (stub.CancelQueueJob(pb.CancelQueueJobRequest(id=0), timeout=T), grpc.StatusCode.INVALID_ARGUMENT, "id"),
        (stub.RetryQueueJob(pb.RetryQueueJobRequest(id=987654321), timeout=T), grpc.StatusCode.NOT_FOUND, "queue job"),
    ]
    for call, code, field in cases:
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await call
        assert info.value.code() == code and (info.value.details() or "").startswith(field), info.value.details()
    with pytest.raises(grpc.aio.AioRpcError) as info:
        async for _ in stub.WatchTaskQueue(pb.WatchTaskQueueRequest(interval_s=0.01), timeout=T):
            pass
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "interval_s" in (info.value.details() or "")


async def test_hiremesh_tasks_prints_the_queue(slow_stack: MailStack) -> None:
    # A job of its own, so the listing has one whether or not the tests above ran first.
    job_id, [candidate] = await candidates_for_a_job(search_stub(slow_stack.search_addr), 1)
    stub = screening_stub(slow_stack.screening_addr)
    mine = (
        await stub.SubmitScreening(
            pb.SubmitScreeningRequest(candidate_id=candidate, job_id=job_id, engine=pb.ENGINE_EVIDENCE), timeout=T
        )
    ).task
    proc = await asyncio.create_subprocess_exec(
        str(REPO / ".venv" / "bin" / "hiremesh"),
        "tasks",
        "--once",
        "--addr",
        slow_stack.screening_addr,
        "--limit",
        "5",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "160", "HOME": str(REPO), **_TOKEN},
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    text = out.decode()
    assert proc.returncode == 0, err.decode()
    for heading in ("Queue depth", "Workers", "Throughput", "Recent jobs"):
        assert heading in text
    assert ":screening" in text and ":mail" in text and "screening.run" in text
    bad = await asyncio.create_subprocess_exec(
        str(REPO / ".venv" / "bin" / "hiremesh"),
        "tasks",
        "cancel",
        "987654321",
        "--addr",
        slow_stack.screening_addr,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={"PATH": "/usr/bin:/bin", **_TOKEN},
    )
    _, err = await asyncio.wait_for(bad.communicate(), 60)
    assert bad.returncode == 1 and "NOT_FOUND" in err.decode()
    # Finished before the next test counts screenings in the warehouse.
    await until(lambda: _is(task_state(stub, mine.id), pb.TASK_STATE_SUCCEEDED), "the listed task to finish")


async def test_id_only_screenings_count_in_the_warehouse(slow_stack: MailStack) -> None:
    """Three screenings by candidate and job ids, no application given: the report shows three screened."""
    search = search_stub(slow_stack.search_addr)
    stub = screening_stub(slow_stack.screening_addr)
    home = Path(tempfile.mkdtemp(prefix="hiremesh-count-"))
    analytics = await spawn_service(
        "analytics_svc", free_port(), analytics_env(slow_stack.database_url, home), ANALYTICS_HEALTH
    )
    try:
        warehouse = analytics_stub(analytics.addr)

        async def summary() -> dict[str, Any]:
            async for _ in warehouse.Sync(analytics_pb2.SyncRequest(mode=analytics_pb2.SYNC_MODE_FULL), timeout=120):
                pass
            reply = await warehouse.GetReport(analytics_pb2.GetReportRequest(name="summary"), timeout=T)
            names = [c.name for c in reply.columns]
            values = [getattr(v, v.WhichOneof("kind") or "null_value") for v in reply.rows[0].values]
            return dict(zip(names, values, strict=True))

        before = await summary()
        job_id, people = await candidates_for_a_job(search, 3)
        tasks = [
            (
                await stub.SubmitScreening(
                    pb.SubmitScreeningRequest(candidate_id=c, job_id=job_id, engine=pb.ENGINE_EVIDENCE), timeout=T
                )
            ).task
            for c in people
        ]
        assert all(t.application_id for t in tasks)
        for task in tasks:
            await until(lambda t=task: _is(task_state(stub, t.id), pb.TASK_STATE_SUCCEEDED), "screenings", timeout=180)
        after = await summary()
        assert int(after["screened"]) - int(before["screened"]) == 3
        assert int(after["applications"]) - int(before["applications"]) == 3
        funnel = await warehouse.GetReport(analytics_pb2.GetReportRequest(name="job_performance"), timeout=T)
        row = next(r for r in funnel.rows if r.values[0].string_value == job_id)
        by_name = dict(zip([c.name for c in funnel.columns], row.values, strict=True))
        assert by_name["screened"].int_value == 3 and by_name["applications"].int_value == 3
        # The applications were opened for the candidates, who never applied: nobody was mailed about them.
        for task in tasks:
            rows = (
                await search.ListNotifications(
                    search_pb2.ListNotificationsRequest(application_id=task.application_id), timeout=T
                )
            ).notifications
            assert [search_pb2.NotificationState.Name(n.state) for n in rows] == ["NOTIFICATION_STATE_SKIPPED"]
    finally:
        await analytics.stop()
        shutil.rmtree(home, ignore_errors=True)

"""A submitter that dies between inserting a task and queueing it leaves no task behind for ever.

Both halves of that window are reproduced on a real database: a task row with no queue job at all, and a task
whose queue job was deferred but whose id was never recorded. A real screening_svc adopts both; each runs once.
"""

from __future__ import annotations

import asyncio

import pytest

from hiremesh.clients import screening_stub
from hiremesh.db import open_pool
from hiremesh.v1 import screening_pb2 as pb
from hiremesh.v1 import screening_pb2_grpc
from screening_svc.config import ScreeningConfig
from screening_svc.queue import QUEUE, ScreeningQueue
from screening_svc.tasks import TaskRecord, TaskSpec, TaskStore
from tests.fixtures.procs import free_port, spawn_service
from tests.fixtures.screening import SCREENING_HEALTH, new_database, screening_env
from tests.integration.test_screening_grpc import T, _make_pairs, state_name


async def _wait_succeeded(
    stub: screening_pb2_grpc.ScreeningServiceAsyncStub, task_id: str, timeout: float = 120
) -> pb.GetScreeningTaskResponse:
    async with asyncio.timeout(timeout):
        while True:
            reply = await stub.GetScreeningTask(pb.GetScreeningTaskRequest(id=task_id), timeout=T)
            if state_name(reply.task.state) == "succeeded":
                return reply
            assert state_name(reply.task.state) in ("queued", "running"), reply.task
            await asyncio.sleep(0.3)


async def test_orphaned_tasks_are_adopted_and_run_once(
    pg_url: str, search_addr: str, guardrail_addr: str, embedding_addr: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = await new_database(pg_url, "screening_orphans")
    env = screening_env(
        db,
        search_addr,
        guardrail_addr,
        HIREMESH_SCREENING_WORKERS="0",
        HIREMESH_EMBEDDING_ADDR=embedding_addr,
        HIREMESH_SCREENING_ORPHAN_AFTER_S="1",
    )
    # An API-only replica first: it installs the schemas and runs the recovery loop, but no worker.
    api = await spawn_service("screening_svc", free_port(), env, SCREENING_HEALTH)
    worker = None
    pool = await open_pool(db, min_size=1, max_size=2)
    try:
        pairs = await _make_pairs(search_addr, 2)
        store = TaskStore(pool)
        never_queued, unrecorded = await store.create(
            [TaskSpec(p.candidate_id, p.job_id, p.application_id, "evidence", 0) for p in pairs]
        )

        # The second submitter got as far as deferring the job, then died before recording its id.
        for key, value in env.items():
            monkeypatch.setenv(key, value)

        async def never_run(task: TaskRecord) -> None:
            raise AssertionError("this process runs no worker")

        queue = ScreeningQueue(ScreeningConfig.from_env(), store, pool, never_run)
        await queue.open()
        try:
            [deferred] = await queue._task.configure(priority=0, queue=QUEUE).batch_defer_async(
                {"task_id": unrecorded.id}
            )
        finally:
            await queue.close()

        stub = screening_stub(api.addr)
        for task in (never_queued, unrecorded):
            got = (await stub.GetScreeningTask(pb.GetScreeningTaskRequest(id=task.id), timeout=T)).task
            assert state_name(got.state) == "queued"

        # The replica's recovery loop adopts both while they are still queued: the deferred job is linked,
        # the task without one gets a new job.
        async with asyncio.timeout(60):
            while True:
                async with pool.connection() as conn:
                    cur = await conn.execute("SELECT id::text, queue_job_id FROM screening.tasks")
                    job_of = dict(await cur.fetchall())
                if job_of[never_queued.id] is not None and job_of[unrecorded.id] is not None:
                    break
                await asyncio.sleep(0.2)
        assert job_of[unrecorded.id] == deferred
        assert job_of[never_queued.id] != deferred

        worker = await spawn_service(
            "screening_svc", free_port(), {**env, "HIREMESH_SCREENING_WORKERS": "2"}, "", args=["--worker-only"]
        )
        done = [await _wait_succeeded(stub, t.id) for t in (never_queued, unrecorded)]
        for reply in done:
            assert reply.task.attempts == 1 and reply.result.id

        async with pool.connection() as conn:
            cur = await conn.execute("SELECT id::text, queue_job_id FROM screening.tasks")
            assert dict(await cur.fetchall()) == job_of  # nothing re-queued a second time
            cur = await conn.execute(
                "SELECT count(*) FROM screening.results WHERE task_id = ANY(%s::uuid[])",
                ([never_queued.id, unrecorded.id],),
            )
            row = await cur.fetchone()
            assert row is not None
            [results] = row
        assert results == 2
    finally:
        await pool.close()
        if worker is not None:
            await worker.stop()
        await api.stop()

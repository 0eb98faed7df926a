"""The screening task store and progress fan-out against a real PostgreSQL (no gRPC, no queue)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from psycopg_pool import AsyncConnectionPool

from hiremesh.db import migrate, open_pool
from hiremesh.errors import FailedPrecondition, InvalidArgument, NotFound
from screening_svc.events import EventHub, TaskEvent, watch_task
from screening_svc.tasks import NewResult, TaskSpec, TaskStore

MIGRATIONS = Path(__file__).resolve().parents[2] / "screening_svc" / "migrations"


@pytest.fixture
async def db(fresh_db_url: str) -> AsyncIterator[tuple[str, AsyncConnectionPool[Any]]]:
    await migrate(fresh_db_url, "screening", MIGRATIONS)
    pool = await open_pool(fresh_db_url, min_size=1, max_size=6)
    try:
        yield fresh_db_url, pool
    finally:
        await pool.close()


def _spec(engine: str = "evidence", candidate: str | None = None, job: str | None = None) -> TaskSpec:
    return TaskSpec(candidate or str(uuid.uuid4()), job or str(uuid.uuid4()), "", engine, 0)


def _result(task_candidate: str, task_job: str, score: int = 70, version: str = "evidence-1") -> NewResult:
    return NewResult(
        candidate_id=task_candidate,
        job_id=task_job,
        application_id="",
        engine="evidence",
        engine_version=version,
        model="",
        analysis={"match_score": score, "summary": f"score {score}"},
        degraded=False,
        degraded_reason="",
        safety={"summary": "no issues"},
        safety_checked=True,
        pii_count=0,
        bias_count=0,
        toxicity_score=0.0,
        has_safety_issues=False,
        traces=[{"agent": "retriever", "duration_ms": 1.0}],
        duration_ms=3.0,
    )


async def test_task_lifecycle_stores_one_result_and_counts_attempts(db: tuple[str, Any]) -> None:
    store = TaskStore(db[1])
    [task] = await store.create([_spec()])
    assert (task.state, task.stage, task.attempts, task.version) == ("queued", "queued", 0, 0)

    running = await store.start(task.id, "w1")
    assert running is not None and running.state == "running" and running.attempts == 1
    assert await store.progress(task.id, "analyzing", 30, "analyzing")
    # A second attempt (the first worker presumed dead) claims the same task again.
    again = await store.start(task.id, "w2")
    assert again is not None and again.attempts == 2

    done = await store.complete(task.id, _result(task.candidate_id, task.job_id))
    assert done is not None
    finished, stored = done
    assert (finished.state, finished.stage, finished.percent) == ("succeeded", "done", 100.0)
    assert finished.result_id == stored.id and stored.task_id == task.id
    assert stored.analysis["match_score"] == 70

    # The late duplicate attempt finishing afterwards changes nothing.
    assert await store.complete(task.id, _result(task.candidate_id, task.job_id, score=10)) is None
    assert await store.start(task.id, "w3") is None
    results, _ = await store.results(candidate_id=task.candidate_id)
    assert [r.id for r in results] == [stored.id] and results[0].analysis["match_score"] == 70


async def test_rescreening_same_pair_upserts_one_row_per_engine_version(db: tuple[str, Any]) -> None:
    store = TaskStore(db[1])
    candidate, job = str(uuid.uuid4()), str(uuid.uuid4())
    first = await store.save_result(_result(candidate, job, score=40))
    second = await store.save_result(_result(candidate, job, score=90))
    other_version = await store.save_result(_result(candidate, job, score=50, version="evidence-2"))
    assert first.id == second.id != other_version.id
    rows, _ = await store.results(candidate_id=candidate, job_id=job)
    assert sorted(r.analysis["match_score"] for r in rows) == [50, 90]


async def test_cancel_rules(db: tuple[str, Any]) -> None:
    store = TaskStore(db[1])
    queued, running, finished = await store.create([_spec(), _spec(), _spec()])
    assert (await store.cancel(queued.id)).state == "cancelled"
    await store.start(running.id, "w")
    assert (await store.cancel(running.id)).state == "cancelled"
    # A cancelled task never reports progress again and never succeeds.
    assert not await store.progress(running.id, "analyzing", 30, "")
    assert await store.complete(running.id, _result(running.candidate_id, running.job_id)) is None
    with pytest.raises(FailedPrecondition):
        await store.cancel(running.id)
    await store.start(finished.id, "w")
    await store.complete(finished.id, _result(finished.candidate_id, finished.job_id))
    with pytest.raises(FailedPrecondition):
        await store.cancel(finished.id)
    with pytest.raises(NotFound):
        await store.cancel(str(uuid.uuid4()))


async def test_results_pagination_walks_every_row_once(db: tuple[str, Any]) -> None:
    store = TaskStore(db[1])
    job = str(uuid.uuid4())
    ids = {(await store.save_result(_result(str(uuid.uuid4()), job, score=i))).id for i in range(7)}
    seen: list[str] = []
    token = ""
    while True:
        page, token = await store.results(job_id=job, page_size=3, page_token=token)
        seen.extend(r.id for r in page)
        if not token:
            break
    assert len(seen) == 7 and set(seen) == ids
    with pytest.raises(InvalidArgument) as info:
        await store.results(page_token="garbage!")
    assert info.value.field == "page_token"


async def _collect(store: TaskStore, hub: EventHub, task_id: str, into: list[TaskEvent], first: asyncio.Event) -> None:
    async for event in watch_task(store, hub, task_id, reread_s=30):
        into.append(event)
        first.set()


async def test_watchers_on_two_hubs_see_every_stage_and_late_watcher_gets_current_state(db: tuple[str, Any]) -> None:
    url, pool = db
    store = TaskStore(pool)
    hubs = [EventHub(url), EventHub(url)]  # two "replicas", each with its own LISTEN connection
    for hub in hubs:
        await hub.start()
    try:
        [task] = await store.create([_spec()])
        seen: list[list[TaskEvent]] = [[], []]
        ready = [asyncio.Event(), asyncio.Event()]
        watchers = [asyncio.create_task(_collect(store, hubs[i], task.id, seen[i], ready[i])) for i in (0, 1)]
        for flag in ready:
            await asyncio.wait_for(flag.wait(), 10)
        await store.start(task.id, "w")
        for percent, stage in enumerate(("retrieving", "analyzing", "interviewing", "guarding")):
            assert await store.progress(task.id, stage, float(percent * 20), stage)

        # A watcher arriving now starts from the stored state, not from the beginning.
        late: list[TaskEvent] = []
        late_ready = asyncio.Event()
        late_watcher = asyncio.create_task(_collect(store, hubs[1], task.id, late, late_ready))
        await asyncio.wait_for(late_ready.wait(), 10)
        assert (late[0].state, late[0].stage, late[0].percent) == ("running", "guarding", 60.0)

        await store.complete(task.id, _result(task.candidate_id, task.job_id))
        await asyncio.wait_for(asyncio.gather(*watchers, late_watcher), 15)
    finally:
        for hub in hubs:
            await hub.close()

    expected = ["queued", "queued", "retrieving", "analyzing", "interviewing", "guarding", "done"]
    for events in seen:
        assert [e.stage for e in events] == expected
        assert [e.version for e in events] == list(range(len(expected)))
        assert events[-1].state == "succeeded" and events[-1].result_id
    assert [e.stage for e in late] == ["guarding", "done"]

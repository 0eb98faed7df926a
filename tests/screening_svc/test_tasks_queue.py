"""The procrastinate-backed queue with real workers on a real PostgreSQL: retries, cancel, SIGKILL recovery.

The job body here is a small stand-in for the agent pipeline (stages, then a stored result) so these tests
exercise only the queue; tests/integration/test_screening_grpc.py runs the same paths through the service.
Run as `python -m tests.screening_svc.test_tasks_queue` this module is a worker process (used for SIGKILL).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from hiremesh.db import migrate, open_pool
from hiremesh.errors import InvalidArgument, Unavailable
from screening_svc.config import ScreeningConfig
from screening_svc.queue import ScreeningQueue, ensure_schema
from screening_svc.tasks import NewResult, TaskRecord, TaskSpec, TaskStore

REPO = Path(__file__).resolve().parents[2]
MIGRATIONS = REPO / "screening_svc" / "migrations"
FAST = {
    "HIREMESH_SCREENING_HEARTBEAT_S": "0.5",
    # 5 s, not less: on 2 loaded cores a live worker's heartbeat can lag a few seconds, and a live task judged
    # stalled is run twice (attempts 3 where the tests expect 2).
    "HIREMESH_SCREENING_STALLED_AFTER_S": "5",
    "HIREMESH_SCREENING_STALL_CHECK_S": "0.5",
    "HIREMESH_SCREENING_POLL_S": "0.5",
    "HIREMESH_SCREENING_RETRY_WAIT_S": "0.2",
    "HIREMESH_SCREENING_WORKERS": "2",
    "HIREMESH_SCREENING_SHUTDOWN_GRACE_S": "1",
}


def _result(task: TaskRecord) -> NewResult:
    return NewResult(
        task.candidate_id,
        task.job_id,
        task.application_id,
        "evidence",
        "evidence-test",
        "",
        {"match_score": 66, "summary": "stand-in"},
        False,
        "",
        {"summary": "no issues"},
        True,
        0,
        0,
        0.0,
        False,
        [],
        1.0,
    )


def staged_attempt(
    store: TaskStore,
    hold_s: float = 0.0,
    fail: Callable[[TaskRecord], Exception | None] | None = None,
    started: asyncio.Event | None = None,
) -> Callable[[TaskRecord], Awaitable[None]]:
    """A job body: four stages (holding `hold_s` in analyzing), then the result."""

    async def attempt(task: TaskRecord) -> None:
        if fail is not None and (exc := fail(task)) is not None:
            raise exc
        for percent, stage in ((5, "retrieving"), (30, "analyzing"), (55, "interviewing"), (85, "guarding")):
            if not await store.progress(task.id, stage, percent, stage):
                return
            if stage == "analyzing":
                if started is not None:
                    started.set()
                await asyncio.sleep(hold_s)
        await store.complete(task.id, _result(task))

    return attempt


@pytest.fixture
async def queue_db(fresh_db_url: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[str, Any]]:
    for key, value in {**FAST, "HIREMESH_DATABASE_URL": fresh_db_url}.items():
        monkeypatch.setenv(key, value)
    await migrate(fresh_db_url, "screening", MIGRATIONS)
    await ensure_schema(fresh_db_url)
    pool = await open_pool(fresh_db_url, min_size=1, max_size=8)
    try:
        yield fresh_db_url, pool
    finally:
        await pool.close()


async def _wait_for(
    store: TaskStore, task_id: str, check: Callable[[TaskRecord], bool], timeout: float = 60
) -> TaskRecord:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        task = await store.get(task_id)
        if check(task):
            return task
        if loop.time() > deadline:
            raise AssertionError(f"task never reached the expected state; last: {task}")
        await asyncio.sleep(0.1)


async def _count_results(pool: Any, task: TaskRecord) -> int:
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT count(*) FROM screening.results WHERE candidate_id = %s AND job_id = %s",
            (task.candidate_id, task.job_id),
        )
        row = await cur.fetchone()
    return int(row[0])


async def _submit(store: TaskStore, queue: ScreeningQueue, priority: int = 0) -> TaskRecord:
    [task] = await store.create([TaskSpec(str(uuid.uuid4()), str(uuid.uuid4()), "", "evidence", priority)])
    await queue.defer([task], priority)
    return task


async def test_transient_failure_is_retried_with_backoff_then_succeeds(queue_db: tuple[str, Any]) -> None:
    _, pool = queue_db
    store = TaskStore(pool)

    def flaky(task: TaskRecord) -> Exception | None:
        return Unavailable("search_svc down") if task.attempts == 1 else None

    queue = ScreeningQueue(ScreeningConfig.from_env(), store, pool, staged_attempt(store, fail=flaky))
    await queue.open()
    try:
        task = await _submit(store, queue)
        queue.start_background(worker=True)
        done = await _wait_for(store, task.id, lambda t: t.finished)
    finally:
        await queue.close()
    assert (done.state, done.attempts, done.error) == ("succeeded", 2, "")
    assert await _count_results(pool, task) == 1


async def test_permanent_failure_fails_the_task_once(queue_db: tuple[str, Any]) -> None:
    _, pool = queue_db
    store = TaskStore(pool)
    queue = ScreeningQueue(
        ScreeningConfig.from_env(),
        store,
        pool,
        staged_attempt(store, fail=lambda t: InvalidArgument("job", "has no description")),
    )
    await queue.open()
    try:
        task = await _submit(store, queue)
        queue.start_background(worker=True)
        done = await _wait_for(store, task.id, lambda t: t.finished)
    finally:
        await queue.close()
    assert (done.state, done.attempts) == ("failed", 1)
    assert "has no description" in done.error
    assert await _count_results(pool, task) == 0


async def test_cancel_stops_a_running_task_and_a_queued_one(
    queue_db: tuple[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, pool = queue_db
    monkeypatch.setenv("HIREMESH_SCREENING_WORKERS", "1")  # the follow-up can only run in the freed slot
    store = TaskStore(pool)
    started = asyncio.Event()
    queue = ScreeningQueue(ScreeningConfig.from_env(), store, pool, staged_attempt(store, hold_s=60, started=started))
    await queue.open()
    try:
        running = await _submit(store, queue)
        queue.start_background(worker=True)
        await asyncio.wait_for(started.wait(), 30)
        cancelled = await store.cancel(running.id)
        await queue.cancel(cancelled)
        # The worker drops the job: its slot frees up and a newly queued task runs to the end.
        follow_up = await _submit(store, queue)
        queued_then_cancelled = await _submit(store, queue, priority=-100)
        await queue.cancel(await store.cancel(queued_then_cancelled.id))
        followed = await _wait_for(store, follow_up.id, lambda t: t.stage == "analyzing")
    finally:
        await queue.close()
    assert followed.state == "running"
    final = await store.get(running.id)
    assert final.state == "cancelled" and final.result_id == ""
    assert (await store.get(queued_then_cancelled.id)).attempts == 0
    assert await _count_results(pool, running) == 0


def _spawn_worker(url: str, hold_s: float) -> subprocess.Popen[bytes]:
    env = {**os.environ, **FAST, "HIREMESH_DATABASE_URL": url, "HIREMESH_SCREENING_WORKERS": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.screening_svc.test_tasks_queue", str(hold_s)],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def test_sigkilled_worker_task_finishes_once_on_another_worker(queue_db: tuple[str, Any]) -> None:
    url, pool = queue_db
    store = TaskStore(pool)
    producer = ScreeningQueue(ScreeningConfig.from_env(), store, pool, staged_attempt(store))
    await producer.open()
    first = _spawn_worker(url, hold_s=600)
    second: subprocess.Popen[bytes] | None = None
    try:
        task = await _submit(store, producer)
        held = await _wait_for(store, task.id, lambda t: t.stage == "analyzing")
        assert held.attempts == 1
        first.send_signal(signal.SIGKILL)
        first.wait()
        second = _spawn_worker(url, hold_s=0)
        done = await _wait_for(store, task.id, lambda t: t.finished)
    finally:
        await producer.close()
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=30)
    assert (done.state, done.attempts) == ("succeeded", 2)
    assert await _count_results(pool, task) == 1


async def _worker_main(hold_s: float) -> None:
    cfg = ScreeningConfig.from_env()
    pool = await open_pool(cfg.database_url, min_size=1, max_size=4)
    store = TaskStore(pool)
    queue = ScreeningQueue(cfg, store, pool, staged_attempt(store, hold_s=hold_s))
    await queue.open()
    queue.start_background(worker=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    await queue.close()
    await pool.close()


if __name__ == "__main__":
    asyncio.run(_worker_main(float(sys.argv[1])))

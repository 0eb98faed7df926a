"""The durable screening queue: procrastinate 3.10 in its own schema, its worker and stalled-job recovery.

procrastinate's objects live in schema `procrastinate` (its connections run with that search_path); its
`apply_schema_async()` is not idempotent, so `ensure_schema` installs it once under an advisory lock.

Finished jobs are kept for HIREMESH_SCREENING_JOB_RETENTION_H hours (the task monitor reads them), then pruned.
A worker killed with SIGKILL stops its heartbeat; procrastinate 3.10 only *reports* such jobs
(`get_stalled_jobs`), so every process runs `_recover_stalled`: jobs of workers silent for
HIREMESH_SCREENING_STALLED_AFTER_S go back to `todo` and another worker runs them. The result upsert and
the row lock in `TaskStore.complete` keep that to one result and one success.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, cast

import psycopg
from procrastinate import App, JobContext, PsycopgConnector, RetryDecision
from procrastinate import exceptions as pq_exceptions
from procrastinate.jobs import Job
from procrastinate.retry import BaseRetryStrategy
from procrastinate.schema import SchemaManager
from procrastinate.types import JSONDict
from psycopg_pool import AsyncConnectionPool

from hiremesh.rpc_errors import is_retryable
from hiremesh.task_vocabulary import TASK_STATES
from screening_svc import metrics
from screening_svc.config import ScreeningConfig
from screening_svc.runner import TaskRequeued
from screening_svc.tasks import TaskRecord, TaskStore
from screening_svc.workers import WorkerOptions, WorkerRunner, forget_departed, worker_name

log = logging.getLogger("screening_svc.queue")

SCHEMA = "procrastinate"
QUEUE = "screening"
TASK_NAME = "screening.run"
_SCHEMA_LOCK = "SELECT pg_advisory_xact_lock(hashtext('hiremesh:procrastinate-schema'))"
_RECOVERY_LOCK = 0x5C4E_E41E  # session advisory lock: one replica recovers stalled jobs at a time

# Runs one attempt of a task: given the claimed task, stores its result (or raises).
Attempt = Callable[[TaskRecord], Awaitable[None]]


class RetryTask(Exception):
    """Raised by a job body to ask procrastinate for another attempt after a back-off."""


def is_transient(exc: BaseException) -> bool:
    """True for failures another attempt may not hit: a dependency down or slow, the database away."""
    return isinstance(exc, psycopg.OperationalError) or is_retryable(exc)


def describe(exc: BaseException) -> str:
    details = getattr(exc, "details", None)
    if callable(details):
        text = details()
        return f"{type(exc).__name__}: {text}"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


class _Retry(BaseRetryStrategy):
    """Back off exponentially after `RetryTask`; rerun at once after a worker shutdown aborted a job."""

    def __init__(self, base_wait_s: float) -> None:
        self._base = base_wait_s

    def get_retry_decision(self, *, exception: BaseException, job: Job) -> RetryDecision | None:
        if isinstance(exception, RetryTask):
            return RetryDecision(retry_in={"seconds": self._base * (2**job.attempts)})
        if isinstance(exception, asyncio.CancelledError | pq_exceptions.JobAborted):
            # Shutdown (a user abort is turned into `failed` by procrastinate itself).
            return RetryDecision()
        return None


async def ensure_schema(url: str) -> bool:
    """Install procrastinate's schema unless present; True if this call installed it."""
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn, conn.transaction():
        await conn.execute(_SCHEMA_LOCK)
        cur = await conn.execute("SELECT to_regclass('procrastinate.procrastinate_jobs') IS NOT NULL")
        row = await cur.fetchone()
        installed = not (row is not None and row[0])
        if installed:
            await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
            await conn.execute(f"SET LOCAL search_path = {SCHEMA}")
            # No parameters: psycopg sends the script as-is (its % signs stay literal).
            await conn.execute(cast(Any, SchemaManager.get_schema()))
            log.info("installed procrastinate schema in %r", SCHEMA)
        # The task monitor counts finished jobs per minute from the event log: index it by time.
        await conn.execute(f"CREATE INDEX IF NOT EXISTS hiremesh_events_at_idx ON {SCHEMA}.procrastinate_events (at)")
        return installed


def make_app(url: str, pool_size: int) -> App:
    connector = PsycopgConnector(
        conninfo=url, kwargs={"options": f"-c search_path={SCHEMA}"}, min_size=1, max_size=pool_size
    )
    return App(connector=connector)


class ScreeningQueue:
    """Defers, cancels and runs screening tasks through procrastinate."""

    def __init__(
        self, cfg: ScreeningConfig, store: TaskStore, pool: AsyncConnectionPool[Any], attempt: Attempt
    ) -> None:
        self._cfg = cfg
        self._store = store
        self._pool = pool
        self._attempt = attempt
        self.app = make_app(cfg.database_url, pool_size=max(2, cfg.workers + 2))
        self._task = self.app.task(name=TASK_NAME, queue=QUEUE, pass_context=True, retry=_Retry(cfg.retry_wait_s))(
            self._run_job
        )
        self._background: list[asyncio.Task[None]] = []
        self.worker_name = worker_name("screening")

    async def open(self) -> None:
        await self.app.open_async()

    async def close(self) -> None:
        for task in self._background:
            task.cancel()
        for task in self._background:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._background.clear()
        await self.app.close_async()

    # --- producer side -------------------------------------------------------------------------------

    async def defer(self, tasks: Sequence[TaskRecord], priority: int) -> None:
        """Queue one job per task; tasks the queue refused are deleted so none is left orphaned."""
        if not tasks:
            return
        ids = [t.id for t in tasks]
        try:
            deferrer = self._task.configure(priority=priority, queue=QUEUE)
            kwargs: list[JSONDict] = [{"task_id": i} for i in ids]
            job_ids = await deferrer.batch_defer_async(*kwargs)
        except BaseException:
            await asyncio.shield(self._store.delete(ids))
            raise
        await self._store.attach_queue_jobs(ids, job_ids)
        metrics.TASKS_SUBMITTED.inc(len(ids))

    async def requeue(self, task: TaskRecord) -> int:
        """Give a reopened task a new queue job (unlike `defer`, a failure leaves the task for orphan adoption)."""
        [job_id] = await self._task.configure(priority=task.priority, queue=QUEUE).batch_defer_async(
            {"task_id": task.id}
        )
        await self._store.attach_queue_jobs([task.id], [job_id])
        return job_id

    async def cancel(self, task: TaskRecord) -> None:
        """Stop the queue job behind a task that `TaskStore.cancel` has just marked cancelled."""
        if task.queue_job_id is None:
            return
        # todo -> cancelled; doing -> abort requested: the worker cancels the running coroutine.
        await self.app.job_manager.cancel_job_by_id_async(task.queue_job_id, abort=True)

    async def depth(self) -> int:
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                "SELECT count(*) FROM procrastinate.procrastinate_jobs WHERE queue_name = %s AND status = 'todo'",
                (QUEUE,),
            )
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    # --- consumer side -------------------------------------------------------------------------------

    def start_background(self, *, worker: bool) -> None:
        """Start the worker (if `worker`), stalled-job recovery and the queue gauges."""
        if worker and self._cfg.workers > 0:
            self._background.append(asyncio.create_task(self._run_worker(), name="screening-worker"))
        self._background.append(asyncio.create_task(self._recover_stalled_forever(), name="screening-recovery"))
        self._background.append(asyncio.create_task(self._refresh_gauges_forever(), name="screening-gauges"))

    async def _run_worker(self) -> None:
        cfg = self._cfg
        options = WorkerOptions(
            queues=(QUEUE,),
            role="screening",
            concurrency=cfg.workers,
            heartbeat_s=cfg.heartbeat_s,
            stalled_after_s=cfg.stalled_after_s,
            poll_s=cfg.poll_s,
            shutdown_grace_s=cfg.shutdown_grace_s,
        )
        await WorkerRunner(self.app, self._pool, options).run()

    async def _run_job(self, context: JobContext, task_id: str) -> None:
        task = await self._store.start(task_id, context.worker_name or self.worker_name, context.job.id)
        if task is None:
            log.info("task %s was cancelled or finished before attempt; skipping", task_id)
            return
        attempts = context.job.attempts
        try:
            await self._attempt(task)
        except asyncio.CancelledError:
            # Worker shutdown or a cancel request; a cancelled task keeps its state (requeue needs 'running').
            await asyncio.shield(self._store.requeue(task_id, "worker stopped; the task will be retried"))
            raise
        except TaskRequeued as exc:
            metrics.TASK_RETRIES.labels("requeued").inc()
            raise RetryTask(str(exc)) from exc
        except Exception as exc:
            reason = describe(exc)
            if is_transient(exc) and attempts + 1 < self._cfg.max_attempts:
                wait = self._cfg.retry_wait_s * (2**attempts)
                await self._store.requeue(task_id, f"attempt {attempts + 1} failed; retrying in {wait:g}s", reason)
                metrics.TASK_RETRIES.labels("error").inc()
                raise RetryTask(reason) from exc
            await self._store.fail(task_id, reason)
            metrics.TASKS_FINISHED.labels("failed").inc()
            raise

    async def _recover_stalled_forever(self) -> None:
        while True:
            await asyncio.sleep(self._cfg.stall_check_s)
            try:
                await self.recover_stalled()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("stalled-job recovery failed; will retry")

    async def recover_stalled(self) -> int:
        """Requeue jobs whose worker stopped sending heartbeats; returns how many were requeued."""
        async with self._pool.connection() as lock_conn:
            cur = await lock_conn.execute("SELECT pg_try_advisory_lock(%s)", (_RECOVERY_LOCK,))
            row = await cur.fetchone()
            if not row or not row[0]:
                return 0  # another replica is at it
            try:
                requeued = await self._requeue_stalled()
                await self._adopt_orphans()
                await self._prune_finished()
                return requeued
            finally:
                await lock_conn.execute("SELECT pg_advisory_unlock(%s)", (_RECOVERY_LOCK,))

    async def _prune_finished(self) -> None:
        """Forget finished jobs (every queue) after the retention the monitor shows them for."""
        await self.app.job_manager.delete_old_jobs(
            self._cfg.job_retention_h, include_failed=True, include_cancelled=True, include_aborted=True
        )
        await forget_departed(self._pool)

    async def _adopt_orphans(self) -> int:
        """Give a queue job to every task whose submitter died between inserting it and queueing it."""
        age = self._cfg.orphan_after_s
        linked = await self._store.adopt_queue_jobs(age, SCHEMA, QUEUE, TASK_NAME)
        orphans = await self._store.orphans(age, SCHEMA, QUEUE, TASK_NAME)
        by_priority: dict[int, list[TaskRecord]] = {}
        for task in orphans:
            by_priority.setdefault(task.priority, []).append(task)
        for priority, tasks in by_priority.items():
            # Unlike `defer`, a failure here must not delete the tasks: the next round tries again.
            deferrer = self._task.configure(priority=priority, queue=QUEUE)
            kwargs: list[JSONDict] = [{"task_id": t.id} for t in tasks]
            job_ids = await deferrer.batch_defer_async(*kwargs)
            await self._store.attach_queue_jobs([t.id for t in tasks], job_ids)
            metrics.TASK_RETRIES.labels("orphaned").inc(len(tasks))
        if linked or orphans:
            log.warning(
                "adopted %d orphaned task(s): %d linked to their queued job, %d queued anew",
                linked + len(orphans),
                linked,
                len(orphans),
            )
        return linked + len(orphans)

    async def _requeue_stalled(self) -> int:
        manager = self.app.job_manager
        await manager.prune_stalled_workers(self._cfg.stalled_after_s)
        stalled = await manager.get_stalled_jobs(
            queue=QUEUE, task_name=TASK_NAME, seconds_since_heartbeat=self._cfg.stalled_after_s
        )
        count = 0
        for job in stalled:
            try:
                await manager.retry_job(job)
            except pq_exceptions.ConnectorException as exc:
                log.info("stalled job %s changed meanwhile (%s)", job.id, exc)
                continue
            task_id = str(job.task_kwargs.get("task_id", ""))
            if task_id:
                await self._store.requeue(task_id, "worker lost (no heartbeat); retrying on another worker")
            metrics.TASK_RETRIES.labels("stalled").inc()
            log.warning("requeued stalled job %s (task %s) of a silent worker", job.id, task_id)
            count += 1
        if count:
            # retry_job only UPDATEs the row; wake idle workers now instead of at their next poll.
            payload = json.dumps({"type": "job_inserted", "job_id": None})
            async with self._pool.connection() as conn:
                await conn.execute(
                    "SELECT pg_notify(%s, %s), pg_notify(%s, %s)",
                    (f"procrastinate_queue_v1#{QUEUE}", payload, "procrastinate_any_queue_v1", payload),
                )
        return count

    async def _refresh_gauges_forever(self) -> None:
        while True:
            try:
                metrics.QUEUE_DEPTH.set(await self.depth())
                counts = await self._store.state_counts()
                for state in TASK_STATES:
                    metrics.TASKS_BY_STATE.labels(state).set(counts.get(state, 0))
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.debug("gauge refresh failed: %s", exc)
            await asyncio.sleep(max(self._cfg.poll_s, 5.0))

"""Cancel and retry of task-queue jobs, keeping the object each job works on in step.

A screening job is cancelled or retried through its task (the task's state is what users see), an e-mail
job through its outbox row (cancelled = failed "by an operator", resendable; retried = queued again, the
relay defers a fresh delivery job). Jobs of other tasks are cancelled or retried in procrastinate alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from procrastinate import App

from hiremesh.errors import FailedPrecondition, NotFound
from screening_svc.mail.relay import MailRelay
from screening_svc.monitor import QueueJob, TaskMonitor
from screening_svc.queue import ScreeningQueue
from screening_svc.tasks import TaskStore

CANCELLED_MAIL = "failed: cancelled by an operator from the task monitor; resend to try again"
_ACTIVE = ("todo", "doing")
_RERUNNABLE = ("failed", "cancelled", "aborted")


@dataclass(frozen=True)
class Retried:
    job: QueueJob
    message: str


class QueueControl:
    def __init__(
        self, app: App, monitor: TaskMonitor, store: TaskStore, queue: ScreeningQueue, relay: MailRelay
    ) -> None:
        self._app = app
        self._monitor = monitor
        self._store = store
        self._queue = queue
        self._relay = relay

    async def _get(self, job_id: int) -> QueueJob:
        job = await self._monitor.job(job_id)
        if job is None:
            raise NotFound(f"queue job {job_id} not found (finished jobs are kept for a limited time)")
        return job

    async def cancel(self, job_id: int) -> QueueJob:
        job = await self._get(job_id)
        if job.state not in _ACTIVE:
            raise FailedPrecondition(f"queue job {job_id} is {job.state}; only waiting or running jobs are cancelled")
        if job.kind == "screening" and job.reference_id:
            task = await self._store.get(job.reference_id)
            if task.queue_job_id == job_id and not task.finished:
                await self._queue.cancel(await self._store.cancel(task.id))
                return await self._get(job_id)
        await self._app.job_manager.cancel_job_by_id_async(job_id, abort=True)
        if job.kind == "mail" and job.reference_id:
            await self._relay.outbox.failed(job.reference_id, CANCELLED_MAIL)
        return await self._get(job_id)

    async def retry(self, job_id: int) -> Retried:
        job = await self._get(job_id)
        if job.state not in _RERUNNABLE:
            raise FailedPrecondition(
                f"queue job {job_id} is {job.state}; only failed, cancelled or aborted jobs are retried"
            )
        if job.kind == "screening" and job.reference_id:
            task = await self._store.reopen(job.reference_id)
            new_id = await self._queue.requeue(task)
            return Retried(await self._get(new_id), f"screening task {task.id} queued again as job {new_id}")
        if job.kind == "mail" and job.reference_id:
            if not await self._relay.requeue(job.reference_id):
                raise FailedPrecondition(f"e-mail {job.reference_id} is not failed; nothing to retry")
            return Retried(job, f"e-mail {job.reference_id} queued again; the relay gives it a new delivery job")
        if job.state != "failed":
            raise FailedPrecondition(f"queue job {job_id} is {job.state}; only failed jobs of this task are retried")
        await self._app.job_manager.retry_job_by_id_async(job_id, retry_at=datetime.now(UTC))
        return Retried(await self._get(job_id), f"queue job {job_id} queued again")

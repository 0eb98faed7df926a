"""Queued outbox rows become delivery jobs; delivery jobs send and record the outcome on the row.

The relay LISTENs on the outbox channel (search_svc NOTIFYs at commit) and also sweeps every
HIREMESH_MAIL_SWEEP_S, so a lost notification (the listener reconnecting, a replica starting late) only
delays a message. It defers one `mail.deliver` job per queued row that has none, with the procrastinate lock
and queueing lock `mail:<id>`: two relays (or a crash between defer and link) cannot put two deliveries of
one message in flight. The job counts the attempt on the row, sends, and marks the row sent, or keeps it
queued with the error and asks procrastinate to retry after an exponential back-off, or marks it failed
after the last attempt (or at once when the server refused the recipient). Logs name message ids only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import psycopg
from procrastinate import App, JobContext, RetryDecision
from procrastinate import exceptions as pq_exceptions
from procrastinate.jobs import Job
from procrastinate.retry import BaseRetryStrategy
from psycopg import sql
from psycopg_pool import AsyncConnectionPool

from screening_svc import metrics
from screening_svc.mail import smtp
from screening_svc.mail.config import MailConfig
from screening_svc.mail.outbox import CHANNEL, LOCK_PREFIX, MailOutbox
from screening_svc.workers import WorkerOptions, WorkerRunner

log = logging.getLogger("screening_svc.mail")

QUEUE = "mail"
TASK_NAME = "mail.deliver"
MAIL_OFF = "skipped: mail is turned off (HIREMESH_SMTP_ENABLED=false)"
OPTED_OUT = "skipped: the candidate opted out of e-mails before it was sent"
_BATCH = 200
_RECOVERY_LOCK = 0x5C4E_3A11  # session advisory lock: one replica requeues stalled mail jobs at a time


class RetryLater(Exception):
    """Raised by the delivery job to have procrastinate run it again after `wait_s` (message id only)."""

    def __init__(self, notification_id: str, wait_s: float) -> None:
        super().__init__(f"mail {notification_id}: retrying in {wait_s:g}s")
        self.wait_s = wait_s


class DeliveryFailed(Exception):
    """The message is marked failed; the job ends failed too, so the task monitor shows it."""


class _Backoff(BaseRetryStrategy):
    def get_retry_decision(self, *, exception: BaseException, job: Job) -> RetryDecision | None:
        if isinstance(exception, RetryLater):
            return RetryDecision(retry_in={"milliseconds": int(exception.wait_s * 1000)})
        if isinstance(exception, asyncio.CancelledError | pq_exceptions.JobAborted):
            return RetryDecision()  # worker shutdown: run again at once elsewhere
        return None


class MailRelay:
    """Registers the delivery task on the screening queue's procrastinate app and runs relay and worker."""

    def __init__(
        self,
        cfg: MailConfig,
        app: App,
        pool: AsyncConnectionPool[Any],
        database_url: str,
        worker: WorkerOptions,
        stalled_after_s: float,
    ) -> None:
        self._cfg = cfg
        self._app = app
        self._pool = pool
        self._url = database_url
        self._worker = worker
        self._stalled_after_s = stalled_after_s
        self.outbox = MailOutbox(pool)
        self._task = app.task(name=TASK_NAME, queue=QUEUE, pass_context=True, retry=_Backoff())(self._deliver)
        self._wake = asyncio.Event()
        self._background: list[asyncio.Task[None]] = []
        self._warned_absent = False

    def start(self, *, worker: bool) -> None:
        self._background.append(asyncio.create_task(self._listen_forever(), name="mail-listen"))
        self._background.append(asyncio.create_task(self._sweep_forever(), name="mail-relay"))
        if worker and self._cfg.workers > 0:
            runner = WorkerRunner(self._app, self._pool, self._worker)
            self._background.append(asyncio.create_task(runner.run(), name="mail-worker"))

    async def close(self) -> None:
        for task in self._background:
            task.cancel()
        for task in self._background:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._background.clear()

    # --- relay: queued rows -> delivery jobs ---------------------------------------------------------

    async def _listen_forever(self) -> None:
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(self._url, autocommit=True) as conn:
                    await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(CHANNEL)))
                    self._wake.set()  # anything queued while not listening
                    async for _note in conn.notifies():
                        self._wake.set()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("mail relay listener lost its connection (%s); reconnecting in 2s", type(exc).__name__)
            await asyncio.sleep(2)

    async def _sweep_forever(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._cfg.sweep_s)
            self._wake.clear()
            try:
                while await self.relay_once() == _BATCH:
                    pass
                await self.recover_stalled()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning(
                    "mail relay sweep failed (%s: %s); next sweep in %gs", type(exc).__name__, exc, self._cfg.sweep_s
                )

    async def relay_once(self) -> int:
        """Give every queued message without one a delivery job; returns how many were handled."""
        if not await self.outbox.available():
            if not self._warned_absent:
                log.warning(
                    "mail relay idle: no catalog.notifications in this database yet (search_svc creates "
                    "it; both services must share the database)"
                )
                self._warned_absent = True
            return 0
        self._warned_absent = False
        async with self._pool.connection() as conn, conn.transaction():
            due = await self.outbox.due(conn, _BATCH)
            for notification_id in due:
                if not self._cfg.enabled:
                    await conn.execute(
                        "UPDATE catalog.notifications SET state = 'skipped', error = %s, "
                        "updated_at = now() WHERE id = %s AND state = 'queued'",
                        (MAIL_OFF, notification_id),
                    )
                    metrics.MAIL_FINISHED.labels("skipped").inc()
                    continue
                job_id = await self._defer(notification_id)
                if job_id:
                    await self.outbox.link(conn, notification_id, job_id)
        if due:
            log.info("queued delivery of %d e-mail(s)", len(due))
        return len(due)

    async def _defer(self, notification_id: str) -> int:
        lock = LOCK_PREFIX + notification_id
        try:
            return await self._task.configure(lock=lock, queueing_lock=lock).defer_async(
                notification_id=notification_id
            )
        except pq_exceptions.AlreadyEnqueued:
            # Another relay (or this one before a crash) queued it a moment ago: link that job.
            async with self._pool.connection() as conn:
                cur = await conn.execute(
                    "SELECT id FROM procrastinate.procrastinate_jobs WHERE queueing_lock = %s AND status = 'todo'",
                    (lock,),
                )
                row = await cur.fetchone()
            return int(row[0]) if row else 0

    async def requeue(self, notification_id: str) -> bool:
        """Queue a failed message again (the monitor's retry) and wake the relay."""
        reopened = await self.outbox.reopen(notification_id)
        self._wake.set()
        return reopened

    async def recover_stalled(self) -> int:
        """Hand mail jobs of workers that stopped sending heartbeats back to the queue."""
        async with self._pool.connection() as lock_conn:
            cur = await lock_conn.execute("SELECT pg_try_advisory_lock(%s)", (_RECOVERY_LOCK,))
            row = await cur.fetchone()
            if not row or not row[0]:
                return 0
            try:
                manager = self._app.job_manager
                stalled = await manager.get_stalled_jobs(
                    queue=QUEUE, task_name=TASK_NAME, seconds_since_heartbeat=self._stalled_after_s
                )
                count = 0
                for job in stalled:
                    try:
                        await manager.retry_job(job)
                    except pq_exceptions.ConnectorException:
                        continue
                    count += 1
                    log.warning("requeued mail job %s of a silent worker", job.id)
                return count
            finally:
                await lock_conn.execute("SELECT pg_advisory_unlock(%s)", (_RECOVERY_LOCK,))

    # --- the delivery job ----------------------------------------------------------------------------

    async def _deliver(self, context: JobContext, notification_id: str) -> None:
        if not self._cfg.enabled:
            await self.outbox.skipped(notification_id, MAIL_OFF)
            return
        attempt = await self.outbox.begin_attempt(notification_id)
        if attempt is None:
            return  # sent, failed, skipped or deleted meanwhile: this job is a late duplicate
        if attempt.opted_out:
            await self.outbox.skipped(notification_id, OPTED_OUT)
            metrics.MAIL_FINISHED.labels("skipped").inc()
            return
        try:
            await smtp.send(self._cfg, attempt.id, attempt.recipient, attempt.subject, attempt.body)
        except smtp.DeliveryError as exc:
            failure = exc
        else:
            await self._record_sent(notification_id)
            metrics.MAIL_FINISHED.labels("sent").inc()
            log.info("mail %s sent (attempt %d)", notification_id, attempt.attempts)
            return
        # Outside the except block: the job's exception then carries no chained SMTP detail into the logs.
        await self._attempt_failed(notification_id, attempt.attempts, failure)

    async def _attempt_failed(self, notification_id: str, attempts: int, exc: smtp.DeliveryError) -> None:
        last = exc.permanent or attempts >= self._cfg.max_attempts
        metrics.MAIL_ATTEMPTS_FAILED.labels("permanent" if exc.permanent else "transient").inc()
        if last:
            why = "refused" if exc.permanent else f"all {attempts} attempts failed"
            await self.outbox.failed(notification_id, f"{why}; last error: {exc.detail}")
            metrics.MAIL_FINISHED.labels("failed").inc()
            log.warning("mail %s failed after %d attempt(s): %s", notification_id, attempts, exc.kind)
            raise DeliveryFailed(f"mail {notification_id}: {exc.kind}")
        wait = self._cfg.retry_wait_s * 2 ** (attempts - 1)
        await self.outbox.retry_later(
            notification_id,
            f"attempt {attempts} of {self._cfg.max_attempts} failed, retrying in {wait:g}s: {exc.detail}",
        )
        log.info("mail %s attempt %d failed (%s); retrying in %gs", notification_id, attempts, exc.kind, wait)
        raise RetryLater(notification_id, wait)

    async def _record_sent(self, notification_id: str) -> None:
        # The server has the message: keep trying to record that, so a database blip does not send it twice.
        delay = 0.2
        for _ in range(8):
            try:
                await asyncio.shield(self.outbox.sent(notification_id))
                return
            except (psycopg.Error, OSError) as exc:
                log.warning("mail %s sent but not yet recorded (%s); retrying", notification_id, type(exc).__name__)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
        await self.outbox.sent(notification_id)

"""What the task queue is doing, read from procrastinate's own tables (no second record of job state).

Depth per queue and priority, workers with their last heartbeat and running jobs, recent jobs with state,
attempts and the duration of their last attempt (from procrastinate's event log), and finished jobs per
minute. procrastinate does not keep a job's error: it comes from the object the job works on (a screening
task's or an e-mail's last error). Worker names come from `screening.queue_workers` (see `workers.py`).
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, LiteralString

from psycopg import sql
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from hiremesh.errors import InvalidArgument
from screening_svc.mail.outbox import MailOutbox

JOB_STATES = ("todo", "doing", "succeeded", "failed", "cancelled", "aborted")
SCREENING_TASK = "screening.run"
MAIL_TASK = "mail.deliver"
MAX_LIMIT = 500
DEFAULT_LIMIT = 50
DEFAULT_MINUTES = 15
MAX_MINUTES = 180

_JOB_COLUMNS = sql.SQL("""
    SELECT j.id, j.queue_name, j.task_name, j.priority, j.status::text AS status, j.attempts, j.args, j.worker_id,
           j.scheduled_at, j.abort_requested, ev.deferred_at, ev.started_at, ev.finished_at, w.name AS worker_name
      FROM procrastinate.procrastinate_jobs j
      LEFT JOIN LATERAL (
          SELECT min(e.at) FILTER (WHERE e.type = 'deferred') AS deferred_at,
                 max(e.at) FILTER (WHERE e.type = 'started') AS started_at,
                 max(e.at) FILTER (WHERE e.type IN ('succeeded', 'failed', 'cancelled', 'aborted')) AS finished_at
            FROM procrastinate.procrastinate_events e WHERE e.job_id = j.id) ev ON true
      LEFT JOIN screening.queue_workers w ON w.worker_id = j.worker_id
""")
_RECENT = sql.SQL("""{columns}
     WHERE (%(queue)s::text IS NULL OR j.queue_name = %(queue)s)
       AND (%(status)s::text IS NULL OR j.status::text = %(status)s)
       AND (%(task)s::text IS NULL OR j.task_name = %(task)s)
     ORDER BY j.id DESC LIMIT %(limit)s
""").format(columns=_JOB_COLUMNS)
_RUNNING = sql.SQL("{columns} WHERE j.status = 'doing' ORDER BY j.id").format(columns=_JOB_COLUMNS)
_ONE = sql.SQL("{columns} WHERE j.id = %(id)s").format(columns=_JOB_COLUMNS)
_DEPTH: LiteralString = """
    SELECT queue_name, priority,
           count(*) FILTER (WHERE scheduled_at IS NULL OR scheduled_at <= now()) AS ready,
           count(*) FILTER (WHERE scheduled_at > now()) AS scheduled
      FROM procrastinate.procrastinate_jobs WHERE status = 'todo'
     GROUP BY queue_name, priority ORDER BY queue_name, priority DESC
"""
_WORKERS: LiteralString = """
    SELECT p.id, p.last_heartbeat, w.name, w.queues, w.concurrency,
           p.last_heartbeat < now() - make_interval(secs => %(stall)s) AS stalled
      FROM procrastinate.procrastinate_workers p
      LEFT JOIN screening.queue_workers w ON w.worker_id = p.id
     ORDER BY p.id
"""
_THROUGHPUT: LiteralString = """
    SELECT date_trunc('minute', e.at) AS minute, j.queue_name,
           count(*) FILTER (WHERE e.type = 'succeeded') AS succeeded,
           count(*) FILTER (WHERE e.type = 'failed') AS failed
      FROM procrastinate.procrastinate_events e
      JOIN procrastinate.procrastinate_jobs j ON j.id = e.job_id
     WHERE e.type IN ('succeeded', 'failed')
       AND e.at >= date_trunc('minute', now()) - make_interval(mins => %(minutes)s - 1)
     GROUP BY 1, 2 ORDER BY 1, 2
"""


@dataclass(frozen=True)
class Filters:
    queue: str = ""
    state: str = ""
    task_name: str = ""
    limit: int = DEFAULT_LIMIT
    minutes: int = DEFAULT_MINUTES

    @classmethod
    def checked(cls, queue: str, state: str, task_name: str, limit: int, minutes: int) -> Filters:
        if state and state not in JOB_STATES:
            raise InvalidArgument("state", f"must be one of {', '.join(JOB_STATES)}")
        if not 0 <= limit <= MAX_LIMIT:
            raise InvalidArgument("limit", f"must be within 0..{MAX_LIMIT} (0 means {DEFAULT_LIMIT})")
        if not 0 <= minutes <= MAX_MINUTES:
            raise InvalidArgument("throughput_minutes", f"must be within 0..{MAX_MINUTES} (0 means {DEFAULT_MINUTES})")
        for name, value in (("queue", queue), ("task_name", task_name)):
            if len(value) > 128:
                raise InvalidArgument(name, "longer than 128 characters")
        return cls(queue.strip(), state, task_name.strip(), limit or DEFAULT_LIMIT, minutes or DEFAULT_MINUTES)


@dataclass(frozen=True)
class QueueJob:
    id: int
    queue: str
    task_name: str
    priority: int
    state: str
    attempts: int
    args: dict[str, str]
    worker_id: int | None
    worker_name: str
    deferred_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    scheduled_at: datetime | None
    abort_requested: bool
    error: str = ""

    @property
    def kind(self) -> str:
        return {SCREENING_TASK: "screening", MAIL_TASK: "mail"}.get(self.task_name, "")

    @property
    def reference_id(self) -> str:
        return self.args.get("task_id" if self.kind == "screening" else "notification_id", "") if self.kind else ""

    @property
    def duration_ms(self) -> float:
        if self.started_at and self.finished_at and self.finished_at >= self.started_at:
            return (self.finished_at - self.started_at).total_seconds() * 1000
        return 0.0


@dataclass(frozen=True)
class Worker:
    id: int
    name: str
    queues: list[str]
    concurrency: int
    last_heartbeat: datetime
    stalled: bool
    current_jobs: list[QueueJob] = field(default_factory=list)


@dataclass(frozen=True)
class Depth:
    queue: str
    priority: int
    ready: int
    scheduled: int


@dataclass(frozen=True)
class Throughput:
    minute: datetime
    queue: str
    succeeded: int
    failed: int


@dataclass(frozen=True)
class Snapshot:
    time: datetime
    depth: list[Depth]
    workers: list[Worker]
    jobs: list[QueueJob]
    throughput: list[Throughput]
    minutes: int


def _job(row: dict[str, Any]) -> QueueJob:
    # Done attempts are counted when they end; the one running now counts too.
    attempts = int(row["attempts"]) + (1 if row["status"] == "doing" else 0)
    args = {str(k): v if isinstance(v, str) else str(v) for k, v in (row["args"] or {}).items()}
    return QueueJob(
        id=int(row["id"]),
        queue=row["queue_name"],
        task_name=row["task_name"],
        priority=int(row["priority"]),
        state=row["status"],
        attempts=attempts,
        args=args,
        worker_id=row["worker_id"],
        worker_name=row["worker_name"] or "",
        deferred_at=row["deferred_at"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        scheduled_at=row["scheduled_at"],
        abort_requested=bool(row["abort_requested"]),
    )


class TaskMonitor:
    """Reads snapshots of the queue; `stalled_after_s` is the heartbeat age that marks a worker stalled."""

    def __init__(self, pool: AsyncConnectionPool[Any], outbox: MailOutbox, stalled_after_s: float) -> None:
        self._pool = pool
        self._outbox = outbox
        self._stalled_after_s = stalled_after_s

    async def _rows(self, query: LiteralString | sql.Composable, params: dict[str, Any]) -> list[dict[str, Any]]:
        async with self._pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(query, params)
            rows: list[dict[str, Any]] = await cur.fetchall()
            return rows

    async def job(self, job_id: int) -> QueueJob | None:
        rows = await self._rows(_ONE, {"id": job_id})
        if not rows:
            return None
        [job] = await self.with_errors([_job(rows[0])])
        return job

    async def snapshot(self, filters: Filters) -> Snapshot:
        recent, running, depth, workers, throughput, now = await asyncio.gather(
            self._rows(
                _RECENT,
                {
                    "queue": filters.queue or None,
                    "status": filters.state or None,
                    "task": filters.task_name or None,
                    "limit": filters.limit,
                },
            ),
            self._rows(_RUNNING, {}),
            self._rows(_DEPTH, {}),
            self._rows(_WORKERS, {"stall": self._stalled_after_s}),
            self._rows(_THROUGHPUT, {"minutes": filters.minutes}),
            self._rows("SELECT now() AS now", {}),
        )
        jobs = await self.with_errors([_job(r) for r in recent])
        doing: dict[int, list[QueueJob]] = {}
        for row in running:
            job = _job(row)
            if job.worker_id is not None:
                doing.setdefault(job.worker_id, []).append(job)
        return Snapshot(
            time=now[0]["now"],
            depth=[Depth(r["queue_name"], int(r["priority"]), int(r["ready"]), int(r["scheduled"])) for r in depth],
            workers=[
                Worker(
                    int(r["id"]),
                    r["name"] or "",
                    list(r["queues"] or []),
                    int(r["concurrency"] or 0),
                    r["last_heartbeat"],
                    bool(r["stalled"]),
                    doing.get(int(r["id"]), []),
                )
                for r in workers
            ],
            jobs=jobs,
            throughput=[
                Throughput(r["minute"], r["queue_name"], int(r["succeeded"]), int(r["failed"])) for r in throughput
            ],
            minutes=filters.minutes,
        )

    async def with_errors(self, jobs: list[QueueJob]) -> list[QueueJob]:
        """The jobs with the last error of the screening task or e-mail each works on."""
        tasks = [j.reference_id for j in jobs if j.kind == "screening" and _is_uuid(j.reference_id)]
        mails = [j.reference_id for j in jobs if j.kind == "mail" and _is_uuid(j.reference_id)]
        errors: dict[str, str] = {}
        if tasks:
            async with self._pool.connection() as conn:
                cur = await conn.execute(
                    "SELECT id::text, error FROM screening.tasks WHERE id = ANY(%s::uuid[])", (tasks,)
                )
                errors.update({str(i): str(e) for i, e in await cur.fetchall()})
        errors.update(await self._outbox.errors(mails))
        return [_replace_error(j, errors.get(j.reference_id, "")) for j in jobs]


def _replace_error(job: QueueJob, error: str) -> QueueJob:
    return replace(job, error=error) if error else job


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True

"""Screening tasks and results in PostgreSQL (schema `screening`).

Every change to a task bumps its `version` and, in the same statement, sends a NOTIFY on the task's own
channel (`screening_task_<uuid hex>`), so a watcher on any replica sees each stage in commit order and can
drop notifications older than the state it read. Results are unique per (candidate, job, engine_version):
re-running a task upserts the same row, which keeps a retried task to exactly one result.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, LiteralString

from psycopg import AsyncConnection, sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from hiremesh import page_tokens
from hiremesh.errors import FailedPrecondition, NotFound
from hiremesh.idempotency import LOCK_NAMESPACE
from hiremesh.task_vocabulary import TERMINAL_STATES

TERMINAL = TERMINAL_STATES


def channel_for(task_id: str) -> str:
    """The LISTEN/NOTIFY channel of one task (63-byte identifier limit: hex, no dashes)."""
    return "screening_task_" + uuid.UUID(task_id).hex


@dataclass(frozen=True)
class TaskRecord:
    id: str
    application_id: str
    candidate_id: str
    job_id: str
    engine: str
    priority: int
    state: str
    stage: str
    percent: float
    message: str
    attempts: int
    error: str
    result_id: str
    queue_job_id: int | None
    version: int
    created_at: datetime
    updated_at: datetime

    @property
    def finished(self) -> bool:
        return self.state in TERMINAL


@dataclass(frozen=True)
class NewResult:
    """What one screening produced, ready to store (analysis/safety as JSON objects)."""

    candidate_id: str
    job_id: str
    application_id: str
    engine: str
    engine_version: str
    model: str
    analysis: dict[str, Any]
    degraded: bool
    degraded_reason: str
    safety: dict[str, Any]
    safety_checked: bool
    pii_count: int
    bias_count: int
    toxicity_score: float
    has_safety_issues: bool
    traces: list[dict[str, Any]] = field(default_factory=list)
    duration_ms: float = 0.0


@dataclass(frozen=True)
class ResultRecord:
    id: str
    task_id: str
    application_id: str
    candidate_id: str
    job_id: str
    engine: str
    engine_version: str
    model: str
    analysis: dict[str, Any]
    degraded: bool
    degraded_reason: str
    safety: dict[str, Any]
    safety_checked: bool
    traces: list[dict[str, Any]]
    duration_ms: float
    created_at: datetime


@dataclass(frozen=True)
class TaskSpec:
    candidate_id: str
    job_id: str
    application_id: str
    engine: str
    priority: int


_NOTIFY = """
SELECT t.*, pg_notify('screening_task_' || replace(t.id::text, '-', ''), json_build_object(
    'version', t.version, 'state', t.state, 'stage', t.stage, 'percent', t.percent,
    'message', left(t.message, 1000), 'error', left(t.error, 2000),
    'result_id', coalesce(t.result_id::text, ''), 'time', t.updated_at)::text) AS notified
  FROM t
"""

_UPSERT_RESULT = """
INSERT INTO screening.results AS r (
    task_id, application_id, candidate_id, job_id, engine, engine_version, model, match_score, skills_score,
    experience_score, semantic_score, confidence, recommendation, analysis, degraded, degraded_reason,
    pii_count, bias_count, toxicity_score, has_safety_issues, safety_checked, safety_report, traces, duration_ms)
VALUES (%(task_id)s, %(application_id)s, %(candidate_id)s, %(job_id)s, %(engine)s, %(engine_version)s, %(model)s,
        %(match_score)s, %(skills_score)s, %(experience_score)s, %(semantic_score)s, %(confidence)s,
        %(recommendation)s, %(analysis)s, %(degraded)s, %(degraded_reason)s, %(pii_count)s, %(bias_count)s,
        %(toxicity_score)s, %(has_safety_issues)s, %(safety_checked)s, %(safety_report)s, %(traces)s,
        %(duration_ms)s)
ON CONFLICT (candidate_id, job_id, engine_version) DO UPDATE SET
    task_id = EXCLUDED.task_id,
    application_id = coalesce(EXCLUDED.application_id, r.application_id),
    engine = EXCLUDED.engine, model = EXCLUDED.model, match_score = EXCLUDED.match_score,
    skills_score = EXCLUDED.skills_score, experience_score = EXCLUDED.experience_score,
    semantic_score = EXCLUDED.semantic_score, confidence = EXCLUDED.confidence,
    recommendation = EXCLUDED.recommendation, analysis = EXCLUDED.analysis, degraded = EXCLUDED.degraded,
    degraded_reason = EXCLUDED.degraded_reason, pii_count = EXCLUDED.pii_count,
    bias_count = EXCLUDED.bias_count, toxicity_score = EXCLUDED.toxicity_score,
    has_safety_issues = EXCLUDED.has_safety_issues, safety_checked = EXCLUDED.safety_checked,
    safety_report = EXCLUDED.safety_report, traces = EXCLUDED.traces, duration_ms = EXCLUDED.duration_ms,
    updated_at = now()
RETURNING r.*
"""


def _str(value: Any) -> str:
    return "" if value is None else str(value)


def _task(row: dict[str, Any]) -> TaskRecord:
    return TaskRecord(
        id=str(row["id"]),
        application_id=_str(row["application_id"]),
        candidate_id=str(row["candidate_id"]),
        job_id=str(row["job_id"]),
        engine=row["engine"],
        priority=row["priority"],
        state=row["state"],
        stage=row["stage"],
        percent=float(row["percent"]),
        message=row["message"],
        attempts=row["attempts"],
        error=row["error"],
        result_id=_str(row["result_id"]),
        queue_job_id=row["queue_job_id"],
        version=row["version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _result(row: dict[str, Any]) -> ResultRecord:
    return ResultRecord(
        id=str(row["id"]),
        task_id=_str(row["task_id"]),
        application_id=_str(row["application_id"]),
        candidate_id=str(row["candidate_id"]),
        job_id=str(row["job_id"]),
        engine=row["engine"],
        engine_version=row["engine_version"],
        model=row["model"],
        analysis=row["analysis"],
        degraded=row["degraded"],
        degraded_reason=row["degraded_reason"],
        safety=row["safety_report"],
        safety_checked=row["safety_checked"],
        traces=row["traces"],
        duration_ms=float(row["duration_ms"]),
        created_at=row["created_at"],
    )


def _result_params(result: NewResult, task_id: str | None) -> dict[str, Any]:
    analysis = result.analysis

    def score(name: str) -> float:
        return float(analysis.get(name) or 0.0)

    return {
        "task_id": task_id,
        "application_id": result.application_id or None,
        "candidate_id": result.candidate_id,
        "job_id": result.job_id,
        "engine": result.engine,
        "engine_version": result.engine_version,
        "model": result.model,
        "match_score": max(0, min(100, int(analysis.get("match_score") or 0))),
        "skills_score": score("skills_score"),
        "experience_score": score("experience_score"),
        "semantic_score": score("semantic_score"),
        "confidence": score("confidence"),
        "recommendation": str(analysis.get("recommendation") or ""),
        "analysis": Jsonb(analysis),
        "degraded": result.degraded,
        "degraded_reason": result.degraded_reason,
        "pii_count": result.pii_count,
        "bias_count": result.bias_count,
        "toxicity_score": result.toxicity_score,
        "has_safety_issues": result.has_safety_issues,
        "safety_checked": result.safety_checked,
        "safety_report": Jsonb(result.safety),
        "traces": Jsonb(result.traces),
        "duration_ms": result.duration_ms,
    }


class TaskStore:
    """Tasks and results of schema `screening`; every task change is NOTIFY'd on the task's channel."""

    def __init__(self, pool: AsyncConnectionPool[Any]) -> None:
        self._pool = pool

    async def _one(
        self, query: LiteralString, params: dict[str, Any], conn: AsyncConnection[Any] | None = None
    ) -> dict[str, Any] | None:
        if conn is not None:
            async with conn.cursor(row_factory=dict_row) as cur:
                await cur.execute(query, params)
                return await cur.fetchone()
        async with self._pool.connection() as own, own.cursor(row_factory=dict_row) as cur:
            await cur.execute(query, params)
            row: dict[str, Any] | None = await cur.fetchone()
            return row

    async def _change(
        self, update: LiteralString, params: dict[str, Any], conn: AsyncConnection[Any] | None = None
    ) -> TaskRecord | None:
        """Run `update` (an UPDATE ... RETURNING *) as CTE `t`, notify watchers, return the new row."""
        row = await self._one("WITH t AS (" + update + ")" + _NOTIFY, params, conn)
        return None if row is None else _task(row)

    # --- tasks ---------------------------------------------------------------------------------------

    async def create(self, specs: Sequence[TaskSpec]) -> list[TaskRecord]:
        """Insert queued tasks (one statement for a whole batch), returned in the order given."""
        if not specs:
            return []
        # Ids are chosen here so the rows can be matched back to `specs` whatever order RETURNING uses.
        ids = [str(uuid.uuid4()) for _ in specs]
        query: LiteralString = """
            INSERT INTO screening.tasks (id, candidate_id, job_id, application_id, engine, priority, message)
            SELECT i, c, j, nullif(a, '')::uuid, e, p, 'queued'
              FROM unnest(%(i)s::uuid[], %(c)s::uuid[], %(j)s::uuid[], %(a)s::text[], %(e)s::text[], %(p)s::int[])
                   AS s(i, c, j, a, e, p)
            RETURNING *
        """
        params = {
            "i": ids,
            "c": [s.candidate_id for s in specs],
            "j": [s.job_id for s in specs],
            "a": [s.application_id for s in specs],
            "e": [s.engine for s in specs],
            "p": [s.priority for s in specs],
        }
        async with self._pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(query, params)
            rows = {str(r["id"]): _task(r) for r in await cur.fetchall()}
        return [rows[i] for i in ids]

    async def create_once(self, spec: TaskSpec, request_id: str) -> tuple[TaskRecord, bool]:
        """The task queued for `spec`, or the one a request with this AIP-155 `request_id` queued before
        (and False: it is not new, so it is not deferred again)."""
        async with self._pool.connection() as conn, conn.transaction():
            # Two attempts with one id (a retry racing the first) queue one task: the second waits here.
            await conn.execute(
                "SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (LOCK_NAMESPACE, f"screening:{request_id}")
            )
            async with conn.cursor(row_factory=dict_row) as cur:
                await cur.execute(
                    "SELECT t.* FROM screening.request_ids r JOIN screening.tasks t ON t.id = r.task_id "
                    "WHERE r.request_id = %s",
                    (request_id,),
                )
                row = await cur.fetchone()
                if row is not None:
                    return _task(row), False
                await cur.execute(
                    "INSERT INTO screening.tasks (id, candidate_id, job_id, application_id, engine, priority, "
                    "message) VALUES (%s, %s, %s, nullif(%s, '')::uuid, %s, %s, 'queued') RETURNING *",
                    (
                        str(uuid.uuid4()),
                        spec.candidate_id,
                        spec.job_id,
                        spec.application_id,
                        spec.engine,
                        spec.priority,
                    ),
                )
                created = await cur.fetchone()
                assert created is not None
                await cur.execute(
                    "INSERT INTO screening.request_ids (request_id, task_id) VALUES (%s, %s)",
                    (request_id, created["id"]),
                )
            return _task(created), True

    async def adopt_queue_jobs(self, older_than_s: float, queue_schema: str, queue: str, task_name: str) -> int:
        """Link queued tasks that have no queue job id to the job already deferred for them (the submitter
        died between deferring and recording the id); returns how many were linked. Finished jobs are kept
        for the monitor, so only waiting or running ones count."""
        query = sql.SQL("""
            UPDATE screening.tasks t SET queue_job_id = j.id
              FROM {jobs} j
             WHERE t.state = 'queued' AND t.queue_job_id IS NULL
               AND t.created_at < now() - make_interval(secs => %(age)s)
               AND j.queue_name = %(queue)s AND j.task_name = %(task)s AND j.args->>'task_id' = t.id::text
               AND j.status IN ('todo', 'doing')
        """).format(jobs=sql.Identifier(queue_schema, "procrastinate_jobs"))
        async with self._pool.connection() as conn:
            cur = await conn.execute(query, {"age": older_than_s, "queue": queue, "task": task_name})
            return int(cur.rowcount)

    async def orphans(
        self, older_than_s: float, queue_schema: str, queue: str, task_name: str, limit: int = 500
    ) -> list[TaskRecord]:
        """Queued tasks that never got a queue job (the submitter died between insert and defer)."""
        query = sql.SQL("""
            SELECT * FROM screening.tasks t
             WHERE t.state = 'queued' AND t.queue_job_id IS NULL
               AND t.created_at < now() - make_interval(secs => %(age)s)
               AND NOT EXISTS (SELECT 1 FROM {jobs} j WHERE j.queue_name = %(queue)s AND j.task_name = %(task)s
                                  AND j.args->>'task_id' = t.id::text AND j.status IN ('todo', 'doing'))
             ORDER BY t.created_at LIMIT %(limit)s
        """).format(jobs=sql.Identifier(queue_schema, "procrastinate_jobs"))
        async with self._pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(query, {"age": older_than_s, "queue": queue, "task": task_name, "limit": limit})
            return [_task(r) for r in await cur.fetchall()]

    async def attach_queue_jobs(self, task_ids: Sequence[str], job_ids: Sequence[int]) -> None:
        query: LiteralString = """
            UPDATE screening.tasks t SET queue_job_id = v.q
              FROM unnest(%(t)s::uuid[], %(q)s::bigint[]) AS v(id, q)
             WHERE t.id = v.id
        """
        async with self._pool.connection() as conn:
            await conn.execute(query, {"t": list(task_ids), "q": list(job_ids)})

    async def delete(self, task_ids: Sequence[str]) -> None:
        """Remove tasks that never reached the queue (the queue refused them)."""
        async with self._pool.connection() as conn:
            await conn.execute("DELETE FROM screening.tasks WHERE id = ANY(%(t)s::uuid[])", {"t": list(task_ids)})

    async def get(self, task_id: str) -> TaskRecord:
        row = await self._one("SELECT * FROM screening.tasks WHERE id = %(id)s", {"id": task_id})
        if row is None:
            raise NotFound(f"screening task {task_id} not found")
        return _task(row)

    async def start(self, task_id: str, worker: str, queue_job_id: int | None = None) -> TaskRecord | None:
        """Claim a task for an attempt; None when it was cancelled or already finished meanwhile.

        `queue_job_id` fills in the job id when the submitter died before recording it (cancel needs it)."""
        return await self._change(
            """
            UPDATE screening.tasks SET state = 'running', stage = 'queued', percent = 0, error = '',
                   attempts = attempts + 1, message = 'attempt ' || (attempts + 1) || ' on ' || %(worker)s,
                   queue_job_id = coalesce(queue_job_id, %(job)s),
                   version = version + 1, updated_at = clock_timestamp()
             WHERE id = %(id)s AND state IN ('queued', 'running')
            RETURNING *""",
            {"id": task_id, "worker": worker, "job": queue_job_id},
        )

    async def progress(self, task_id: str, stage: str, percent: float, message: str) -> bool:
        """Record a stage; False when the task is no longer running (cancelled), so the worker stops."""
        changed = await self._change(
            """
            UPDATE screening.tasks SET stage = %(stage)s, percent = %(percent)s, message = %(message)s,
                   version = version + 1, updated_at = clock_timestamp()
             WHERE id = %(id)s AND state = 'running'
            RETURNING *""",
            {"id": task_id, "stage": stage, "percent": percent, "message": message},
        )
        return changed is not None

    async def requeue(self, task_id: str, message: str, error: str = "") -> TaskRecord | None:
        """Put a running task back to queued (it will be retried); no-op if it was cancelled."""
        return await self._change(
            """
            UPDATE screening.tasks SET state = 'queued', stage = 'queued', percent = 0, message = %(message)s,
                   error = %(error)s, version = version + 1, updated_at = clock_timestamp()
             WHERE id = %(id)s AND state = 'running'
            RETURNING *""",
            {"id": task_id, "message": message, "error": error},
        )

    async def fail(self, task_id: str, error: str) -> TaskRecord | None:
        return await self._change(
            """
            UPDATE screening.tasks SET state = 'failed', error = %(error)s, message = 'failed',
                   version = version + 1, updated_at = clock_timestamp(), finished_at = clock_timestamp()
             WHERE id = %(id)s AND state IN ('queued', 'running')
            RETURNING *""",
            {"id": task_id, "error": error or "failed"},
        )

    async def cancel(self, task_id: str) -> TaskRecord:
        """Mark a queued or running task cancelled; FAILED_PRECONDITION once it has finished."""
        async with self._pool.connection() as conn, conn.transaction():
            row = await self._one(
                "SELECT state FROM screening.tasks WHERE id = %(id)s FOR UPDATE", {"id": task_id}, conn
            )
            if row is None:
                raise NotFound(f"screening task {task_id} not found")
            if row["state"] in TERMINAL:
                raise FailedPrecondition(f"screening task {task_id} already {row['state']}; nothing to cancel")
            changed = await self._change(
                """
                UPDATE screening.tasks SET state = 'cancelled', message = 'cancelled by request',
                       version = version + 1, updated_at = clock_timestamp(), finished_at = clock_timestamp()
                 WHERE id = %(id)s
                RETURNING *""",
                {"id": task_id},
                conn,
            )
        assert changed is not None
        return changed

    async def reopen(self, task_id: str) -> TaskRecord:
        """Queue a failed or cancelled task again (an operator's retry); FAILED_PRECONDITION otherwise."""
        changed = await self._change(
            """
            UPDATE screening.tasks SET state = 'queued', stage = 'queued', percent = 0, queue_job_id = NULL,
                   message = 'retry requested', error = '', finished_at = NULL, version = version + 1,
                   updated_at = clock_timestamp()
             WHERE id = %(id)s AND state IN ('failed', 'cancelled')
            RETURNING *""",
            {"id": task_id},
        )
        if changed is None:
            task = await self.get(task_id)
            raise FailedPrecondition(
                f"screening task {task_id} is {task.state}; only failed or cancelled tasks are retried"
            )
        return changed

    async def complete(self, task_id: str, result: NewResult) -> tuple[TaskRecord, ResultRecord] | None:
        """Store the result and finish the task in one transaction; None if the task stopped running.

        The row lock makes a late duplicate attempt (a worker wrongly presumed dead) a no-op instead of a
        second success; the UNIQUE upsert keeps one result row either way.
        """
        async with self._pool.connection() as conn, conn.transaction():
            row = await self._one(
                "SELECT state FROM screening.tasks WHERE id = %(id)s FOR UPDATE", {"id": task_id}, conn
            )
            if row is None or row["state"] != "running":
                return None
            stored = await self._one(_UPSERT_RESULT, _result_params(result, task_id), conn)
            assert stored is not None
            task = await self._change(
                """
                UPDATE screening.tasks SET state = 'succeeded', stage = 'done', percent = 100, error = '',
                       message = 'done', result_id = %(result_id)s, version = version + 1,
                       updated_at = clock_timestamp(), finished_at = clock_timestamp()
                 WHERE id = %(id)s
                RETURNING *""",
                {"id": task_id, "result_id": stored["id"]},
                conn,
            )
        assert task is not None
        return task, _result(stored)

    # --- results -------------------------------------------------------------------------------------

    async def save_result(self, result: NewResult) -> ResultRecord:
        """Upsert a result that has no task (synchronous Screen)."""
        row = await self._one(_UPSERT_RESULT, _result_params(result, None))
        assert row is not None
        return _result(row)

    async def result(self, result_id: str) -> ResultRecord:
        row = await self._one("SELECT * FROM screening.results WHERE id = %(id)s", {"id": result_id})
        if row is None:
            raise NotFound(f"screening result {result_id} not found")
        return _result(row)

    async def results(
        self,
        *,
        job_id: str = "",
        candidate_id: str = "",
        application_id: str = "",
        page_size: int = 50,
        page_token: str = "",
    ) -> tuple[list[ResultRecord], str]:
        """Newest first, keyset-paginated; the token is opaque to callers."""
        after = page_tokens.decode(page_token)
        query: LiteralString = """
            SELECT * FROM screening.results
             WHERE (%(job)s::uuid IS NULL OR job_id = %(job)s::uuid)
               AND (%(cand)s::uuid IS NULL OR candidate_id = %(cand)s::uuid)
               AND (%(app)s::uuid IS NULL OR application_id = %(app)s::uuid)
               AND (%(after_c)s::timestamptz IS NULL OR (created_at, id) < (%(after_c)s, %(after_i)s::uuid))
             ORDER BY created_at DESC, id DESC
             LIMIT %(limit)s
        """
        params = {
            "job": job_id or None,
            "cand": candidate_id or None,
            "app": application_id or None,
            "after_c": after[0] if after else None,
            "after_i": after[1] if after else None,
            "limit": page_size + 1,
        }
        async with self._pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(query, params)
            rows = await cur.fetchall()
        page = [_result(r) for r in rows[:page_size]]
        token = page_tokens.encode(page[-1].created_at, page[-1].id) if len(rows) > page_size and page else ""
        return page, token

    async def state_counts(self) -> dict[str, int]:
        async with self._pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            await cur.execute("SELECT state, count(*) AS n FROM screening.tasks GROUP BY state")
            return {r["state"]: int(r["n"]) for r in await cur.fetchall()}

"""One screening from start to stored result: pipeline stages, guardrails, progress, persistence.

Shared by the synchronous `Screen` RPC and the queue's job body, so both report the same stages
(retrieving → analyzing ‖ interviewing → guarding → done) and store results the same way.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from hiremesh.errors import Cancelled
from hiremesh.rpc_errors import code_of
from hiremesh.v1 import common_pb2, guardrail_pb2
from screening_svc import metrics, score_check
from screening_svc.config import ScreeningConfig
from screening_svc.convert import as_json
from screening_svc.targets import Target
from screening_svc.tasks import NewResult, ResultRecord, TaskRecord, TaskStore

if TYPE_CHECKING:
    from hiremesh.v1.guardrail_pb2_grpc import GuardrailServiceAsyncStub

log = logging.getLogger("screening_svc.runner")

# Where each stage starts, in percent; the pipeline may pass its own figure.
STAGE_PERCENT = {"queued": 0.0, "retrieving": 5.0, "analyzing": 30.0, "interviewing": 55.0, "guarding": 85.0,
                 "done": 100.0}
UNCHECKED_SUMMARY = "Safety check could not run: guardrail_svc was unavailable ({reason}). Review manually."

# Records a stage; returns False when the work should stop (its task was cancelled).
Progress = Callable[[str, float, str], Awaitable[bool]]


class PipelineRunner(Protocol):
    """What screening_svc.agents.Pipeline offers (see that module)."""

    async def run(self, candidate_id: str, job_id: str, engine: str, on_stage: Callable[..., Awaitable[None]],
                  on_questions: Callable[[list[dict[str, Any]]], None] | None = None) -> Any: ...


Guard = Callable[[Any, "GuardrailServiceAsyncStub"], Awaitable[common_pb2.SafetyReport]]


class TaskRequeued(Exception):
    """Stall recovery handed this running task back to the queue (e.g. heartbeats lost in a DB restart)."""


class TaskCancelled(Exception):
    """The task this run belongs to was cancelled; stop without storing anything."""


def unchecked_report(reason: str) -> common_pb2.SafetyReport:
    """The safety report kept with a result when guardrail_svc could not be asked."""
    return common_pb2.SafetyReport(
        summary=UNCHECKED_SUMMARY.format(reason=reason[:300]),
        has_issues=True,
        validation=[common_pb2.ValidationIssue(
            field="safety", code="GUARDRAIL_UNAVAILABLE", severity=common_pb2.SEVERITY_MEDIUM,
            message="PII, bias and toxicity checks did not run; the result is stored unchecked")],
    )


class Screener:
    """Runs the agent pipeline for one target, guards its output and builds the result to store."""

    def __init__(self, cfg: ScreeningConfig, pipeline: PipelineRunner, guard: Guard,
                 guardrail: GuardrailServiceAsyncStub, store: TaskStore) -> None:
        self._cfg = cfg
        self._pipeline = pipeline
        self._guard = guard
        self._guardrail = guardrail
        self._store = store

    async def screen(self, target: Target, engine: str, progress: Progress) -> NewResult:
        """Run every stage, reporting each through `progress`; raises TaskCancelled if it says stop."""
        started = time.perf_counter()
        reached = 0.0

        async def on_stage(stage: str, percent: float | None = None, message: str = "") -> None:
            nonlocal reached
            # Analyzer and interviewer run in parallel: never let the bar move backwards.
            reached = max(reached, STAGE_PERCENT.get(stage, reached) if percent is None else float(percent))
            if not await progress(stage, reached, message or stage):
                raise TaskCancelled(stage)

        early: list[asyncio.Task[bool]] = []

        def scan_early(questions: list[dict[str, Any]]) -> None:
            if self._cfg.early_scan:
                early.append(asyncio.create_task(self._scan_early(questions)))

        try:
            outcome = await self._pipeline.run(target.candidate_id, target.job_id, engine, on_stage,
                                               on_questions=scan_early)
            await on_stage("guarding", None, "checking the analysis for PII, bias and toxicity")
        except BaseException:
            for task in early:
                task.cancel()
            raise
        guard_started = time.perf_counter()
        guard_at = datetime.now(UTC)
        # Still running: let it finish rather than scan the questions twice.
        early_ok = all(await asyncio.gather(*early)) if early else False
        report, checked = await self._safety(outcome)
        # The LLM-vs-evidence score check stands even when guardrail_svc could not be asked.
        score_check.flag(report, getattr(outcome, "score_issue", None))
        guard_ms = (time.perf_counter() - guard_started) * 1000
        traces = as_json(list(getattr(outcome, "traces", []) or []))
        context = as_json(getattr(outcome, "context", None) or {})
        if context and traces and traces[0].get("agent") == "retriever":
            traces[0]["context"] = context
        calls = ["GuardrailService.Scan", "GuardrailService.ValidateOutput"]
        if early:
            calls.insert(0, "GuardrailService.Scan (the interviewer's questions, while the analyzer ran)"
                         + ("" if early_ok else " (failed; scanned with the rest)"))
        traces.append({"agent": "guardrail", "duration_ms": guard_ms, "started_at": guard_at.isoformat(),
                       "tool_calls": calls,
                       "error": "" if checked else report.summary})
        analysis = as_json(outcome.analysis)
        toxicity = report.toxicity.score if report.HasField("toxicity") else 0.0
        return NewResult(
            candidate_id=target.candidate_id, job_id=target.job_id, application_id=target.application_id,
            engine=str(outcome.engine), engine_version=str(outcome.engine_version), model=str(outcome.model or ""),
            analysis=analysis, degraded=bool(outcome.degraded), degraded_reason=str(outcome.reason or ""),
            safety=as_json(report), safety_checked=checked, pii_count=len(report.pii), bias_count=len(report.bias),
            toxicity_score=float(toxicity), has_safety_issues=bool(report.has_issues), traces=traces,
            duration_ms=(time.perf_counter() - started) * 1000,
        )

    async def _scan_early(self, questions: list[dict[str, Any]]) -> bool:
        # Only warms guardrail_svc's findings cache: the questions are scanned again, from the cache, with the
        # whole result at the guarding stage, so any failure here costs nothing but the saved time.
        document = json.dumps({"interview_questions": questions})
        try:
            await self._guardrail.Scan(guardrail_pb2.ScanRequest(json_document=document),
                                       timeout=self._cfg.call_timeout_s)
        except Exception as exc:  # never fails a screening: the guarding stage scans everything anyway
            code = code_of(exc)
            detail = code.name if code is not None else type(exc).__name__
            log.debug("early scan of the interview questions failed: %s", detail)
            return False
        return True

    async def _safety(self, outcome: Any) -> tuple[common_pb2.SafetyReport, bool]:
        try:
            report = await self._guard(outcome, self._guardrail)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            # Never lose a screening because the safety service is down: keep it, flagged as unchecked.
            reason = getattr(exc, "details", None)
            text = reason() if callable(reason) else str(exc)
            log.warning("guardrail check failed (%s); storing the result unchecked", text)
            metrics.GUARDRAIL_UNCHECKED.inc()
            return unchecked_report(text or type(exc).__name__), False
        checked = not any(issue.code == "GUARDRAIL_UNAVAILABLE" for issue in report.validation)
        if not checked:
            metrics.GUARDRAIL_UNCHECKED.inc()
        return report, checked

    # --- the two callers ---------------------------------------------------------------------------------

    async def run_task(self, task: TaskRecord) -> None:
        """A queued task's attempt: progress persisted and NOTIFY'd, result stored with the success."""

        async def progress(stage: str, percent: float, message: str) -> bool:
            return await self._store.progress(task.id, stage, percent, message)

        started = time.perf_counter()
        target = Target(task.candidate_id, task.job_id, task.application_id)
        try:
            result = await self.screen(target, task.engine, progress)
        except TaskCancelled:
            await self._raise_if_requeued(task.id)
            log.info("task %s cancelled during %s", task.id, "screening")
            return
        done = await self._store.complete(task.id, result)
        if done is None:
            await self._raise_if_requeued(task.id)
            log.info("task %s stopped running before its result was stored; dropped", task.id)
            return
        metrics.TASKS_FINISHED.labels("succeeded").inc()
        metrics.TASK_DURATION.observe(time.perf_counter() - started)

    async def _raise_if_requeued(self, task_id: str) -> None:
        # "Not running any more" means cancelled, unless stall recovery re-queued it: then ending this job as a
        # success would leave the task queued with no job to run it, so the attempt must be retried instead.
        if (await self._store.get(task_id)).state == "queued":
            raise TaskRequeued(f"task {task_id} was requeued while running")

    async def run_now(self, target: Target, engine: str, progress: Progress) -> ResultRecord:
        """A synchronous screening (no task): stages streamed by `progress`, result upserted."""
        try:
            result = await self.screen(target, engine, progress)
        except TaskCancelled:
            raise Cancelled("screening cancelled by the caller") from None
        return await self._store.save_result(result)
